//===- FlashTileCpu.h - one flash tile on the CPU ---------------*- C++ -*-===//
#ifndef ATTN_PASSES_CPU_FLASHTILECPU_H
#define ATTN_PASSES_CPU_FLASHTILECPU_H

#include "passes/FlashTiling.h"

#include <memory>

namespace mlir::attn {

/// The CPU computation of flash tiles for `op` (register-blocked vector
/// kernels per #attn.schedule), reading masks through `tiling`.
std::unique_ptr<FlashTileComputation>
createCpuFlashTile(SdpaOp op, const FlashBuffers &buffers,
                   FlashTiling &tiling);

/// With kv_splits > 1: one scf.parallel over the query rows that merges the
/// kv chunks' `buffers.partialOut` / `partialLse` into `buffers.out` (and
/// `buffers.lse`, if any).
void buildCpuSplitMerge(OpBuilder &b, SdpaOp op, const FlashBuffers &buffers);

/// The CPU computation of attn.sdpa_probs: the same scores, then
/// exp(score - lse) written to `buffers.out` [B, slots, Sq, Skv], or
/// averaged into slot 0 over the `headCount` heads of the tiling's inner
/// head list (`average`).
std::unique_ptr<FlashTileComputation>
createCpuProbsTile(SdpaProbsOp op, const FlashBuffers &buffers,
                   FlashTiling &tiling, bool average, int64_t headCount);

} // namespace mlir::attn

#endif // ATTN_PASSES_CPU_FLASHTILECPU_H
