//===- LowerBlocksToLoops.cpp - block ops to loops ------------------------===//
//
// Input: the transformer-block ops on static tensors (attn.linear with its
// #attn.gemm_schedule). Output: loops on buffers, one scf.parallel per op
// (two per linear), from passes/cpu/. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"
#include "passes/cpu/BlockOpsCpu.h"

#define DEBUG_TYPE "attn-lower-blocks-to-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_LOWERBLOCKSTOLOOPSPASS
#include "passes/Passes.h.inc"

namespace {
struct LowerBlocksToLoopsPass final
    : impl::LowerBlocksToLoopsPassBase<LowerBlocksToLoopsPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void LowerBlocksToLoopsPass::runOnOperation() {
  BlockLoweringContext ctx{getOperation(), vectorWidth};
  SmallVector<Operation *> ops;
  getOperation().walk([&](Operation *op) {
    if (isa<AttnDialect>(op->getDialect()) && !isa<SdpaOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Value result;
    if (auto linear = dyn_cast<LinearOp>(op)) {
      if (!linear.getScheduleAttr()) {
        op->emitOpError("has no #attn.gemm_schedule; run "
                        "--attn-select-schedule first");
        return signalPassFailure();
      }
      result = lowerLinearToLoops(b, linear);
    } else {
      result = lowerBlockOpToLoops(b, op, ctx);
    }
    if (!result) {
      op->emitOpError("has no CPU lowering");
      return signalPassFailure();
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
  }
}

} // namespace mlir::attn
