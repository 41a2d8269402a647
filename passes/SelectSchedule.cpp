//===- SelectSchedule.cpp - attach #attn.schedule to attn ops -------------===//
//
// Input: attn.sdpa ops, some possibly carrying a hand-written schedule.
// Output: every attn.sdpa carries an #attn.schedule valid for its shapes.
// The decision itself is ScheduleHeuristics.cpp; this pass only applies it.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"
#include "passes/ScheduleHeuristics.h"

#define DEBUG_TYPE "attn-select-schedule"

namespace mlir::attn {
#define GEN_PASS_DEF_SELECTSCHEDULEPASS
#include "passes/Passes.h.inc"

namespace {
struct SelectSchedulePass final
    : impl::SelectSchedulePassBase<SelectSchedulePass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void SelectSchedulePass::runOnOperation() {
  if (vectorWidth <= 0 || vectorRegisters <= 0) {
    getOperation().emitError()
        << "expected positive vector-width and vector-registers, got "
        << vectorWidth.getValue() << " and " << vectorRegisters.getValue();
    return signalPassFailure();
  }
  CpuTarget target{vectorWidth, vectorRegisters};
  getOperation().walk([&](SdpaOp op) {
    if (op.getScheduleAttr())
      return;
    SdpaOp::Shape shape = op.getShape();
    ScheduleParams p = chooseCpuSchedule(
        {shape.querySeq, shape.kvSeq, shape.headDim, shape.valueDim}, target);
    op.setScheduleAttr(ScheduleAttr::get(op.getContext(), p.tileQ, p.tileKv,
                                         p.vectorWidth, p.qkKeys, p.qkQvecs,
                                         p.pvRows, p.pvVecs));
  });
}

} // namespace mlir::attn
