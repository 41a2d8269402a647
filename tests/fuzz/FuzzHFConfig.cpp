//===- FuzzHFConfig.cpp - libFuzzer target: Hugging Face config.json ------===//
//
// The bytes as a config.json: read by the importer, and the description it
// writes parsed and turned into attn IR like `attnc config.json` does.
//
//===----------------------------------------------------------------------===//
#include "tests/fuzz/FuzzCommon.h"

#include "tools/attnc/HFImport.h"
#include "tools/attnc/ModelAST.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr configMgr;
  mlir::attn::fuzz::addQuietBuffer(configMgr, data, size, "config.json");
  // One layer (`--layers 1`): every field is still read and checked,
  // and a config of thousands of layers does not make every input a
  // gigabyte of IR.
  mlir::attn::HFImportOptions options;
  options.layers = 1;
  std::optional<mlir::attn::HFImportResult> imported =
      mlir::attn::importHFConfig(configMgr, options);
  if (!imported)
    return 0;
  llvm::SourceMgr modelMgr;
  mlir::attn::fuzz::addQuietBuffer(
      modelMgr, reinterpret_cast<const uint8_t *>(imported->text.data()),
      imported->text.size(), "imported.model");
  std::optional<mlir::attn::model::Model> model =
      mlir::attn::model::parseModel(modelMgr, imported->name);
  // The importer writes descriptions that parse and build; anything else is
  // a bug in it, reported as a crash.
  if (!model || !mlir::attn::fuzz::buildAndVerify(modelMgr, *model))
    __builtin_trap();
  return 0;
}
