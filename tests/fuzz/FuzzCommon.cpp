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

#include <memory>

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
  // A context interns every attribute, type and location for good; a fresh
  // one every 256 inputs keeps the fuzzer's memory bounded (a whole run in
  // one context grew past 2 GB).
  static std::unique_ptr<MLIRContext> context;
  static unsigned uses = 0;
  if (!context || ++uses % 256 == 0) {
    context = std::make_unique<MLIRContext>(MLIRContext::Threading::DISABLED);
    context->loadDialect<AttnDialect, func::FuncDialect>();
    context->getDiagEngine().registerHandler(
        [](Diagnostic &) { return success(); });
  }
  OwningOpRef<ModuleOp> module = buildModelIR(*context, sourceMgr, model);
  return module && succeeded(verify(*module));
}

} // namespace mlir::attn::fuzz
