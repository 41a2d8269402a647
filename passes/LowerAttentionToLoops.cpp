//===- LowerAttentionToLoops.cpp - attn.sdpa to flash loops ---------------===//
//
// Input: attn.sdpa ops on static f32 tensors, each carrying #attn.schedule.
// Output: per op, FlashAttention-2 style loops on buffers:
//
//   scf.parallel over (batch, query head, query tile):        [tile_q rows]
//     Qt   = scale · log2(e) · Q[tile]ᵀ           (packed: head_dim × tile_q)
//     m = -inf, l = 0, O = 0                      (per query row)
//     for every live kv tile t of the mask:                    [tile_kv keys]
//       Sᵀ  = K[t] · Qt                            kernel 1, register blocked;
//             its epilogue masks (boundary tiles only: select(visible,
//             Sᵀ, -inf)) and takes the column max M while Sᵀ is in registers
//       m'  = max(m, M); α = exp2(m - m'); Pᵀ = exp2(Sᵀ - m')
//       l   = α·l + colsum Pᵀ
//       O   = α·O + Pᵀᵀ · V[t]                     kernel 2, register blocked
//     Out[tile] = O / l                            (0 where l == 0)
//
// Scores are kept transposed (keys × queries) so that the softmax statistics
// are vectors over queries: no horizontal reductions anywhere. The only
// score storage is one tile_kv × tile_q scratch tile; nothing of size
// Sq × Skv exists at any stage. Kv tiles that the mask hides completely are
// never visited; tiles that it shows completely skip the mask arithmetic.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"

#include "llvm/Support/MathExtras.h"

#include <limits>
#include <tuple>

#define DEBUG_TYPE "attn-lower-attention-to-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_LOWERATTENTIONTOLOOPSPASS
#include "passes/Passes.h.inc"

namespace {

/// Emits the loop nest of one attn.sdpa op at the builder's insertion point.
class FlashLoopBuilder {
public:
  FlashLoopBuilder(OpBuilder &b, SdpaOp op)
      : b(b), loc(op.getLoc()), op(op), shape(op.getShape()),
        schedule(op.getScheduleAttr()), mask(op.getMaskOrDefault()),
        vw(schedule.getVectorWidth()), tileQ(schedule.getTileQ()),
        tileKv(schedule.getTileKv()) {}

  /// Emits the loops and returns the result tensor.
  Value build();

private:
  // Constants and types.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(float v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(v));
  }
  VectorType vecType() { return VectorType::get({vw}, b.getF32Type()); }
  Value splat(float v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType(), b.getF32FloatAttr(v)));
  }
  Value bcast(Value scalar) {
    return vector::BroadcastOp::create(b, loc, vecType(), scalar);
  }
  Value load(Value mem, ValueRange indices) {
    return vector::LoadOp::create(b, loc, vecType(), mem, indices);
  }
  void store(Value v, Value mem, ValueRange indices) {
    vector::StoreOp::create(b, loc, v, mem, indices);
  }
  /// max of score vectors. nnan/nsz make it one vmaxps instead of a
  /// NaN-propagating sequence; a NaN score (only from NaN inputs) still
  /// reaches the output through exp2(S - m) in the softmax update.
  Value maxScores(Value x, Value y) {
    return arith::MaximumFOp::create(
        b, loc, x, y,
        arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minIdx(Value x, Value y) {
    return arith::MinSIOp::create(b, loc, x, y);
  }
  Value alloc(ArrayRef<int64_t> shape) {
    auto type = MemRefType::get(shape, b.getF32Type());
    return memref::AllocOp::create(b, loc, type, ValueRange{},
                                   b.getI64IntegerAttr(64));
  }

  /// `for iv = lb to ub step` with no loop-carried values.
  void loop(Value lb, Value ub, int64_t step,
            function_ref<void(Value)> body);
  /// `for iv = lb to ub step` carrying `init`; `body` returns the next values.
  SmallVector<Value>
  loop(Value lb, Value ub, int64_t step, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body);

  // Pieces of the loop nest.
  void buildQueryTile(Value linear);
  void buildPackQuery();
  void buildKvTile(Value kv0, bool boundary);
  void buildScores(Value kv0, bool boundary);
  void buildSoftmaxUpdate();
  void buildAccumulate(Value kv0, bool boundary);
  void buildNormalize();

  OpBuilder &b;
  Location loc;
  SdpaOp op;
  SdpaOp::Shape shape;
  ScheduleAttr schedule;
  MaskAttr mask;
  int64_t vw, tileQ, tileKv;

  // Whole-op buffers.
  Value query, key, value, out;
  // Per query tile: indices and scratch buffers.
  Value batch, qHead, kvHead, q0, rows;
  Value qPack;    // head_dim × tile_q: scaled, transposed query tile
  Value scores;   // tile_kv × tile_q: Sᵀ, then Pᵀ
  Value acc;      // tile_q × value_dim: unnormalized output
  Value rowMax;   // tile_q: running max m
  Value tileMax;  // tile_q: column max of the current kv tile's scores
  Value rowSum;   // tile_q: running sum l
  Value rowScale; // tile_q: α of the current kv tile
};

void FlashLoopBuilder::loop(Value lb, Value ub, int64_t step,
                            function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  body(forOp.getInductionVar());
}

SmallVector<Value>
FlashLoopBuilder::loop(Value lb, Value ub, int64_t step, ValueRange init,
                       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(step), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    SmallVector<Value> next =
        body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    scf::YieldOp::create(b, loc, next);
  }
  return forOp.getResults();
}

Value FlashLoopBuilder::build() {
  auto bufferOf = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    auto memType = MemRefType::get(type.getShape(), type.getElementType());
    return bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                             /*read_only=*/true);
  };
  query = bufferOf(op.getQuery());
  key = bufferOf(op.getKey());
  value = bufferOf(op.getValue());
  RankedTensorType resultType = op.getResult().getType();
  out = alloc(resultType.getShape());

  int64_t queryTiles = llvm::divideCeil(shape.querySeq, tileQ);
  int64_t iterations = shape.batch * shape.queryHeads * queryTiles;
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(iterations)},
      ValueRange{idx(1)}, [&](OpBuilder &nested, Location, ValueRange ivs) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        buildQueryTile(ivs[0]);
      });
  return bufferization::ToTensorOp::create(b, loc, resultType, out,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

void FlashLoopBuilder::buildQueryTile(Value linear) {
  // Iteration i covers query tile (tiles - 1 - i % tiles) of head
  // (i / tiles) % Hq of batch i / (tiles · Hq): with a causal mask the
  // costliest tiles come first, which evens out dynamic scheduling.
  int64_t queryTiles = llvm::divideCeil(shape.querySeq, tileQ);
  Value tilesCst = idx(queryTiles);
  Value tileRev = arith::RemUIOp::create(b, loc, linear, tilesCst);
  Value tile = arith::SubIOp::create(b, loc, idx(queryTiles - 1), tileRev);
  Value bh = arith::DivUIOp::create(b, loc, linear, tilesCst);
  qHead = arith::RemUIOp::create(b, loc, bh, idx(shape.queryHeads));
  batch = arith::DivUIOp::create(b, loc, bh, idx(shape.queryHeads));
  kvHead = arith::DivUIOp::create(b, loc, qHead,
                                  idx(shape.queryHeads / shape.kvHeads));
  q0 = mul(tile, idx(tileQ));
  rows = minIdx(idx(tileQ), arith::SubIOp::create(b, loc, idx(shape.querySeq),
                                                  q0));

  qPack = alloc({shape.headDim, tileQ});
  scores = alloc({tileKv, tileQ});
  acc = alloc({tileQ, shape.valueDim});
  rowMax = alloc({tileQ});
  tileMax = alloc({tileQ});
  rowSum = alloc({tileQ});
  rowScale = alloc({tileQ});

  buildPackQuery();
  Value negInf = splat(-std::numeric_limits<float>::infinity());
  Value zeros = splat(0.0f);
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    store(negInf, rowMax, r);
    store(zeros, rowSum, r);
  });
  loop(idx(0), idx(tileQ), 1, [&](Value r) {
    loop(idx(0), idx(shape.valueDim), vw,
         [&](Value d) { store(zeros, acc, {r, d}); });
  });

  // The mask's visible key range is one interval per row whose ends never
  // decrease with the row, so for rows [q0, q0 + rows):
  //   keys every row sees:   [begin(last row), end(first row))
  //   keys some row sees:    [begin(first row), end(last row))
  // Kv tiles inside the first range are full; the others that touch the
  // second range are boundary tiles; the rest are never visited.
  Value lastRow = add(q0, arith::SubIOp::create(b, loc, rows, idx(1)));
  auto [firstBegin, firstEnd] =
      mask.buildKeyRange(b, loc, q0, shape.querySeq, shape.kvSeq);
  auto [lastBegin, lastEnd] =
      mask.buildKeyRange(b, loc, lastRow, shape.querySeq, shape.kvSeq);
  Value tileKvCst = idx(tileKv);
  Value liveBegin = arith::DivUIOp::create(b, loc, firstBegin, tileKvCst);
  Value liveEnd = arith::CeilDivUIOp::create(b, loc, lastEnd, tileKvCst);
  Value fullBegin = arith::CeilDivUIOp::create(b, loc, lastBegin, tileKvCst);
  Value fullEnd = arith::DivUIOp::create(b, loc, firstEnd, tileKvCst);
  loop(liveBegin, liveEnd, 1, [&](Value t) {
    Value isFull = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, t, fullBegin),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t, fullEnd));
    Value kv0 = mul(t, tileKvCst);
    auto ifOp = scf::IfOp::create(b, loc, isFull, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenYield());
    buildKvTile(kv0, /*boundary=*/false);
    b.setInsertionPoint(ifOp.elseYield());
    buildKvTile(kv0, /*boundary=*/true);
  });
  buildNormalize();
}

void FlashLoopBuilder::buildPackQuery() {
  // qPack[d, r] = scale · log2(e) · Q[batch, qHead, q0 + r, d], zero for
  // rows past Sq: scores come out in the log2 domain, so the softmax uses
  // exp2 (exp(s) = exp2(s · log2 e)) and the factor costs nothing here.
  Value scale = f32(op.getScaleOrDefault() * llvm::numbers::log2ef);
  Value zero = f32(0.0f);
  Value lastQuery = idx(shape.querySeq - 1);
  loop(idx(0), idx(tileQ), 1, [&](Value r) {
    Value inBounds =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, r, rows);
    Value row = minIdx(add(q0, r), lastQuery);
    loop(idx(0), idx(shape.headDim), 1, [&](Value d) {
      Value x = memref::LoadOp::create(b, loc, query,
                                       ValueRange{batch, qHead, row, d});
      x = arith::MulFOp::create(b, loc, x, scale);
      x = arith::SelectOp::create(b, loc, inBounds, x, zero);
      memref::StoreOp::create(b, loc, x, qPack, ValueRange{d, r});
    });
  });
}

void FlashLoopBuilder::buildKvTile(Value kv0, bool boundary) {
  Value negInf = splat(-std::numeric_limits<float>::infinity());
  loop(idx(0), idx(tileQ), vw, [&](Value r) { store(negInf, tileMax, r); });
  buildScores(kv0, boundary);
  buildSoftmaxUpdate();
  buildAccumulate(kv0, boundary);
}

void FlashLoopBuilder::buildScores(Value kv0, bool boundary) {
  // Kernel 1: scores[c, r] = Σ_d K[kv0 + c, d] · qPack[d, r], as blocks of
  // qk_keys keys × qk_qvecs query vectors held in registers across the d
  // loop. In boundary tiles key indices are clamped to stay in bounds and
  // the epilogue sets scores the mask hides to -inf. The epilogue also folds
  // each block into the tile's column max, so no pass re-reads the scores
  // for it.
  int64_t keys = schedule.getQkKeys(), qvecs = schedule.getQkQvecs();
  auto indexVec = VectorType::get({vw}, b.getIndexType());
  Value lanes =
      boundary ? vector::StepOp::create(b, loc, indexVec).getResult() : Value();
  Value negInf = splat(-std::numeric_limits<float>::infinity());
  loop(idx(0), idx(tileKv), keys, [&](Value c0) {
    SmallVector<Value> keyIdx, keyRows;
    for (int64_t c = 0; c < keys; ++c) {
      keyIdx.push_back(add(kv0, add(c0, idx(c))));
      keyRows.push_back(boundary ? minIdx(keyIdx.back(), idx(shape.kvSeq - 1))
                                 : keyIdx.back());
    }
    loop(idx(0), idx(tileQ), qvecs * vw, [&](Value r0) {
      SmallVector<Value> init(keys * qvecs, splat(0.0f));
      SmallVector<Value> sums = loop(
          idx(0), idx(shape.headDim), 1, init,
          [&](Value d, ValueRange accs) {
            SmallVector<Value> qv;
            for (int64_t j = 0; j < qvecs; ++j)
              qv.push_back(load(qPack, {d, add(r0, idx(j * vw))}));
            SmallVector<Value> next;
            for (int64_t c = 0; c < keys; ++c) {
              Value k = bcast(memref::LoadOp::create(
                  b, loc, key, ValueRange{batch, kvHead, keyRows[c], d}));
              for (int64_t j = 0; j < qvecs; ++j)
                next.push_back(vector::FMAOp::create(b, loc, k, qv[j],
                                                     accs[c * qvecs + j]));
            }
            return next;
          });
      for (int64_t j = 0; j < qvecs; ++j) {
        Value r = add(r0, idx(j * vw));
        Value begin, end;
        if (boundary) {
          Value rowVec = arith::AddIOp::create(
              b, loc, lanes,
              vector::BroadcastOp::create(b, loc, indexVec, add(q0, r)));
          std::tie(begin, end) =
              mask.buildKeyRange(b, loc, rowVec, shape.querySeq, shape.kvSeq);
        }
        Value colMax = load(tileMax, r);
        for (int64_t c = 0; c < keys; ++c) {
          Value s = sums[c * qvecs + j];
          if (boundary) {
            Value keyVec =
                vector::BroadcastOp::create(b, loc, indexVec, keyIdx[c]);
            Value visible = arith::AndIOp::create(
                b, loc,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                                      begin, keyVec),
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                      keyVec, end));
            s = arith::SelectOp::create(b, loc, visible, s, negInf);
          }
          store(s, scores, {add(c0, idx(c)), r});
          colMax = maxScores(colMax, s);
        }
        store(colMax, tileMax, r);
      }
    });
  });
}

void FlashLoopBuilder::buildSoftmaxUpdate() {
  // Per vector of queries: new running max, rescale factor α, P = exp(S - m)
  // written over the scores, and the running sum.
  Value negInf = splat(-std::numeric_limits<float>::infinity());
  Value zeros = splat(0.0f);
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    Value oldMax = load(rowMax, r);
    Value newMax = maxScores(oldMax, load(tileMax, r));
    // A row that has seen no visible key yet keeps m = -inf; subtracting 0
    // instead makes every exp2() below exactly 0 rather than NaN.
    Value unseen = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                         newMax, negInf);
    Value safeMax = arith::SelectOp::create(b, loc, unseen, zeros, newMax);
    Value alpha = math::Exp2Op::create(
        b, loc, arith::SubFOp::create(b, loc, oldMax, safeMax));
    Value tileSum = loop(idx(0), idx(tileKv), 1, ValueRange{zeros},
                         [&](Value c, ValueRange sum) -> SmallVector<Value> {
                           Value p = math::Exp2Op::create(
                               b, loc,
                               arith::SubFOp::create(
                                   b, loc, load(scores, {c, r}), safeMax));
                           store(p, scores, {c, r});
                           return {arith::AddFOp::create(b, loc, sum[0], p)};
                         })[0];
    Value sum = vector::FMAOp::create(b, loc, load(rowSum, r), alpha, tileSum);
    store(sum, rowSum, r);
    store(newMax, rowMax, r);
    store(alpha, rowScale, r);
  });
}

void FlashLoopBuilder::buildAccumulate(Value kv0, bool boundary) {
  // Kernel 2: acc[r, :] = α[r] · acc[r, :] + Σ_c P[c, r] · V[kv0 + c, :], as
  // blocks of pv_rows rows × pv_vecs output vectors held in registers across
  // the key loop. Boundary tiles stop at the last key in bounds.
  int64_t blockRows = schedule.getPvRows(), vecs = schedule.getPvVecs();
  Value keyCount =
      boundary ? minIdx(idx(tileKv),
                        arith::SubIOp::create(b, loc, idx(shape.kvSeq), kv0))
               : idx(tileKv);
  // The value panel (tile_kv × pv_vecs vectors) is the outer loop so that it
  // stays in L1 while every row block of the tile uses it.
  loop(idx(0), idx(shape.valueDim), vecs * vw, [&](Value d0) {
    SmallVector<Value> colIdx;
    for (int64_t j = 0; j < vecs; ++j)
      colIdx.push_back(add(d0, idx(j * vw)));
    loop(idx(0), idx(tileQ), blockRows, [&](Value r0) {
      SmallVector<Value> rowIdx, alphas, init;
      for (int64_t i = 0; i < blockRows; ++i) {
        rowIdx.push_back(add(r0, idx(i)));
        alphas.push_back(
            bcast(memref::LoadOp::create(b, loc, rowScale, rowIdx.back())));
      }
      for (int64_t i = 0; i < blockRows; ++i)
        for (int64_t j = 0; j < vecs; ++j)
          init.push_back(arith::MulFOp::create(
              b, loc, load(acc, {rowIdx[i], colIdx[j]}), alphas[i]));
      SmallVector<Value> sums = loop(
          idx(0), keyCount, 1, init, [&](Value c, ValueRange accs) {
            Value keyRow = add(kv0, c);
            SmallVector<Value> vv;
            for (int64_t j = 0; j < vecs; ++j)
              vv.push_back(
                  load(value, {batch, kvHead, keyRow, colIdx[j]}));
            SmallVector<Value> next;
            for (int64_t i = 0; i < blockRows; ++i) {
              Value p = bcast(memref::LoadOp::create(
                  b, loc, scores, ValueRange{c, rowIdx[i]}));
              for (int64_t j = 0; j < vecs; ++j)
                next.push_back(
                    vector::FMAOp::create(b, loc, p, vv[j], accs[i * vecs + j]));
            }
            return next;
          });
      for (int64_t i = 0; i < blockRows; ++i)
        for (int64_t j = 0; j < vecs; ++j)
          store(sums[i * vecs + j], acc, {rowIdx[i], colIdx[j]});
    });
  });
}

void FlashLoopBuilder::buildNormalize() {
  // out[q0 + r, :] = acc[r, :] / l[r]; rows that saw no key (l == 0) get 0.
  Value zero = f32(0.0f);
  loop(idx(0), rows, 1, [&](Value r) {
    Value l = memref::LoadOp::create(b, loc, rowSum, r);
    Value seen =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
    Value inv = arith::SelectOp::create(
        b, loc, seen, arith::DivFOp::create(b, loc, f32(1.0f), l), zero);
    Value invVec = bcast(inv);
    Value outRow = add(q0, r);
    loop(idx(0), idx(shape.valueDim), vw, [&](Value d) {
      Value o = arith::MulFOp::create(b, loc, load(acc, {r, d}), invVec);
      store(o, out, {batch, qHead, outRow, d});
    });
  });
}

struct LowerAttentionToLoopsPass final
    : impl::LowerAttentionToLoopsPassBase<LowerAttentionToLoopsPass> {
  using Base::Base;
  void runOnOperation() override;
};

} // namespace

void LowerAttentionToLoopsPass::runOnOperation() {
  WalkResult walk = getOperation().walk([&](SdpaOp op) {
    if (!op.getScheduleAttr()) {
      op.emitOpError("has no #attn.schedule; run --attn-select-schedule "
                     "first");
      return WalkResult::interrupt();
    }
    OpBuilder b(op);
    Value result = FlashLoopBuilder(b, op).build();
    op.getResult().replaceAllUsesWith(result);
    op.erase();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace mlir::attn
