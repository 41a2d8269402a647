//===- FlashTileGpu.h - one flash tile in a GPU thread block ----*- C++ -*-===//
#ifndef ATTN_PASSES_GPU_FLASHTILEGPU_H
#define ATTN_PASSES_GPU_FLASHTILEGPU_H

#include "passes/FlashTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <memory>

namespace mlir::attn {

/// Where the kernel's tile data lives: views of the block's dynamic shared
/// memory (`#gpu.address_space<workgroup>`) and the thread's private
/// attributions.
///
/// SIMT kernel (f32 views):
///   query [tile_q, D + 1]: scale · log2(e) · Q rows
///   key, value [tile_kv, D], [tile_kv, Dv]: the current K/V tile
///   scores [tile_q, tile_kv + 1]: the rows' scores
///   keyScale [tile_kv]: 1 / max(||k||, eps) (cosine similarity)
///   acc [Dv], stats [2]: the output row, running max and sum
/// Tensor-core kernel (views of the input type, rows padded by 8):
///   query [tile_q, D + 8], key [tile_kv, D + 8], value [tile_kv, Dv + 8]
///   acc [Dv / 2]: the thread's accumulator fragments, stats [4]: the
///   running max of its two rows, then their partial sums, prefetched [1]
///   (i32): the first key of the K tile in flight or loaded, or -1
struct GpuTileMemory {
  Value thread;    // the thread's index in the block (index)
  int64_t threads; // threads per block (gpuThreadsPerBlock)
  Value query, key, value, scores, keyScale;
  Value acc, stats, prefetched;
};

/// Small builders at `b`'s insertion point, shared by the GPU tile
/// computations (which set `b` in each FlashTileComputation call).
class GpuTileBuilder {
protected:
  explicit GpuTileBuilder(Location loc) : loc(loc) {}
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(*b, loc, v); }
  Value f32(float v) {
    return arith::ConstantFloatOp::create(*b, loc, b->getF32Type(),
                                          llvm::APFloat(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(*b, loc, x, y); }

  OpBuilder *b = nullptr;
  Location loc;
};

/// The GPU computation of flash tiles for `op`: thread `memory.thread` owns
/// tile row `memory.thread` (tile_q threads); `buffers` are device buffers.
std::unique_ptr<FlashTileComputation>
createGpuFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
                   const GpuTileMemory &memory);

/// The tensor-core computation of flash tiles for `op` (f16 or bf16
/// inputs, usesGpuTensorCores): warp w owns tile rows [16w, 16w + 16).
std::unique_ptr<FlashTileComputation>
createMmaFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
                   const GpuTileMemory &memory);

/// The body of the kernel that merges the kv chunks of `op` (kv_splits > 1,
/// passes/FlashMerge.h): thread `linear` computes element `linear` of the
/// flattened out (nothing past its end), and the row's lse at column 0.
/// `buffers` hold 1-D device views of out, lse, partialOut and partialLse.
void buildGpuSplitMerge(OpBuilder &b, SdpaOp op, const FlashBuffers &buffers,
                        Value linear);

/// `modifiers` applied to the score `s` (log2 domain) of tile row `r` (query
/// row `query`, clamped into the sequence) and key `key`; `keyScale` (may be
/// null) gives the key's inverse norm.
Value applyGpuScoreModifiers(OpBuilder &b, Location loc,
                             ArrayRef<ScoreModifierAttrInterface> modifiers,
                             const FlashBuffers &buffers, const QueryTile &tile,
                             Value r, Value query, Value key, int64_t kvSeq,
                             Value s, function_ref<Value()> keyScale);

} // namespace mlir::attn

#endif // ATTN_PASSES_GPU_FLASHTILEGPU_H
