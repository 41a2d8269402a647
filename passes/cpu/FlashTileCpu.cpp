//===- FlashTileCpu.cpp - one flash tile on the CPU -----------------------===//
//
// Per query tile (tile_q rows), FlashAttention-2 order:
//
//   Qt  = scale · log2(e) · Q[tile]ᵀ            (packed: head_dim × tile_q,
//                                                vw × vw blocks transposed
//                                                in registers)
//   m = -inf, l = 0, O = 0                       (per query row)
//   per kv tile from FlashTiling:
//     Sᵀ = K[t] · Qt        kernel 1: qk_keys keys × qk_qvecs query vectors;
//                           its epilogue applies the score modifiers, masks
//                           (boundary tiles only) and takes the column max M
//                           while Sᵀ is in registers
//     m' = max(m, M); α = exp2(m - m'); Pᵀ = exp2(Sᵀ - m'); l = α·l + ΣPᵀ
//     O  = α·O + Pᵀᵀ·V[t]   kernel 2: pv_rows rows × pv_vecs output vectors
//   Out[tile] = O / l       (0 where l == 0 or past q_len)
//   lse[tile] = ln 2 · (m + log2 l)   (if asked for; -inf where l == 0)
//
// Half-precision operands (f16, bf16) are converted to f32 as they are read:
// Q while it is packed, the bias after its gather, K a block of qk_keys rows
// before kernel 1 runs over it and V a panel before kernel 2 does (small f32
// scratch blocks that stay in L1; each element is converted once per kv
// tile, whatever the number of query vectors or row blocks that use it);
// the output is rounded to its element type as it is stored.
//
// Score modifiers (ScoreModifierAttrInterface) see a VectorScoreSite whose
// callbacks read what this file provides: relative positions from the
// indices, the bias tensor by a gather of one key's column, and the inverse
// key norms of the tile (cosine similarity, which also normalizes Q rows
// where they are packed).
//
// Both kernels are MicroKernel instances. Scores are kept transposed (keys ×
// queries) so the softmax statistics are vectors over queries: no horizontal
// reductions. The only score storage is one tile_kv × tile_q scratch tile.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/FlashTileCpu.h"
#include "passes/cpu/CpuFlashTile.h"
#include "passes/cpu/MicroKernel.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::attn {
namespace cpu {

void CpuFlashTile::loop(Value lb, Value ub, int64_t step,
                        function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(*b, loc, lb, ub, idx(step));
  OpBuilder::InsertionGuard guard(*b);
  b->setInsertionPoint(forOp.getBody()->getTerminator());
  body(forOp.getInductionVar());
}

void CpuFlashTile::beginQueryTile(OpBuilder &builder, const QueryTile &qt) {
  b = &builder;
  tile = qt;
  qPack = alloc({shape.headDim, tileQ});
  scores = alloc({tileKv, tileQ});
  if (!output.probabilities) {
    tileMax = alloc({tileQ});
    acc = alloc({tileQ, shape.valueDim});
    rowMax = alloc({tileQ});
    rowSum = alloc({tileQ});
    rowScale = alloc({tileQ});
  }
  if (normalize)
    keyScale = alloc({tileKv});
  if (schedule.getQkDot())
    qRows = alloc({tileQ, shape.headDim});
  else if (!isF32(buffers.key))
    keyBlock = alloc({schedule.getQkKeys(), shape.headDim});
  if (buffers.value && !isF32(buffers.value))
    valuePanel = alloc({tileKv, schedule.getPvVecs() * vw});
  if (buffers.bias) {
    // The slab of this (batch, head), broadcast over size-1 dims.
    biasFlat = memref::CollapseShapeOp::create(
        *b, loc, buffers.bias,
        ArrayRef<ReassociationIndices>{ReassociationIndices{0, 1, 2, 3}});
    Value batch = biasBatches == 1 ? idx(0) : tile.batch;
    Value head = biasHeads == 1 ? idx(0) : tile.qHead;
    Value slab = add(arith::MulIOp::create(*b, loc, batch, idx(biasHeads)),
                     head);
    biasSlab = arith::MulIOp::create(*b, loc, slab,
                                     idx(shape.querySeq * shape.kvSeq));
  }

  // qPack[d, r] = scale · log2(e) · Q[batch, qHead, q0 + r, d], zero for
  // rows past Sq: scores come out in the log2 domain, so the softmax uses
  // exp2 (exp(s) = exp2(s · log2 e)) and the factor costs nothing here.
  packQueryTile(scale * llvm::numbers::log2ef);
  if (normalize)
    normalizeQueryTile(scale * llvm::numbers::log2ef);
  if (qRows)
    buildQueryRows();
  if (output.probabilities)
    return beginProbabilities();
  Value zeros = splat(0.0f), minusInf = negInf();
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    store(minusInf, rowMax, r);
    store(zeros, rowSum, r);
  });
  loop(idx(0), idx(tileQ), 1, [&](Value r) {
    loop(idx(0), idx(shape.valueDim), vw,
         [&](Value d) { store(zeros, acc, {r, d}); });
  });
}

void CpuFlashTile::packQueryTile(float packScale) {
  // Per vw rows: vw × vw blocks of Q (vw rows of vw head-dim elements, one
  // load each) transposed in registers into qPack's columns; a head-dim
  // tail that fills no vector goes element by element.
  Value scaleVec = splat(packScale), zeros = splat(0.0f);
  Value scaleCst = f32(packScale), zero = f32(0.0f);
  Value lastQuery = idx(shape.querySeq - 1);
  int64_t vectorEnd = shape.headDim / vw * vw;
  auto i32Vec = VectorType::get({vw}, b->getI32Type());
  loop(idx(0), idx(tileQ), vw, [&](Value r0) {
    SmallVector<Value> heads, rows;
    for (int64_t l = 0; l < vw; ++l) {
      Value r = add(r0, idx(l));
      heads.push_back(tile.head(*b, loc, r));
      rows.push_back(minIdx(tile.query(*b, loc, r), lastQuery));
    }
    // Lanes (rows) inside the query sequence.
    auto toI32 = [&](Value v) {
      return arith::IndexCastOp::create(*b, loc, b->getI32Type(), v);
    };
    Value inBounds = arith::CmpIOp::create(
        *b, loc, arith::CmpIPredicate::ult,
        arith::AddIOp::create(
            *b, loc, vector::BroadcastOp::create(*b, loc, i32Vec, toI32(r0)),
            iota(b->getI32Type())),
        vector::BroadcastOp::create(*b, loc, i32Vec, toI32(tile.rows)));
    loop(idx(0), idx(vectorEnd), vw, [&](Value d0) {
      SmallVector<Value> block;
      for (int64_t l = 0; l < vw; ++l)
        block.push_back(loadWide(*b, buffers.query,
                                 {tile.batch, heads[l], rows[l], d0}));
      transposeSquare(*b, loc, block);
      for (int64_t t = 0; t < vw; ++t) {
        Value x = arith::MulFOp::create(*b, loc, block[t], scaleVec);
        x = arith::SelectOp::create(*b, loc, inBounds, x, zeros);
        store(x, qPack, {add(d0, idx(t)), r0});
      }
    });
    for (int64_t l = 0; l < vw; ++l) {
      Value r = add(r0, idx(l));
      Value valid = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult,
                                          r, tile.rows);
      loop(idx(vectorEnd), idx(shape.headDim), 1, [&](Value d) {
        Value x = widen(
            *b, loadScalar(buffers.query, {tile.batch, heads[l], rows[l], d}));
        x = arith::MulFOp::create(*b, loc, x, scaleCst);
        x = arith::SelectOp::create(*b, loc, valid, x, zero);
        memref::StoreOp::create(*b, loc, x, qPack, ValueRange{d, r});
      });
    }
  });
}

void CpuFlashTile::buildQueryRows() {
  // qRows = qPackᵀ (the dot-product score kernel reads query rows along the
  // head dim), vw × vw blocks transposed in registers. qk_dot makes the
  // head dim a multiple of vw.
  loop(idx(0), idx(tileQ), vw, [&](Value r0) {
    loop(idx(0), idx(shape.headDim), vw, [&](Value d0) {
      SmallVector<Value> block;
      for (int64_t t = 0; t < vw; ++t)
        block.push_back(load(qPack, {add(d0, idx(t)), r0}));
      transposeSquare(*b, loc, block);
      for (int64_t l = 0; l < vw; ++l)
        store(block[l], qRows, {add(r0, idx(l)), d0});
    });
  });
}

void CpuFlashTile::computeKvTile(OpBuilder &builder, Value kv0,
                                 bool boundary) {
  OpBuilder *outer = b;
  b = &builder;
  if (tileMax) {
    Value minusInf = negInf();
    loop(idx(0), idx(tileQ), vw,
         [&](Value r) { store(minusInf, tileMax, r); });
  }
  if (normalize)
    buildKeyScales(kv0, boundary);
  buildScores(kv0, boundary);
  if (output.probabilities) {
    buildProbabilities(kv0, boundary);
    b = outer;
    return;
  }
  buildSoftmaxUpdate();
  buildAccumulate(kv0, boundary);
  b = outer;
}

void CpuFlashTile::buildScores(Value kv0, bool boundary) {
  // Kernel 1: scores[c, r] = Σ_d K[kv0 + c, d] · qPack[d, r], a block of
  // qk_keys keys at a time. In boundary tiles key indices are clamped to
  // stay in bounds and the block's finish sets scores the mask hides to
  // -inf. The finish also folds each block into the tile's column max, so
  // no pass re-reads the scores for it.
  int64_t keys = schedule.getQkKeys();
  loop(idx(0), idx(tileKv), keys, [&](Value c0) {
    ScoreBlock block;
    for (int64_t c = 0; c < keys; ++c) {
      block.local.push_back(add(c0, idx(c)));
      block.keys.push_back(add(kv0, block.local.back()));
      block.rows.push_back(boundary
                               ? minIdx(block.keys.back(), idx(shape.kvSeq - 1))
                               : block.keys.back());
    }
    if (schedule.getPrefetch())
      prefetchRows(add(kv0, c0), keys);
    if (schedule.getQkDot())
      return buildDotScores(block, boundary);
    // Half-precision keys: this block's rows as f32, shared by every query
    // vector block below.
    if (keyBlock)
      convertBlock(buffers.key, keyBlock, add(kv0, c0), keys, idx(0),
                   shape.headDim, boundary);
    int64_t qvecs = schedule.getQkQvecs();
    loop(idx(0), idx(tileQ), qvecs * vw, [&](Value r0) {
      MicroKernel kernel;
      kernel.rows = keys;
      kernel.vecs = qvecs;
      kernel.vectorType = vecType();
      kernel.kBegin = idx(0);
      kernel.kEnd = idx(shape.headDim);
      kernel.loadA = [&](OpBuilder &nb, Value d, int64_t c) -> Value {
        if (keyBlock)
          return memref::LoadOp::create(
              nb, loc, keyBlock,
              ValueRange{arith::ConstantIndexOp::create(nb, loc, c), d});
        return memref::LoadOp::create(
            nb, loc, buffers.key,
            ValueRange{tile.batch, tile.kvHead, block.rows[c], d});
      };
      kernel.loadB = [&](OpBuilder &nb, Value d, int64_t j) -> Value {
        Value r = arith::AddIOp::create(
            nb, loc, r0, arith::ConstantIndexOp::create(nb, loc, j * vw));
        return vector::LoadOp::create(nb, loc, vecType(), qPack,
                                      ValueRange{d, r});
      };
      kernel.init = [&](OpBuilder &, int64_t, int64_t) { return splat(0.0f); };
      kernel.epilogue = [&](OpBuilder &, ArrayRef<Value> sums) {
        for (int64_t j = 0; j < qvecs; ++j) {
          SmallVector<Value> column;
          for (int64_t c = 0; c < keys; ++c)
            column.push_back(sums[c * qvecs + j]);
          finishScores(block, add(r0, idx(j * vw)), column, /*inTile=*/false,
                       boundary);
        }
      };
      buildMicroKernel(*b, loc, kernel);
    });
  });
}

void CpuFlashTile::buildDotScores(const ScoreBlock &block, bool boundary) {
  // scores[c, r] for the block's keys c and the valid rows r, vw / keys
  // rows at a time: acc[c·rows + i] = Σ_d K[key c, d:d+vw] · qRows[r0 + i,
  // d:d+vw] over the head dim (lanes along it), then one sumEachVector
  // turns the vw accumulators into one vector whose lanes c·rows + i are
  // the scores, stored rows at a time into each key's row of the tile.
  // Lanes of rows past the valid ones hold 0, as the broadcast kernel's
  // zero query rows give, so both forms leave the same tile.
  int64_t keys = static_cast<int64_t>(block.keys.size());
  int64_t rows = vw / keys;
  Value zeros = splat(0.0f);
  for (int64_t c = 0; c < keys; ++c)
    loop(idx(0), idx(tileQ), vw, [&](Value r) {
      store(zeros, scores, {block.local[c], r});
    });
  Value groupsEnd = arith::MulIOp::create(
      *b, loc, arith::CeilDivUIOp::create(*b, loc, tile.validRows, idx(rows)),
      idx(rows));
  loop(idx(0), groupsEnd, rows, [&](Value r0) {
    SmallVector<Value> init(vw, zeros);
    auto dotLoop = scf::ForOp::create(
        *b, loc, idx(0), idx(shape.headDim), idx(vw), init,
        [&](OpBuilder &nb, Location l, Value d, ValueRange acc) {
          SmallVector<Value> q, next;
          for (int64_t i = 0; i < rows; ++i)
            q.push_back(vector::LoadOp::create(
                nb, l, vecType(), qRows,
                ValueRange{arith::AddIOp::create(
                               nb, l, r0,
                               arith::ConstantIndexOp::create(nb, l, i)),
                           d}));
          for (int64_t c = 0; c < keys; ++c) {
            Value k = loadWide(
                nb, buffers.key,
                {tile.batch, tile.kvHead, block.rows[c], d});
            for (int64_t i = 0; i < rows; ++i)
              next.push_back(
                  vector::FMAOp::create(nb, l, k, q[i], acc[c * rows + i]));
          }
          scf::YieldOp::create(nb, l, next);
        });
    SmallVector<Value> acc(dotLoop.getResults());
    Value sums = sumEachVector(*b, loc, acc);
    for (int64_t c = 0; c < keys; ++c)
      vector::StoreOp::create(
          *b, loc,
          vector::ExtractStridedSliceOp::create(
              *b, loc, sums, ArrayRef<int64_t>{c * rows},
              ArrayRef<int64_t>{rows}, ArrayRef<int64_t>{1}),
          scores, ValueRange{block.local[c], r0});
  });
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    SmallVector<Value> column;
    for (int64_t c = 0; c < keys; ++c)
      column.push_back(load(scores, {block.local[c], r}));
    finishScores(block, r, column, /*inTile=*/true, boundary);
  });
}

void CpuFlashTile::finishScores(const ScoreBlock &block, Value r,
                                ArrayRef<Value> column, bool inTile,
                                bool boundary) {
  // The block's raw scores of rows [r, r + vw), one vector per key (already
  // stored in the tile if `inTile`): the modifiers, the mask (boundary
  // tiles), the store and the column max.
  // The softmax needs the tile's column max; probabilities do not.
  Value colMax = tileMax ? load(tileMax, r) : Value();
  for (auto [c, raw] : llvm::enumerate(column)) {
    Value s = raw;
    if (!modifiers.empty())
      s = applyModifiers(s, r, block.keys[c], block.rows[c], block.local[c]);
    if (boundary)
      s = arith::SelectOp::create(
          *b, loc, tiling.buildVisible(*b, r, block.keys[c], vw), s, negInf());
    if (!inTile || s != raw)
      store(s, scores, {block.local[c], r});
    if (colMax)
      colMax = maxScores(colMax, s);
  }
  if (colMax)
    store(colMax, tileMax, r);
}

void CpuFlashTile::prefetchRows(Value firstKey, int64_t rows) {
  // While kernel 1 runs over keys [firstKey, firstKey + rows): the same
  // keys' V rows, which kernel 2 reads next, and the K rows one tile ahead.
  // Decode tiles do little arithmetic per byte, and the hardware
  // prefetchers do not follow kernel 1's walk down several rows at once.
  auto prefetch = [&](Value mem, Value key, int64_t cols) {
    Value row = minIdx(key, idx(shape.kvSeq - 1));
    int64_t bytes = cast<ShapedType>(mem.getType())
                        .getElementType()
                        .getIntOrFloatBitWidth() / 8;
    for (int64_t col = 0; col < cols; col += 64 / bytes)
      memref::PrefetchOp::create(*b, loc, mem,
                                 ValueRange{tile.batch, tile.kvHead, row,
                                            idx(col)},
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
  };
  for (int64_t c = 0; c < rows; ++c) {
    Value key = add(firstKey, idx(c));
    if (buffers.value)
      prefetch(buffers.value, key, shape.valueDim);
    prefetch(buffers.key, add(key, idx(tileKv)), shape.headDim);
  }
}

void CpuFlashTile::buildSoftmaxUpdate() {
  // Per vector of queries: new running max, rescale factor α, P = exp(S - m)
  // written over the scores, and the running sum.
  Value minusInf = negInf(), zeros = splat(0.0f);
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    Value oldMax = load(rowMax, r);
    Value newMax = maxScores(oldMax, load(tileMax, r));
    // A row that has seen no visible key yet keeps m = -inf; subtracting 0
    // instead makes every exp2() below exactly 0 rather than NaN.
    Value unseen = arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OEQ,
                                         newMax, minusInf);
    Value safeMax = arith::SelectOp::create(*b, loc, unseen, zeros, newMax);
    Value alpha = math::Exp2Op::create(
        *b, loc, arith::SubFOp::create(*b, loc, oldMax, safeMax));
    auto sumLoop = scf::ForOp::create(
        *b, loc, idx(0), idx(tileKv), idx(1), ValueRange{zeros},
        [&](OpBuilder &nb, Location l, Value c, ValueRange sum) {
          Value s = vector::LoadOp::create(nb, l, vecType(), scores,
                                           ValueRange{c, r});
          Value p = math::Exp2Op::create(
              nb, l, arith::SubFOp::create(nb, l, s, safeMax));
          vector::StoreOp::create(nb, l, p, scores, ValueRange{c, r});
          scf::YieldOp::create(
              nb, l, ValueRange{arith::AddFOp::create(nb, l, sum[0], p)});
        });
    Value sum = vector::FMAOp::create(*b, loc, load(rowSum, r), alpha,
                                      sumLoop.getResult(0));
    store(sum, rowSum, r);
    store(newMax, rowMax, r);
    store(alpha, rowScale, r);
  });
}

void CpuFlashTile::buildAccumulate(Value kv0, bool boundary) {
  // Kernel 2: acc[r, :] = α[r] · acc[r, :] + Σ_c P[c, r] · V[kv0 + c, :].
  // Boundary tiles stop at the last key in bounds.
  int64_t blockRows = schedule.getPvRows(), vecs = schedule.getPvVecs();
  Value keyCount = keysInTile(kv0, boundary);
  // Row blocks past the valid rows (decode tiles are mostly padding) are
  // skipped: their outputs are never stored.
  Value rowBlocksEnd = arith::MulIOp::create(
      *b, loc,
      arith::CeilDivUIOp::create(*b, loc, tile.validRows, idx(blockRows)),
      idx(blockRows));
  // The value panel (tile_kv × pv_vecs vectors) is the outer loop so that it
  // stays in L1 while every row block of the tile uses it.
  loop(idx(0), idx(shape.valueDim), vecs * vw, [&](Value d0) {
    SmallVector<Value> colIdx;
    for (int64_t j = 0; j < vecs; ++j)
      colIdx.push_back(add(d0, idx(j * vw)));
    // Half-precision values: this panel as f32, shared by every row block.
    if (valuePanel)
      convertBlock(buffers.value, valuePanel, kv0, tileKv, d0, vecs * vw,
                   boundary);
    loop(idx(0), rowBlocksEnd, blockRows, [&](Value r0) {
      SmallVector<Value> rowIdx, alphas;
      for (int64_t i = 0; i < blockRows; ++i) {
        rowIdx.push_back(add(r0, idx(i)));
        alphas.push_back(vector::BroadcastOp::create(
            *b, loc, vecType(), loadScalar(rowScale, rowIdx.back())));
      }
      MicroKernel kernel;
      kernel.rows = blockRows;
      kernel.vecs = vecs;
      kernel.vectorType = vecType();
      kernel.kBegin = idx(0);
      kernel.kEnd = keyCount;
      kernel.loadA = [&](OpBuilder &nb, Value c, int64_t i) -> Value {
        return memref::LoadOp::create(nb, loc, scores,
                                      ValueRange{c, rowIdx[i]});
      };
      kernel.loadB = [&](OpBuilder &nb, Value c, int64_t j) -> Value {
        if (valuePanel)
          return vector::LoadOp::create(
              nb, loc, vecType(), valuePanel,
              ValueRange{c, arith::ConstantIndexOp::create(nb, loc, j * vw)});
        Value keyRow = arith::AddIOp::create(nb, loc, kv0, c);
        return vector::LoadOp::create(
            nb, loc, vecType(), buffers.value,
            ValueRange{tile.batch, tile.kvHead, keyRow, colIdx[j]});
      };
      kernel.init = [&](OpBuilder &, int64_t i, int64_t j) -> Value {
        return arith::MulFOp::create(*b, loc, load(acc, {rowIdx[i], colIdx[j]}),
                                     alphas[i]);
      };
      kernel.epilogue = [&](OpBuilder &, ArrayRef<Value> sums) {
        for (int64_t i = 0; i < blockRows; ++i)
          for (int64_t j = 0; j < vecs; ++j)
            store(sums[i * vecs + j], acc, {rowIdx[i], colIdx[j]});
      };
      buildMicroKernel(*b, loc, kernel);
    });
  });
}

Value CpuFlashTile::keysInTile(Value kv0, bool boundary) {
  if (!boundary)
    return idx(tileKv);
  return minIdx(idx(tileKv),
                arith::SubIOp::create(*b, loc, idx(shape.kvSeq), kv0));
}

void CpuFlashTile::endQueryTile(OpBuilder &builder) {
  if (output.probabilities)
    return;
  b = &builder;
  // out[q0 + r, :] = acc[r, :] / l[r]; rows that saw no key (l == 0) and
  // rows past the batch's q_len get 0.
  Value zero = f32(0.0f), zeros = splat(0.0f);
  loop(idx(0), tile.rows, 1, [&](Value r) {
    Value l = loadScalar(rowSum, r);
    Value valid = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult, r,
                                        tile.validRows);
    Value seen = arith::AndIOp::create(
        *b, loc, valid,
        arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OGT, l, zero));
    Value inv = arith::SelectOp::create(
        *b, loc, seen, arith::DivFOp::create(*b, loc, f32(1.0f), l), zero);
    Value invVec = vector::BroadcastOp::create(*b, loc, vecType(), inv);
    RowOutput target = tile.output(*b, loc, buffers, r);
    loop(idx(0), idx(shape.valueDim), vw, [&](Value d) {
      Value o = arith::MulFOp::create(*b, loc, load(acc, {r, d}), invVec);
      o = arith::SelectOp::create(*b, loc, valid, o, zeros);
      Type element = cast<ShapedType>(target.out.getType()).getElementType();
      if (!element.isF32())
        o = arith::TruncFOp::create(*b, loc, VectorType::get({vw}, element), o);
      vector::StoreOp::create(*b, loc, o, target.out, target.outAt(d));
    });
    if (target.lse) {
      Value lse = buildRowLse(*b, loc, loadScalar(rowMax, r), l, seen);
      memref::StoreOp::create(*b, loc, lse, target.lse, target.at);
    }
  });
}

} // namespace cpu

using cpu::CpuFlashTile;
using cpu::TileOutput;

std::unique_ptr<FlashTileComputation>
createCpuFlashTile(SdpaOp op, const FlashBuffers &buffers,
                   FlashTiling &tiling) {
  return std::make_unique<CpuFlashTile>(op, buffers, tiling, TileOutput{});
}

std::unique_ptr<FlashTileComputation>
createCpuProbsTile(SdpaProbsOp op, const FlashBuffers &buffers,
                   FlashTiling &tiling, bool average, int64_t headCount) {
  return std::make_unique<CpuFlashTile>(
      op, buffers, tiling, TileOutput{true, average, headCount});
}

} // namespace mlir::attn
