//===- InitAttn.h - register everything attn tools need ---------*- C++ -*-===//
//
// One place that lists the dialects, passes and pipelines known to attn-opt
// and attnc, so both tools accept the same IR and pass names.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_TOOLS_INITATTN_H
#define ATTN_TOOLS_INITATTN_H

#include "dialect/AttnDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

namespace mlir::attn {

inline void registerAttnDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect>();
  registerScheduleModels(registry);
  registerAllDialects(registry);
  registerAllExtensions(registry);
}

inline void registerAttnPassesAndPipelines() {
  registerAllPasses();
  registerAttnPasses();
  registerAttnPipelines();
}

} // namespace mlir::attn

#endif // ATTN_TOOLS_INITATTN_H
