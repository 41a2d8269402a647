//===- Tuner.h - measure schedules on this machine (attnc --tune) -*- C++ -*-===//
//
// For each distinct attention problem of a model (its tuning key: shape,
// mask, modifiers, element types), compile the op alone with candidate
// schedules, time each on this machine, and record the fastest in a tuning
// file (passes/TuningFile.h) that later compiles read with --tuning.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_ATTNC_TUNER_H
#define ATTN_TOOLS_ATTNC_TUNER_H

#include "passes/ScheduleHeuristics.h"
#include "tools/attnc/Compiler.h"

namespace mlir::attn {

struct TuneTarget {
  std::string name; // the tuning file's target key
  ScheduleTarget cpu;
};

/// Tunes the attention ops of the attn-level `module` within
/// `options.tuneBudget` seconds and writes (or updates) `options.tuneFile`.
/// Prints progress to stderr; returns an exit code.
int tune(ModuleOp module, const CompileOptions &options,
         const TuneTarget &target);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTNC_TUNER_H
