//===- ExportSignature.cpp - describe the entry function for the runtime --===//
//
// Input: a module whose entry function takes and returns static f32 tensors.
// Output: the module carries `attn.signature` (the text format documented in
// runtime/AttnRuntime.h) and `attn.entry` (the entry function's symbol).
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "attn-export-signature"

namespace mlir::attn {
#define GEN_PASS_DEF_EXPORTSIGNATUREPASS
#include "passes/Passes.h.inc"

namespace {
struct ExportSignaturePass final
    : impl::ExportSignaturePassBase<ExportSignaturePass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// The entry function: the one marked `attn.entry`, else the only public one.
static func::FuncOp findEntry(ModuleOp module) {
  func::FuncOp entry, onlyPublic;
  int publicCount = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func->hasAttr(kEntryAttrName))
      entry = func;
    if (func.isPublic() && !func.isExternal()) {
      onlyPublic = func;
      ++publicCount;
    }
  }
  if (entry)
    return entry;
  return publicCount == 1 ? onlyPublic : func::FuncOp();
}

/// Appends `<kind> <name> f32 <dims...>` for one tensor, or fails.
static LogicalResult describe(func::FuncOp func, llvm::raw_ostream &os,
                              StringRef kind, Type type, DictionaryAttr attrs,
                              unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || !tensor.getElementType().isF32())
    return func.emitError() << "entry function " << kind << " #" << index
                            << " must be a statically shaped f32 tensor, got "
                            << type;
  std::string name = (kind == "input" ? "arg" : "result") + std::to_string(index);
  if (attrs)
    if (auto given = attrs.getAs<StringAttr>(kNameAttrName))
      name = given.str();
  os << kind << " " << name << " f32";
  for (int64_t dim : tensor.getShape())
    os << " " << dim;
  os << "\n";
  return success();
}

void ExportSignaturePass::runOnOperation() {
  ModuleOp module = getOperation();
  func::FuncOp entry = findEntry(module);
  if (!entry) {
    module.emitError("no entry function: mark one with the `attn.entry` "
                     "attribute or keep exactly one public function");
    return signalPassFailure();
  }
  int64_t flops = 0;
  entry.walk([&](SdpaOp op) { flops += op.getFlops(); });

  // The model's name is the entry function's `attn.name`, else its symbol.
  StringRef name = entry.getSymName();
  if (auto given = entry->getAttrOfType<StringAttr>(kNameAttrName))
    name = given.getValue();
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "attnc-model 1\nname " << name << "\nflops " << flops << "\n";
  FunctionType type = entry.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs()))
    if (failed(describe(entry, os, "input", input, entry.getArgAttrDict(i), i)))
      return signalPassFailure();
  for (auto [i, result] : llvm::enumerate(type.getResults()))
    if (failed(describe(entry, os, "output", result,
                        entry.getResultAttrDict(i), i)))
      return signalPassFailure();
  module->setAttr(kSignatureAttrName, StringAttr::get(&getContext(), text));
  module->setAttr(kEntryAttrName,
                  FlatSymbolRefAttr::get(entry.getSymNameAttr()));
}

} // namespace mlir::attn
