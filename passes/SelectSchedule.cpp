//===- SelectSchedule.cpp - attach #attn.schedule to attn ops -------------===//
//
// Input: ops implementing ScheduledOpInterface, some possibly carrying a
// hand-written schedule. Output: every such op carries a schedule valid for
// its shapes. Each op kind chooses through its interface model (attn.sdpa:
// ScheduleModels.cpp, over ScheduleHeuristics.cpp); this pass only walks
// the interface (with the user's overrides) and, on request, reports.
//
//===----------------------------------------------------------------------===//
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
  std::string error;
  std::optional<ScheduleOverride> overrides =
      parseScheduleOverride(scheduleOverride, error);
  if (!overrides) {
    getOperation().emitError() << "invalid schedule override: " << error;
    return signalPassFailure();
  }
  CpuTarget target{vectorWidth, vectorRegisters};
  WalkResult walk = getOperation().walk([&](ScheduledOpInterface op) {
    if (!op.getSchedule() && failed(op.selectSchedule(target, *overrides)))
      return WalkResult::interrupt();
    if (report) {
      std::string text;
      llvm::raw_string_ostream os(text);
      op.describeSchedule(os);
      op->emitRemark(text);
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace mlir::attn
