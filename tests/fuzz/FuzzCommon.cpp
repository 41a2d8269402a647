//===- FuzzCommon.cpp - shared pieces of the libFuzzer targets ------------===//
#include "tests/fuzz/FuzzCommon.h"

#include "dialect/AttnDialect.h"
#include "tools/attnc/IRGen.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mlir::attn::fuzz {

void addQuietBuffer(llvm::SourceMgr &sourceMgr, const uint8_t *data,
                    size_t size, const char *name) {
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(data), size), name),
      llvm::SMLoc());
  sourceMgr.setDiagHandler([](const llvm::SMDiagnostic &, void *) {});
}

bool buildAndVerify(const llvm::SourceMgr &sourceMgr,
                    const model::Model &model) {
  static MLIRContext *context = [] {
    auto *ctx = new MLIRContext(MLIRContext::Threading::DISABLED);
    ctx->loadDialect<AttnDialect, func::FuncDialect>();
    ctx->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return ctx;
  }();
  OwningOpRef<ModuleOp> module = buildModelIR(*context, sourceMgr, model);
  return module && succeeded(verify(*module));
}

} // namespace mlir::attn::fuzz
