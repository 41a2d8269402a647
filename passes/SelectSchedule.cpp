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
#include "passes/TuningFile.h"

#define DEBUG_TYPE "attn-select-schedule"

namespace mlir::attn {
#define GEN_PASS_DEF_SELECTSCHEDULEPASS
#include "passes/Passes.h.inc"

namespace {
struct SelectSchedulePass final
    : impl::SelectSchedulePassBase<SelectSchedulePass> {
  using Base::Base;
  void runOnOperation() override;
  void emitReport(ScheduledOpInterface op, const ScheduleTarget &target,
                  llvm::StringRef source);
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
  std::optional<TuningFile> tuning;
  if (!tuningFile.empty()) {
    tuning = TuningFile::load(tuningFile, error);
    if (!tuning) {
      getOperation().emitError() << error;
      return signalPassFailure();
    }
  }
  ScheduleTarget cpu{vectorWidth, vectorRegisters};
  if (!gpuArch.empty()) {
    cpu.gpu = lookupGpuArch(gpuArch);
    if (!cpu.gpu) {
      getOperation().emitError() << "unknown GPU architecture '"
                                 << gpuArch.getValue() << "' (supported: "
                                 << listGpuArchs() << ")";
      return signalPassFailure();
    }
  }
  WalkResult walk = getOperation().walk([&](ScheduledOpInterface op) {
    if (op.getSchedule()) {
      if (report)
        emitReport(op, cpu, "given in the IR");
      return WalkResult::advance();
    }
    // The tuned schedule, if the file has one for this op and target; the
    // --schedule fields on top.
    const TuningEntry *tuned =
        tuning ? tuning->lookup(target.getValue(), op.getTuningKey()) : nullptr;
    ScheduleOverride fields = *overrides;
    if (tuned) {
      std::optional<ScheduleOverride> measured =
          parseScheduleOverride(tuned->schedule, error);
      if (!measured) {
        op->emitError() << "the tuning file's schedule for this op is "
                           "invalid: "
                        << error;
        return WalkResult::interrupt();
      }
      fields = measured->overlaidWith(*overrides);
    }
    if (failed(op.selectSchedule(cpu, fields)))
      return WalkResult::interrupt();
    if (report)
      emitReport(op, cpu, std::string(tuned ? "tuning file" : "heuristic") +
                         (overrides->empty() ? "" : " + --schedule"));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

void SelectSchedulePass::emitReport(ScheduledOpInterface op,
                                    const ScheduleTarget &target,
                                    llvm::StringRef source) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op.describeSchedule(target, os);
  os << "; schedule from: " << source;
  op->emitRemark(text);
}

} // namespace mlir::attn
