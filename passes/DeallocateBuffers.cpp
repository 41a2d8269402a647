//===- DeallocateBuffers.cpp - buffer deallocation around GPU host code ---===//
//
// The upstream ownership-based deallocation, run function by function,
// leaving out the functions that hold GPU host code (kGpuHostAttrName).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::attn {
#define GEN_PASS_DEF_DEALLOCATEBUFFERSPASS
#include "passes/Passes.h.inc"

namespace {
struct DeallocateBuffersPass final
    : impl::DeallocateBuffersPassBase<DeallocateBuffersPass> {
  using Base::Base;
  void runOnOperation() override {
    OpPassManager pm(func::FuncOp::getOperationName());
    pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func->hasAttr(kGpuHostAttrName) && failed(runPipeline(pm, func)))
        return signalPassFailure();
  }
};
} // namespace

} // namespace mlir::attn
