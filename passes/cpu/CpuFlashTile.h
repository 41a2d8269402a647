//===- CpuFlashTile.h - the CPU flash tile computation ----------*- C++ -*-===//
//
// Internal to passes/cpu/: the class behind createCpuFlashTile and
// createCpuProbsTile, whose methods live in two files:
//
//   - FlashTileCpu.cpp: the tile loop (Q packing, the score and value
//     kernels, the online softmax, the output and lse);
//   - FlashScoresCpu.cpp: what the score epilogue and attention maps add
//     (the modifiers' VectorScoreSite, row norms of cosine similarity,
//     half-precision reads, the probabilities).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_CPU_CPUFLASHTILE_H
#define ATTN_PASSES_CPU_CPUFLASHTILE_H

#include "passes/FlashTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::attn::cpu {

/// Whether a buffer holds f32 (else f16 or bf16, converted as read).
inline bool isF32(Value mem) {
  return cast<ShapedType>(mem.getType()).getElementType().isF32();
}

/// What a tile computes: attention (online softmax, P·V), or the
/// probabilities exp(score - lse) of attn.sdpa_probs.
struct TileOutput {
  bool probabilities = false;
  bool average = false;   // probabilities: the mean over the inner heads
  int64_t headCount = 1;  // probabilities: how many heads are averaged
};

class CpuFlashTile final : public FlashTileComputation {
public:
  CpuFlashTile(AttentionOpInterface op, const FlashBuffers &buffers,
               FlashTiling &tiling, TileOutput output)
      : loc(op->getLoc()), shape(op.getShape()),
        schedule(op.getFlashSchedule()), scale(op.getScaleOrDefault()),
        buffers(buffers), tiling(tiling), vw(schedule.getVectorWidth()),
        tileQ(schedule.getTileQ()), tileKv(schedule.getTileKv()),
        modifiers(op.getScoreModifiers()), normalize(op.normalizesRows()),
        output(output) {
    if (buffers.bias) {
      ArrayRef<int64_t> biasShape =
          cast<MemRefType>(buffers.bias.getType()).getShape();
      biasBatches = biasShape[0];
      biasHeads = biasShape[1];
    }
  }

  void beginQueryTile(OpBuilder &b, const QueryTile &tile) override;
  void computeKvTile(OpBuilder &b, Value kv0, bool boundary) override;
  void endQueryTile(OpBuilder &b) override;

private:
  // Helpers on the builder `b` of the current call.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(*b, loc, v); }
  Value f32(float v) {
    return arith::ConstantFloatOp::create(*b, loc, b->getF32Type(),
                                          APFloat(v));
  }
  VectorType vecType() { return VectorType::get({vw}, b->getF32Type()); }
  Value splat(float v) {
    return arith::ConstantOp::create(
        *b, loc, DenseElementsAttr::get(vecType(), b->getF32FloatAttr(v)));
  }
  Value negInf() { return splat(-std::numeric_limits<float>::infinity()); }
  Value load(Value mem, ValueRange indices) {
    return vector::LoadOp::create(*b, loc, vecType(), mem, indices);
  }
  Value loadScalar(Value mem, ValueRange indices) {
    return memref::LoadOp::create(*b, loc, mem, indices);
  }
  void store(Value v, Value mem, ValueRange indices) {
    vector::StoreOp::create(*b, loc, v, mem, indices);
  }
  /// max of score vectors. nnan/nsz make it one vmaxps instead of a
  /// NaN-propagating sequence; a NaN score (only from NaN inputs) still
  /// reaches the output through exp2(S - m) in the softmax update.
  Value maxScores(Value x, Value y) {
    return arith::MaximumFOp::create(
        *b, loc, x, y,
        arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(*b, loc, x, y); }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(*b, loc, x, y);
  }
  Value alloc(ArrayRef<int64_t> dims) {
    auto type = MemRefType::get(dims, b->getF32Type());
    return memref::AllocOp::create(*b, loc, type, ValueRange{},
                                   b->getI64IntegerAttr(64));
  }
  /// `for iv = lb to ub step` with no loop-carried values.
  void loop(Value lb, Value ub, int64_t step, function_ref<void(Value)> body);

  Value iota(Type elementType);
  /// `x` (a scalar or vector of f32, f16 or bf16) as f32.
  Value widen(OpBuilder &nb, Value x);
  /// vector<vw x f32> from `mem` at `indices`, converting half types.
  Value loadWide(OpBuilder &nb, Value mem, ValueRange indices);
  /// `rows` K or V rows from `firstKey` (clamped below Skv in boundary
  /// tiles), columns [col0, col0 + cols), as f32 into `block` [rows, cols].
  void convertBlock(Value source, Value block, Value firstKey, int64_t rows,
                    Value col0, int64_t cols, bool boundary);
  void packQueryTile(float packScale);
  void normalizeQueryTile(float packScale);
  void buildKeyScales(Value kv0, bool boundary);
  Value applyModifiers(Value s, Value r, Value key, Value keyRow, Value c);
  /// One block of kernel 1's keys: their tile-local index, absolute index
  /// and row read (clamped below Skv in boundary tiles).
  struct ScoreBlock {
    SmallVector<Value> local, keys, rows;
  };
  void buildQueryRows();
  void buildScores(Value kv0, bool boundary);
  void buildDotScores(const ScoreBlock &block, bool boundary);
  void finishScores(const ScoreBlock &block, Value r, ArrayRef<Value> column,
                    bool inTile, bool boundary);
  void prefetchRows(Value firstKey, int64_t rows);
  void buildSoftmaxUpdate();
  void buildAccumulate(Value kv0, bool boundary);
  Value keysInTile(Value kv0, bool boundary);
  void beginProbabilities();
  void buildProbabilities(Value kv0, bool boundary);

  Location loc;
  AttentionShape shape;
  ScheduleAttr schedule;
  float scale;
  FlashBuffers buffers;
  FlashTiling &tiling;
  int64_t vw, tileQ, tileKv;
  SmallVector<ScoreModifierAttrInterface> modifiers;
  bool normalize;
  TileOutput output;
  int64_t biasBatches = 0, biasHeads = 0;

  OpBuilder *b = nullptr;
  QueryTile tile;
  Value qPack;    // head_dim × tile_q: scaled, transposed query tile
  Value qRows;    // tile_q × head_dim: qPack transposed back (qk_dot only)
  Value scores;   // tile_kv × tile_q: Sᵀ, then Pᵀ
  Value acc;      // tile_q × value_dim: unnormalized output
  Value rowMax;   // tile_q: running max m
  Value tileMax;  // tile_q: column max of the kv tile's scores (attention)
  Value rowSum;   // tile_q: running sum l
  Value rowScale; // tile_q: α of the current kv tile
  Value keyScale; // tile_kv: 1 / max(||k||, eps) (normalize only)
  Value biasFlat; // the bias as a 1-D buffer
  Value biasSlab; // offset of this (batch, head)'s [Sq, Skv] bias slab
  Value lseRows;  // tile_q: log2(e) · lse (probabilities; 0 for -inf rows)
  Value keyBlock;   // qk_keys × head_dim f32 K (half-precision keys only)
  Value valuePanel; // tile_kv × pv_vecs·vw f32 V (half-precision values)
  Value outSlot;  // the result head written (probabilities)
};

} // namespace mlir::attn::cpu

#endif // ATTN_PASSES_CPU_CPUFLASHTILE_H
