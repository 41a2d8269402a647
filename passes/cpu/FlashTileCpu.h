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

} // namespace mlir::attn

#endif // ATTN_PASSES_CPU_FLASHTILECPU_H
