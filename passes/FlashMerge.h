//===- FlashMerge.h - merge the kv chunks of split-KV attention -*- C++ -*-===//
//
// The target-independent half of flash-decoding's reduction. With
// kv_splits = n, chunk c of a query row wrote a partial output O_c
// (normalized over its keys) and its log-sum-exp L_c (-inf when the chunk
// saw no key). The row's attention over all keys is their softmax-weighted
// sum:
//
//   M = max_c L_c;   w_c = exp(L_c - M);   W = Σ_c w_c
//   out = Σ_c (w_c / W) · O_c;   lse = M + log W
//
// A row no chunk saw (M = -inf) gets out = 0 and lse = -inf, as the unsplit
// loop gives. M is a NaN-propagating max, so a NaN in any chunk reaches the
// output. The targets own the loops over rows and value columns
// (passes/cpu/FlashMergeCpu.cpp, passes/gpu/FlashTileGpu.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_FLASHMERGE_H
#define ATTN_PASSES_FLASHMERGE_H

#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// `mem` as a 1-D memref (memref.collapse_shape of all its dims).
Value flattenBuffer(OpBuilder &b, Location loc, Value mem);

/// `for c in [0, n)` carrying `init`: `step(b, c, acc)` gives the next value.
Value reduceChunks(OpBuilder &b, Location loc, int64_t n, Value init,
                   function_ref<Value(OpBuilder &, Value, Value)> step);

/// The chunk weights of one query row, built at the builder's insertion
/// point: `partialLse` is the flattened f32 [splits, rows] buffer and `row`
/// the row's index in [0, rows) (rows = B · Hq · Sq).
class SplitMergeRow {
public:
  SplitMergeRow(OpBuilder &b, Location loc, Value partialLse, int64_t splits,
                int64_t rows, Value row);
  /// w_c / W for chunk `c` (0 for a row no chunk saw).
  Value weight(OpBuilder &b, Value c) const;
  /// The row's log-sum-exp M + log W (-inf for a row no chunk saw).
  Value lse(OpBuilder &b) const;
  /// The flat index of (chunk `c`, this row, column `d`) in the flattened
  /// [splits, rows, dv] partial output.
  Value partialIndex(OpBuilder &b, Value c, int64_t dv, Value d) const;

private:
  Value constant(OpBuilder &b, float v) const;
  /// The row's index c · rows + row in chunk `c`'s part of the buffers.
  Value chunkRow(OpBuilder &b, Value c) const;
  Value chunkLse(OpBuilder &b, Value c) const;

  Location loc;
  Value partialLse, row;
  int64_t rows;
  Value empty, safeMax, total, inverse;
};

} // namespace mlir::attn

#endif // ATTN_PASSES_FLASHMERGE_H
