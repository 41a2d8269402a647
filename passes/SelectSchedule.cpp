//===- SelectSchedule.cpp - attach #attn.schedule to attn ops -------------===//
//
// Input: attn.sdpa ops, some possibly carrying a hand-written schedule.
// Output: every attn.sdpa carries an #attn.schedule valid for its shapes.
// The decision itself is ScheduleHeuristics.cpp; this pass applies it (with
// the user's overrides) and, on request, reports it as remarks.
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

/// The report remark: schedule, FLOPs, tile classification, working set.
static void emitReport(SdpaOp op) {
  SdpaOp::Shape s = op.getShape();
  ScheduleAttr schedule = op.getScheduleAttr();
  MaskAttr mask = op.getMaskOrDefault();
  TileCounts tiles = countTiles(mask, s.querySeq, s.kvSeq,
                                schedule.getTileQ(), schedule.getTileKv());
  int64_t tq = schedule.getTileQ(), tk = schedule.getTileKv();
  // Per-thread scratch (packed Q, score tile, accumulator, m/l/α) and the
  // K/V tile streamed per step, in bytes.
  int64_t scratch = 4 * (s.headDim * tq + tk * tq + tq * s.valueDim + 3 * tq);
  int64_t kvTile = 4 * tk * (s.headDim + s.valueDim);
  InFlightDiagnostic remark = op.emitRemark();
  remark << "attn.sdpa B=" << s.batch << " Hq=" << s.queryHeads
         << " Hkv=" << s.kvHeads << " Sq=" << s.querySeq << " Skv=" << s.kvSeq
         << " D=" << s.headDim << " Dv=" << s.valueDim << " mask="
         << mask.describe() << ": " << schedule << "; "
         << op.getFlops() << " FLOP; kv tiles per head: " << tiles.full << " full, "
         << tiles.boundary << " boundary, " << tiles.skipped
         << " skipped; working set " << scratch << " B scratch per thread + "
         << kvTile << " B per K/V tile";
}

void SelectSchedulePass::runOnOperation() {
  if (vectorWidth <= 0 || vectorRegisters <= 0) {
    getOperation().emitError()
        << "expected positive vector-width and vector-registers, got "
        << vectorWidth.getValue() << " and " << vectorRegisters.getValue();
    return signalPassFailure();
  }
  std::string error;
  std::optional<ScheduleOverride> overrides =
      parseScheduleOverride(scheduleOverride, error);
  if (!overrides) {
    getOperation().emitError() << "invalid schedule override: " << error;
    return signalPassFailure();
  }
  CpuTarget target{vectorWidth, vectorRegisters};
  WalkResult walk = getOperation().walk([&](SdpaOp op) {
    if (!op.getScheduleAttr()) {
      SdpaOp::Shape shape = op.getShape();
      ScheduleParams p = chooseCpuSchedule(
          {shape.querySeq, shape.kvSeq, shape.headDim, shape.valueDim},
          target);
      overrides->applyTo(p);
      auto emitError = [&] {
        return op.emitOpError("schedule override does not fit this op: ");
      };
      auto schedule = ScheduleAttr::getChecked(
          emitError, op.getContext(), p.tileQ, p.tileKv, p.vectorWidth,
          p.qkKeys, p.qkQvecs, p.pvRows, p.pvVecs);
      if (!schedule)
        return WalkResult::interrupt();
      op.setScheduleAttr(schedule);
      if (failed(op.verify()))
        return WalkResult::interrupt();
    }
    if (report)
      emitReport(op);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace mlir::attn
