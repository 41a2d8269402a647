//===- EmitEntryPoint.cpp - the ABI between generated code and runtime ----===//
//
// Input: LLVM dialect; the module carries `attn.signature` and `attn.entry`
// (from --attn-export-signature), and the entry function takes one bare
// pointer per input and output (bare-pointer memref calling convention).
// Output: `attn_model_signature` (NUL-terminated string) and
// `void attn_model_run(void **buffers)`; the two module attributes are
// consumed.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#define DEBUG_TYPE "attn-emit-entry-point"

namespace mlir::attn {
#define GEN_PASS_DEF_EMITENTRYPOINTPASS
#include "passes/Passes.h.inc"

namespace {
struct EmitEntryPointPass final
    : impl::EmitEntryPointPassBase<EmitEntryPointPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void EmitEntryPointPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto signature = module->getAttrOfType<StringAttr>(kSignatureAttrName);
  auto entryName = module->getAttrOfType<FlatSymbolRefAttr>(kEntryAttrName);
  if (!signature || !entryName) {
    module.emitError("missing attn.signature/attn.entry; run "
                     "--attn-export-signature first");
    return signalPassFailure();
  }
  auto entry = module.lookupSymbol<LLVM::LLVMFuncOp>(entryName.getAttr());
  if (!entry) {
    module.emitError() << "entry function " << entryName
                       << " is not an llvm.func; run the LLVM lowering first";
    return signalPassFailure();
  }
  MLIRContext *ctx = &getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  unsigned tensors = 0;
  for (StringRef line : llvm::split(signature.getValue(), '\n'))
    if (line.starts_with("input ") || line.starts_with("output "))
      ++tensors;
  LLVM::LLVMFunctionType entryType = entry.getFunctionType();
  if (entryType.getNumParams() != tensors ||
      !llvm::all_of(entryType.getParams(),
                    [&](Type t) { return t == ptrType; })) {
    entry.emitError() << "expected the entry function to take " << tensors
                      << " pointers (bare-pointer memref convention), got "
                      << entryType;
    return signalPassFailure();
  }

  Location loc = entry.getLoc();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  std::string text = signature.getValue().str();
  text.push_back('\0');
  auto arrayType = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
  LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                         LLVM::Linkage::External, "attn_model_signature",
                         b.getStringAttr(text));

  auto runType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                             {ptrType});
  auto run = LLVM::LLVMFuncOp::create(b, loc, "attn_model_run", runType);
  b.setInsertionPointToStart(run.addEntryBlock(b));
  Value buffers = run.getArgument(0);
  SmallVector<Value> args;
  for (unsigned i = 0; i < tensors; ++i) {
    Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType, buffers,
                                     ArrayRef<LLVM::GEPArg>{int32_t(i)});
    args.push_back(LLVM::LoadOp::create(b, loc, ptrType, slot));
  }
  LLVM::CallOp::create(b, loc, entry, args);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  // attn.* attributes have no LLVM meaning: drop them before translation.
  module->removeAttr(kSignatureAttrName);
  module->removeAttr(kEntryAttrName);
  entry->removeAttr(kEntryAttrName);
  entry->removeAttr(kNameAttrName);
  for (unsigned i = 0; i < tensors; ++i)
    entry.removeArgAttr(i, kNameAttrName);
}

} // namespace mlir::attn
