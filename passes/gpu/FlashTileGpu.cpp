//===- FlashTileGpu.cpp - one flash tile in a GPU thread block ------------===//
//
// The f32 SIMT tile computation: one thread per tile row r = thread id
// (query query(r) of head head(r): with heads_per_tile = 1 query q0 + r).
//
//   begin:   qS[r, :] = scale · log2(e) · Q[query(r), :] (own row, no sync)
//            m = -inf, l = 0, acc = 0                     (registers)
//   kv tile: barrier; the block copies K/V rows kv0.. into kS/vS (widened to
//            f32, consecutive threads on consecutive elements); barrier
//            s_j = Σ_d qS[r, d] · kS[j, d], modifiers, mask  -> sS[r, j]
//            m' = max(m, max_j s_j); α = exp2(m - m'); p_j = exp2(s_j - m')
//            l = α·l + Σ p_j;  acc = α·acc + Σ p_j · vS[j, :]
//   end:     out[query(r), :] = acc / l (0 where l = 0 or r >= valid rows);
//            lse = ln 2 · (m + log2 l); with kv splits both go to the f32
//            partial buffers of the block's chunk
//
// Also here: the body of the split-KV merge kernel (buildGpuSplitMerge).
//
// Every thread of a block runs the same kv loop (its bounds and the tile
// classes come from FlashTiling and depend on the block only), so the
// barriers are reached uniformly. Reads of qS and sS walk a column across
// threads, which the padded row strides spread over the banks; kS and vS
// rows are read by all threads at once (broadcast).
//
//===----------------------------------------------------------------------===//
#include "passes/gpu/FlashTileGpu.h"
#include "passes/FlashMerge.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::attn {

namespace {

class GpuFlashTile final : public FlashTileComputation, GpuTileBuilder {
public:
  GpuFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
               const GpuTileMemory &memory)
      : GpuTileBuilder(op.getLoc()), shape(op.getShape()), buffers(buffers),
        tiling(tiling), mem(memory), modifiers(op.getScoreModifiers()),
        normalize(op.normalizesRows()),
        tileKv(op.getScheduleAttr().getTileKv()),
        packScale(op.getScaleOrDefault() * llvm::numbers::log2ef) {}

  bool usesRowTable() const override { return false; }
  void beginQueryTile(OpBuilder &builder, const QueryTile &qt) override;
  void computeKvTile(OpBuilder &builder, Value kv0, bool boundary) override;
  void endQueryTile(OpBuilder &builder) override;

private:
  Value minIdx(Value x, Value y) {
    return arith::MinUIOp::create(*b, loc, x, y);
  }
  Value load(Value m, ValueRange at) {
    return memref::LoadOp::create(*b, loc, m, at);
  }
  void store(Value v, Value m, ValueRange at) {
    memref::StoreOp::create(*b, loc, v, m, at);
  }
  Value widen(Value x) { return widenToF32(*b, loc, x); }
  VectorType rowType(int64_t n) {
    return VectorType::get({n}, b->getF32Type());
  }
  /// scf.for [from, to) step `step` with f32 or vector carried values.
  ValueRange loop(Value from, Value to, Value step, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// The block's threads copy rows [kv0, kv0 + tile_kv) of `source` (keys
  /// past the end clamped to the last) into `tileMem`, widened to f32.
  void copyTile(Value source, Value tileMem, Value kv0, int64_t cols);
  /// 1 / max(||row||, eps) of `cols` elements `element(d)`.
  Value inverseNorm(int64_t cols, function_ref<Value(Value)> element);

  AttentionShape shape;
  FlashBuffers buffers;
  FlashTiling &tiling;
  GpuTileMemory mem;
  SmallVector<ScoreModifierAttrInterface> modifiers;
  bool normalize;
  int64_t tileKv;
  float packScale;
  // The current query tile and the thread's row.
  QueryTile tile;
  RowVisibility row;
  Value query; // q0 + thread, clamped to the last query (index)
};

ValueRange GpuFlashTile::loop(
    Value from, Value to, Value step, ValueRange init,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = scf::ForOp::create(
      *b, loc, from, to, step, init,
      [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
        OpBuilder *outer = b;
        b = &nb;
        scf::YieldOp::create(nb, loc, body(iv, args));
        b = outer;
      });
  return forOp.getResults();
}

Value GpuFlashTile::inverseNorm(int64_t cols,
                                function_ref<Value(Value)> element) {
  Value sum = loop(idx(0), idx(cols), idx(1), ValueRange{f32(0.0f)},
                   [&](Value d, ValueRange acc) -> SmallVector<Value> {
                     Value x = element(d);
                     return {math::FmaOp::create(*b, loc, x, x, acc[0])};
                   })[0];
  Value norm = arith::MaximumFOp::create(
      *b, loc, math::SqrtOp::create(*b, loc, sum),
      f32(static_cast<float>(kCosineNormEpsilon)));
  return arith::DivFOp::create(*b, loc, f32(1.0f), norm);
}

void GpuFlashTile::beginQueryTile(OpBuilder &builder, const QueryTile &qt) {
  b = &builder;
  tile = qt;
  row = tiling.buildRowVisibility(*b, tile, mem.thread);
  query = minIdx(tile.query(*b, loc, mem.thread), idx(shape.querySeq - 1));
  Value head = tile.head(*b, loc, mem.thread);
  auto element = [&](Value d) {
    return widen(load(buffers.query, {tile.batch, head, query, d}));
  };
  // Cosine similarity divides the row by its norm first.
  Value factor = f32(packScale);
  if (normalize)
    factor = arith::MulFOp::create(*b, loc, factor,
                                   inverseNorm(shape.headDim, element));
  loop(idx(0), idx(shape.headDim), idx(1), {},
       [&](Value d, ValueRange) -> SmallVector<Value> {
         store(arith::MulFOp::create(*b, loc, element(d), factor), mem.query,
               {mem.thread, d});
         return {};
       });
  vector::StoreOp::create(
      *b, loc,
      arith::ConstantOp::create(*b, loc,
                                DenseElementsAttr::get(rowType(shape.valueDim),
                                                       0.0f)),
      mem.acc, ValueRange{idx(0)});
  store(f32(-std::numeric_limits<float>::infinity()), mem.stats, {idx(0)});
  store(f32(0.0f), mem.stats, {idx(1)});
}

void GpuFlashTile::copyTile(Value source, Value tileMem, Value kv0,
                            int64_t cols) {
  Value threads = idx(mem.threads), width = idx(cols);
  loop(mem.thread, idx(tileKv * cols), threads, {},
       [&](Value i, ValueRange) -> SmallVector<Value> {
         Value j = arith::DivUIOp::create(*b, loc, i, width);
         Value d = arith::RemUIOp::create(*b, loc, i, width);
         Value key = minIdx(add(kv0, j), idx(shape.kvSeq - 1));
         store(widen(load(source, {tile.batch, tile.kvHead, key, d})), tileMem,
               {j, d});
         return {};
       });
}

void GpuFlashTile::computeKvTile(OpBuilder &builder, Value kv0,
                                 bool boundary) {
  b = &builder;
  // The previous tile's readers are done; load this one.
  gpu::BarrierOp::create(*b, loc);
  copyTile(buffers.key, mem.key, kv0, shape.headDim);
  if (buffers.value)
    copyTile(buffers.value, mem.value, kv0, shape.valueDim);
  if (normalize) {
    gpu::BarrierOp::create(*b, loc);
    Value owner = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                        mem.thread, idx(tileKv));
    auto ifOp = scf::IfOp::create(*b, loc, owner, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    store(inverseNorm(shape.headDim,
                      [&](Value d) { return load(mem.key, {mem.thread, d}); }),
          mem.keyScale, {mem.thread});
  }
  gpu::BarrierOp::create(*b, loc);

  // The row's scores and their max.
  Value minusInf = f32(-std::numeric_limits<float>::infinity());
  Value tileMax =
      loop(idx(0), idx(tileKv), idx(1), ValueRange{minusInf},
           [&](Value j, ValueRange maxSoFar) -> SmallVector<Value> {
             Value s = loop(idx(0), idx(shape.headDim), idx(1),
                            ValueRange{f32(0.0f)},
                            [&](Value d, ValueRange acc) -> SmallVector<Value> {
                              return {math::FmaOp::create(
                                  *b, loc, load(mem.query, {mem.thread, d}),
                                  load(mem.key, {j, d}), acc[0])};
                            })[0];
             Value key = add(kv0, j);
             if (!modifiers.empty())
               s = applyGpuScoreModifiers(
                   *b, loc, modifiers, buffers, tile, mem.thread, query, key,
                   shape.kvSeq, s, [&] { return load(mem.keyScale, {j}); });
             if (boundary)
               s = arith::SelectOp::create(
                   *b, loc, tiling.buildVisible(*b, row, key), s, minusInf);
             store(s, mem.scores, {mem.thread, j});
             return {arith::MaximumFOp::create(*b, loc, maxSoFar[0], s)};
           })[0];

  // The online softmax update. A row that has seen no visible key keeps
  // m = -inf; subtracting 0 instead makes its exp2() exactly 0, not NaN.
  Value oldMax = load(mem.stats, {idx(0)});
  Value newMax = arith::MaximumFOp::create(*b, loc, oldMax, tileMax);
  Value unseen = arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OEQ,
                                       newMax, minusInf);
  Value safeMax = arith::SelectOp::create(*b, loc, unseen, f32(0.0f), newMax);
  Value alpha = math::Exp2Op::create(
      *b, loc, arith::SubFOp::create(*b, loc, oldMax, safeMax));
  VectorType accType = rowType(shape.valueDim);
  Value acc = arith::MulFOp::create(
      *b, loc,
      vector::LoadOp::create(*b, loc, accType, mem.acc, ValueRange{idx(0)}),
      vector::BroadcastOp::create(*b, loc, accType, alpha));
  ValueRange updated = loop(
      idx(0), idx(tileKv), idx(1), ValueRange{acc, f32(0.0f)},
      [&](Value j, ValueRange carried) -> SmallVector<Value> {
        Value p = math::Exp2Op::create(
            *b, loc,
            arith::SubFOp::create(*b, loc, load(mem.scores, {mem.thread, j}),
                                  safeMax));
        Value v = vector::LoadOp::create(*b, loc, accType, mem.value,
                                         ValueRange{j, idx(0)});
        return {vector::FMAOp::create(
                    *b, loc, vector::BroadcastOp::create(*b, loc, accType, p),
                    v, carried[0]),
                arith::AddFOp::create(*b, loc, carried[1], p)};
      });
  vector::StoreOp::create(*b, loc, updated[0], mem.acc, ValueRange{idx(0)});
  Value sum = math::FmaOp::create(*b, loc, load(mem.stats, {idx(1)}), alpha,
                                  updated[1]);
  store(newMax, mem.stats, {idx(0)});
  store(sum, mem.stats, {idx(1)});
}

void GpuFlashTile::endQueryTile(OpBuilder &builder) {
  b = &builder;
  // Rows inside the sequence store: acc / l, or 0 where the row saw no key
  // or lies past the batch's q_len.
  Value inSequence = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                           mem.thread, tile.rows);
  auto ifOp = scf::IfOp::create(*b, loc, inSequence, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(*b);
  b->setInsertionPoint(ifOp.thenYield());
  Value zero = f32(0.0f);
  Value l = load(mem.stats, {idx(1)});
  Value valid = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                      mem.thread, tile.validRows);
  Value seen = arith::AndIOp::create(
      *b, loc, valid,
      arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OGT, l, zero));
  Value inv = arith::SelectOp::create(
      *b, loc, seen, arith::DivFOp::create(*b, loc, f32(1.0f), l), zero);
  VectorType accType = rowType(shape.valueDim);
  Value o = arith::MulFOp::create(
      *b, loc,
      vector::LoadOp::create(*b, loc, accType, mem.acc, ValueRange{idx(0)}),
      vector::BroadcastOp::create(*b, loc, accType, inv));
  o = arith::SelectOp::create(
      *b, loc, valid, o,
      arith::ConstantOp::create(*b, loc, DenseElementsAttr::get(accType, 0.0f)));
  RowOutput target = tile.output(*b, loc, buffers, mem.thread);
  Type element = cast<MemRefType>(target.out.getType()).getElementType();
  if (!element.isF32())
    o = arith::TruncFOp::create(
        *b, loc, VectorType::get({shape.valueDim}, element), o);
  vector::StoreOp::create(*b, loc, o, target.out, target.outAt(idx(0)));
  if (target.lse)
    store(buildRowLse(*b, loc, load(mem.stats, {idx(0)}), l, seen), target.lse,
          target.at);
}

} // namespace

Value applyGpuScoreModifiers(OpBuilder &b, Location loc,
                             ArrayRef<ScoreModifierAttrInterface> modifiers,
                             const FlashBuffers &buffers, const QueryTile &tile,
                             Value r, Value query, Value key, int64_t kvSeq,
                             Value s, function_ref<Value()> keyScale) {
  // One-lane vector sites.
  auto f32Type = b.getF32Type();
  auto laneType = VectorType::get({1}, f32Type);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto lane = [&](Value scalar) {
    return vector::BroadcastOp::create(b, loc, laneType, scalar).getResult();
  };
  VectorScoreSite site;
  site.width = 1;
  site.domain = llvm::numbers::log2e;
  site.head = tile.head(b, loc, r);
  site.relativePosition = [&]() -> Value {
    // key - pos(query of r): integers below 2^24, exact in f32.
    Value offset = arith::SubIOp::create(b, loc, tile.query(b, loc, r),
                                         tile.q0);
    Value rel = arith::SubIOp::create(
        b, loc, key, arith::AddIOp::create(b, loc, tile.position0, offset));
    return lane(arith::SIToFPOp::create(
        b, loc, f32Type,
        arith::IndexCastOp::create(b, loc, b.getI32Type(), rel)));
  };
  site.bias = [&]() -> Value {
    auto type = cast<MemRefType>(buffers.bias.getType());
    Value batch = type.getDimSize(0) == 1 ? idx(0) : tile.batch;
    Value head = type.getDimSize(1) == 1 ? idx(0) : site.head;
    Value keyRow = arith::MinUIOp::create(b, loc, key, idx(kvSeq - 1));
    return lane(widenToF32(
        b, loc,
        memref::LoadOp::create(b, loc, buffers.bias,
                               ValueRange{batch, head, query, keyRow})));
  };
  if (keyScale)
    site.keyScale = [&]() -> Value { return lane(keyScale()); };
  Value v = lane(s);
  for (ScoreModifierAttrInterface modifier : modifiers)
    v = modifier.buildVector(b, loc, site, v);
  return vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
}

void buildGpuSplitMerge(OpBuilder &b, SdpaOp op, const FlashBuffers &buffers,
                        Value linear) {
  Location loc = op.getLoc();
  AttentionShape s = op.getShape();
  int64_t splits = op.getScheduleAttr().getKvSplits();
  int64_t rows = s.batch * s.queryHeads * s.querySeq, dv = s.valueDim;
  IRArith a{b, loc};
  auto inside = scf::IfOp::create(b, loc, a.lt(linear, a.c(rows * dv)),
                                  /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(inside.thenYield());
  Value row = arith::DivUIOp::create(b, loc, linear, a.c(dv));
  Value d = arith::RemUIOp::create(b, loc, linear, a.c(dv));
  SplitMergeRow merge(b, loc, buffers.partialLse, splits, rows, row);
  Value sum = reduceChunks(
      b, loc, splits,
      arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f)),
      [&](OpBuilder &nb, Value c, Value acc) {
        Value o = memref::LoadOp::create(nb, loc, buffers.partialOut,
                                         merge.partialIndex(nb, c, dv, d));
        return math::FmaOp::create(nb, loc, merge.weight(nb, c), o, acc);
      });
  Type element = cast<MemRefType>(buffers.out.getType()).getElementType();
  if (!element.isF32())
    sum = arith::TruncFOp::create(b, loc, element, sum);
  memref::StoreOp::create(b, loc, sum, buffers.out, linear);
  if (!buffers.lse)
    return;
  auto first = scf::IfOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d, a.c(0)),
      /*withElseRegion=*/false);
  b.setInsertionPoint(first.thenYield());
  memref::StoreOp::create(b, loc, merge.lse(b), buffers.lse, row);
}

std::unique_ptr<FlashTileComputation>
createGpuFlashTile(SdpaOp op, const FlashBuffers &buffers, FlashTiling &tiling,
                   const GpuTileMemory &memory) {
  return std::make_unique<GpuFlashTile>(op, buffers, tiling, memory);
}

} // namespace mlir::attn
