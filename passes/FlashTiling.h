//===- FlashTiling.h - which flash-attention tiles run ----------*- C++ -*-===//
//
// The target-independent half of the flash lowering: the iteration over
// (batch, query head or head group, query tile, kv chunk), the run-time mask facts of a batch entry
// (valid lengths, segment keys), the per-row visibility of a query tile, and
// the loop over the kv tiles the mask leaves live, each classified as full or
// boundary. What one tile computes is the target's business: it implements
// FlashTileComputation (passes/cpu/ for the CPU).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_FLASHTILING_H
#define ATTN_PASSES_FLASHTILING_H

#include "dialect/AttnOps.h"

namespace mlir::attn {

/// The buffers of one attention op (memrefs; the optional ones may be null).
struct FlashBuffers {
  Value query, key, value, out;
  Value kvSegments, kvLengths, qLengths;
  Value qSegments; // the queries' ids: q_segments, else kv_segments
  Value bias;      // the bias operand (#attn.bias)
  Value lse;       // the log-sum-exp [B, Hq, Sq]: sdpa's result, probs' input
  // With kv_splits > 1, what each kv chunk writes instead of out and lse:
  // f32 [splits, B, Hq, Sq, Dv] and [splits, B, Hq, Sq].
  Value partialOut, partialLse;
};

/// `x` (a scalar or vector of f32, f16 or bf16) as f32: operands of either
/// precision are read into f32 sums.
Value widenToF32(OpBuilder &b, Location loc, Value x);
/// A row's log-sum-exp from its running max `m` (log2 units) and sum `l`:
/// ln 2 · (m + log2 l), or -inf where `seen` is false.
Value buildRowLse(OpBuilder &b, Location loc, Value m, Value l, Value seen);
/// `tensor` as a read-only buffer (bufferization.to_buffer); null for null.
Value bufferOfTensor(OpBuilder &b, Location loc, Value tensor);
/// A new buffer for the tensor `result`; null for null.
Value allocResultBuffer(OpBuilder &b, Location loc, Value result);
/// Replaces the uses of `result` by `buffer` (bufferization.to_tensor).
void replaceResultWithBuffer(OpBuilder &b, Location loc, Value result,
                             Value buffer);

/// The input buffers attn.sdpa and attn.sdpa_probs share.
template <typename OpT>
FlashBuffers bufferAttentionInputs(OpBuilder &b, OpT op) {
  Location loc = op.getLoc();
  FlashBuffers buffers;
  buffers.query = bufferOfTensor(b, loc, op.getQuery());
  buffers.key = bufferOfTensor(b, loc, op.getKey());
  buffers.kvSegments = bufferOfTensor(b, loc, op.getKvSegments());
  buffers.qSegments = bufferOfTensor(b, loc, op.getQuerySegments());
  buffers.kvLengths = bufferOfTensor(b, loc, op.getKvLengths());
  buffers.qLengths = bufferOfTensor(b, loc, op.getQLengths());
  buffers.bias = bufferOfTensor(b, loc, op.getBias());
  return buffers;
}

/// All buffers of attn.sdpa: its inputs, and new ones for out and lse.
inline FlashBuffers bufferSdpa(OpBuilder &b, SdpaOp op) {
  FlashBuffers buffers = bufferAttentionInputs(b, op);
  buffers.value = bufferOfTensor(b, op.getLoc(), op.getValue());
  buffers.out = allocResultBuffer(b, op.getLoc(), op.getResult());
  buffers.lse = allocResultBuffer(b, op.getLoc(), op.getLse());
  return buffers;
}

/// Where a tile row stores its result: `out` and `lse` (either may be null
/// for lse) at indices `at` followed by the value column for out.
struct RowOutput {
  Value out, lse;
  SmallVector<Value, 4> at;
  /// `at` followed by the value column `column`: where out's element goes.
  SmallVector<Value, 5> outAt(Value column) const {
    SmallVector<Value, 5> indices(at.begin(), at.end());
    indices.push_back(column);
    return indices;
  }
};

/// One query tile, as the tile computation sees it. Tile row r is query
/// q0 + r / heads of query head qHead + r % heads (heads_per_tile; with
/// one head, row r is query q0 + r of qHead).
struct QueryTile {
  Value batch, qHead, kvHead; // index; qHead is the tile's first head
  Value slot;                 // with inner heads: the head's place in the list
  Value split;                // with kv_splits > 1: the kv chunk
  Value q0;                   // first query row
  Value position0;            // pos(q0) on the key axis (#attn.mask)
  Value rows;                 // tile rows inside the query sequence
  Value validRows;            // tile rows below the batch's q_len (<= rows)
  int64_t heads = 1;          // query heads per tile

  /// The query row and the query head of tile row `r`.
  Value query(OpBuilder &b, Location loc, Value r) const;
  Value head(OpBuilder &b, Location loc, Value r) const;
  /// Where tile row `r` (inside the sequence) goes: out and lse at [batch,
  /// head, query]; with kv splits, the f32 partial buffers at [split,
  /// batch, head, query] (partial lse always).
  RowOutput output(OpBuilder &b, Location loc, const FlashBuffers &buffers,
                   Value r) const;
};

/// Per-target computation of the tiles of one query tile.
class FlashTileComputation {
public:
  virtual ~FlashTileComputation() = default;
  /// Before the kv loop: pack the query tile, reset the running statistics.
  virtual void beginQueryTile(OpBuilder &b, const QueryTile &tile) = 0;
  /// One kv tile of `tile_kv` keys from `kv0`; `boundary` tiles must test
  /// FlashTiling::buildVisible per element (they may be partial or masked).
  virtual void computeKvTile(OpBuilder &b, Value kv0, bool boundary) = 0;
  /// After the kv loop: normalize and store rows [0, rows), zeros from
  /// validRows on.
  virtual void endQueryTile(OpBuilder &b) = 0;
  /// Whether FlashTiling stores every row's visible keys in a table per
  /// query tile (which buildVisible reads). A computation that owns one row
  /// per thread asks FlashTiling::buildRowVisibility for it instead.
  virtual bool usesRowTable() const { return true; }
};

/// The keys one query row sees in boundary tiles: [begin, end), plus the
/// global keys below limit (index values).
struct RowVisibility {
  Value begin, end, limit;
};

/// Emits the tile iteration of one op and asks `computation` for the tiles.
class FlashTiling {
public:
  /// With `innerHeads`, a parallel iteration is a (batch, query tile) and
  /// runs the listed query heads one after another (QueryTile::slot is the
  /// place in the list); without, it is one (batch, query head, query tile).
  FlashTiling(AttentionOpInterface op, const FlashBuffers &buffers,
              ArrayRef<int64_t> innerHeads = {});

  /// The number of parallel iterations.
  int64_t getNumIterations() const;
  /// The body of parallel iteration `linear` at the builder's insertion
  /// point.
  void buildIteration(OpBuilder &b, Value linear,
                      FlashTileComputation &computation);
  /// In a boundary tile: which of the `vw` query rows from tile row `r`
  /// see key `key` (absolute index), as a vector<vw x i1>.
  Value buildVisible(OpBuilder &b, Value r, Value key, int64_t vw);
  /// Inside the query tile (from beginQueryTile on): the keys tile row `r`
  /// sees, computed from the mask at the builder's insertion point.
  RowVisibility buildRowVisibility(OpBuilder &b, const QueryTile &tile,
                                   Value r);
  /// Whether the row of `row` sees key `key` (index), as an i1.
  Value buildVisible(OpBuilder &b, const RowVisibility &row, Value key);
  /// In computeKvTile: the end of the query tile's kv loop, in kv tiles
  /// (index; the tiles before it that the loop visits are not known).
  Value getKvTileEnd() const { return kvTileEnd; }

private:
  IRMaskRuntime buildRuntime(OpBuilder &b, Value batch);
  /// begin <= key < end, or (with global runs) a global key below limit;
  /// on index or i32 values, scalars or vectors alike, each operand built
  /// when needed.
  Value visibleFrom(OpBuilder &b, function_ref<Value()> begin,
                    function_ref<Value()> end, function_ref<Value()> limit,
                    Value key, function_ref<Value()> globalKey);
  void buildQueryTile(OpBuilder &b, QueryTile qt,
                      FlashTileComputation &computation);
  void buildRowInfo(OpBuilder &b, const QueryTile &tile);
  void buildKvLoop(OpBuilder &b, const QueryTile &tile,
                   FlashTileComputation &computation);

  Location loc;
  AttentionShape shape;
  MaskAttrInterface mask;
  SmallVector<KeyRange<int64_t>> globalRuns;
  FlashBuffers buffers;
  int64_t tileQ, tileKv;
  int64_t headsPerTile, kvSplits;
  int64_t queriesPerTile; // tile_q / heads_per_tile
  SmallVector<int64_t> innerHeads;
  // Per query tile: the keys each row sees in boundary tiles, as i32
  // [begin, end) plus the limit below which global keys are visible.
  Value rowBegin, rowEnd, rowLimit;
  IRMaskRuntime runtime; // the current query tile's batch entry
  Value kvTileEnd;       // the current kv loop's end (getKvTileEnd)
};

} // namespace mlir::attn

#endif // ATTN_PASSES_FLASHTILING_H
