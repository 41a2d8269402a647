//===- FuzzModel.cpp - libFuzzer target: model descriptions ---------------===//
//
// The bytes as a model description: parsed, turned into attn IR (which runs
// every op's checks and the verifier) and verified again as a module. Bad
// input must end in a diagnostic, never a crash, a sanitizer report or a
// hang.
//
//===----------------------------------------------------------------------===//
#include "tests/fuzz/FuzzCommon.h"

#include "tools/attnc/IRGen.h"
#include "tools/attnc/ModelAST.h"

#include "mlir/IR/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::SourceMgr sourceMgr;
  mlir::attn::fuzz::addQuietBuffer(sourceMgr, data, size, "fuzz.model");
  std::optional<mlir::attn::model::Model> model =
      mlir::attn::model::parseModel(sourceMgr, "fuzz");
  if (model)
    mlir::attn::fuzz::buildAndVerify(sourceMgr, *model);
  return 0;
}
