//===- FlashTileCpu.cpp - one flash tile on the CPU -----------------------===//
//
// Per query tile (tile_q rows), FlashAttention-2 order:
//
//   Qt  = scale · log2(e) · Q[tile]ᵀ            (packed: head_dim × tile_q)
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
// Q while it is packed, the bias after its gather, and K and V once per kv
// tile into f32 scratch tiles (so the kernels read f32 as before, and a K/V
// tile's conversion is shared by every row block); the output is rounded to
// its element type as it is stored.
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
#include "passes/cpu/MicroKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::attn {
namespace {

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
  /// K or V rows kv0.. of the tile (clamped in boundary tiles) as f32 into
  /// `tileBuffer` [tile_kv, cols].
  void convertRows(Value source, Value tileBuffer, int64_t cols, Value kv0,
                   bool boundary);
  /// K[key] element `d`: from the f32 tile (`c`: the key within the tile)
  /// or the key buffer (`key`: the clamped absolute row).
  Value loadKey(OpBuilder &nb, Value c, Value key, Value d);
  void normalizeQueryTile(float packScale);
  void buildKeyScales(Value kv0, bool boundary);
  Value applyModifiers(Value s, Value r, Value key, Value keyRow, Value c);
  void buildScores(Value kv0, bool boundary);
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
  Value scores;   // tile_kv × tile_q: Sᵀ, then Pᵀ
  Value acc;      // tile_q × value_dim: unnormalized output
  Value rowMax;   // tile_q: running max m
  Value tileMax;  // tile_q: column max of the current kv tile's scores
  Value rowSum;   // tile_q: running sum l
  Value rowScale; // tile_q: α of the current kv tile
  Value keyScale; // tile_kv: 1 / max(||k||, eps) (normalize only)
  Value biasFlat; // the bias as a 1-D buffer
  Value biasSlab; // offset of this (batch, head)'s [Sq, Skv] bias slab
  Value lseRows;  // tile_q: log2(e) · lse (probabilities; 0 for -inf rows)
  Value keyTile;  // tile_kv × head_dim f32 K (half-precision keys only)
  Value valueTile; // tile_kv × value_dim f32 V (half-precision values only)
  Value outSlot;  // the result head written (probabilities)
};

static bool isF32(Value mem) {
  return cast<ShapedType>(mem.getType()).getElementType().isF32();
}

Value CpuFlashTile::widen(OpBuilder &nb, Value x) {
  Type type = x.getType();
  if (getElementTypeOrSelf(type).isF32())
    return x;
  Type f32Type = nb.getF32Type();
  if (auto vec = dyn_cast<VectorType>(type))
    f32Type = VectorType::get(vec.getShape(), f32Type);
  return arith::ExtFOp::create(nb, loc, f32Type, x);
}

Value CpuFlashTile::loadWide(OpBuilder &nb, Value mem, ValueRange indices) {
  Type element = cast<ShapedType>(mem.getType()).getElementType();
  return widen(nb, vector::LoadOp::create(
                       nb, loc, VectorType::get({vw}, element), mem, indices));
}

void CpuFlashTile::convertRows(Value source, Value tileBuffer, int64_t cols,
                               Value kv0, bool boundary) {
  int64_t vectorEnd = cols / vw * vw;
  loop(idx(0), idx(tileKv), 1, [&](Value c) {
    Value key = add(kv0, c);
    if (boundary)
      key = minIdx(key, idx(shape.kvSeq - 1));
    loop(idx(0), idx(vectorEnd), vw, [&](Value d) {
      store(loadWide(*b, source, {tile.batch, tile.kvHead, key, d}),
            tileBuffer, {c, d});
    });
    loop(idx(vectorEnd), idx(cols), 1, [&](Value d) {
      memref::StoreOp::create(
          *b, loc,
          widen(*b, loadScalar(source, {tile.batch, tile.kvHead, key, d})),
          tileBuffer, ValueRange{c, d});
    });
  });
}

Value CpuFlashTile::loadKey(OpBuilder &nb, Value c, Value key, Value d) {
  if (keyTile)
    return memref::LoadOp::create(nb, loc, keyTile, ValueRange{c, d});
  return memref::LoadOp::create(nb, loc, buffers.key,
                                ValueRange{tile.batch, tile.kvHead, key, d});
}

Value CpuFlashTile::iota(Type elementType) {
  auto type = VectorType::get({vw}, elementType);
  SmallVector<Attribute> lanes;
  for (int64_t i = 0; i < vw; ++i)
    lanes.push_back(elementType.isF32()
                        ? Attribute(b->getF32FloatAttr(float(i)))
                        : Attribute(b->getIntegerAttr(elementType, i)));
  return arith::ConstantOp::create(*b, loc,
                                   DenseElementsAttr::get(type, lanes));
}

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
  tileMax = alloc({tileQ});
  if (!output.probabilities) {
    acc = alloc({tileQ, shape.valueDim});
    rowMax = alloc({tileQ});
    rowSum = alloc({tileQ});
    rowScale = alloc({tileQ});
  }
  if (normalize)
    keyScale = alloc({tileKv});
  if (!isF32(buffers.key))
    keyTile = alloc({tileKv, shape.headDim});
  if (buffers.value && !isF32(buffers.value))
    valueTile = alloc({tileKv, shape.valueDim});
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
  Value scaleCst = f32(scale * llvm::numbers::log2ef);
  Value zero = f32(0.0f);
  Value lastQuery = idx(shape.querySeq - 1);
  loop(idx(0), idx(tileQ), 1, [&](Value r) {
    Value inBounds =
        arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::ult, r, tile.rows);
    Value row = minIdx(add(tile.q0, r), lastQuery);
    loop(idx(0), idx(shape.headDim), 1, [&](Value d) {
      Value x = widen(
          *b, loadScalar(buffers.query, {tile.batch, tile.qHead, row, d}));
      x = arith::MulFOp::create(*b, loc, x, scaleCst);
      x = arith::SelectOp::create(*b, loc, inBounds, x, zero);
      memref::StoreOp::create(*b, loc, x, qPack, ValueRange{d, r});
    });
  });
  if (normalize)
    normalizeQueryTile(scale * llvm::numbers::log2ef);
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

void CpuFlashTile::normalizeQueryTile(float packScale) {
  // qPack[:, r] holds packScale · q_r: divide it by max(||q_r||, eps),
  // vectors of vw rows at a time.
  Value eps = splat(static_cast<float>(kCosineNormEpsilon));
  Value invScale = splat(1.0f / std::fabs(packScale));
  loop(idx(0), idx(tileQ), vw, [&](Value r) {
    auto sumLoop = scf::ForOp::create(
        *b, loc, idx(0), idx(shape.headDim), idx(1), ValueRange{splat(0.0f)},
        [&](OpBuilder &nb, Location l, Value d, ValueRange sum) {
          Value x = vector::LoadOp::create(nb, l, vecType(), qPack,
                                           ValueRange{d, r});
          scf::YieldOp::create(
              nb, l, ValueRange{vector::FMAOp::create(nb, l, x, x, sum[0])});
        });
    Value norm = arith::MulFOp::create(
        *b, loc, math::SqrtOp::create(*b, loc, sumLoop.getResult(0)),
        invScale);
    Value inv = arith::DivFOp::create(
        *b, loc, splat(1.0f), arith::MaximumFOp::create(*b, loc, norm, eps));
    loop(idx(0), idx(shape.headDim), 1, [&](Value d) {
      store(arith::MulFOp::create(*b, loc, load(qPack, {d, r}), inv), qPack,
            {d, r});
    });
  });
}

void CpuFlashTile::buildKeyScales(Value kv0, bool boundary) {
  // keyScale[c] = 1 / max(||K[kv0 + c]||, eps), summed in vectors along the
  // head dim (its tail, if any, in scalars).
  int64_t vectorEnd = shape.headDim / vw * vw;
  loop(idx(0), idx(tileKv), 1, [&](Value c) {
    Value key = add(kv0, c);
    if (boundary)
      key = minIdx(key, idx(shape.kvSeq - 1));
    auto vectorLoop = scf::ForOp::create(
        *b, loc, idx(0), idx(vectorEnd), idx(vw), ValueRange{splat(0.0f)},
        [&](OpBuilder &nb, Location l, Value d, ValueRange sum) {
          Value x = keyTile ? vector::LoadOp::create(nb, l, vecType(), keyTile,
                                                     ValueRange{c, d})
                            : loadWide(nb, buffers.key,
                                       {tile.batch, tile.kvHead, key, d});
          scf::YieldOp::create(
              nb, l, ValueRange{vector::FMAOp::create(nb, l, x, x, sum[0])});
        });
    Value sum = vector::ReductionOp::create(*b, loc, vector::CombiningKind::ADD,
                                            vectorLoop.getResult(0));
    auto tailLoop = scf::ForOp::create(
        *b, loc, idx(vectorEnd), idx(shape.headDim), idx(1), ValueRange{sum},
        [&](OpBuilder &nb, Location l, Value d, ValueRange acc) {
          Value x = loadKey(nb, c, key, d);
          scf::YieldOp::create(
              nb, l, ValueRange{math::FmaOp::create(nb, l, x, x, acc[0])});
        });
    Value norm = math::SqrtOp::create(*b, loc, tailLoop.getResult(0));
    Value inv = arith::DivFOp::create(
        *b, loc, f32(1.0f),
        arith::MaximumFOp::create(
            *b, loc, norm, f32(static_cast<float>(kCosineNormEpsilon))));
    memref::StoreOp::create(*b, loc, inv, keyScale, c);
  });
}

Value CpuFlashTile::applyModifiers(Value s, Value r, Value key, Value keyRow,
                                   Value c) {
  // r: the tile row of lane 0; key: the absolute key; keyRow: the key clamped
  // into the buffers; c: the key within the tile.
  Type i32 = b->getI32Type();
  VectorScoreSite site;
  site.width = vw;
  site.domain = llvm::numbers::log2e;
  site.head = tile.qHead;
  site.relativePosition = [&]() -> Value {
    // key - pos(q0 + r + lane) = (key - pos0 - r) - lane: integers below
    // 2^24, so exact in f32.
    Value first = arith::SubIOp::create(
        *b, loc, key, add(tile.position0, r));
    Value firstF = arith::SIToFPOp::create(
        *b, loc, b->getF32Type(),
        arith::IndexCastOp::create(*b, loc, i32, first));
    return arith::SubFOp::create(
        *b, loc, vector::BroadcastOp::create(*b, loc, vecType(), firstF),
        iota(b->getF32Type()));
  };
  site.bias = [&]() -> Value {
    // bias[slab + min(q0 + r + lane, Sq - 1) · Skv + keyRow]: one gather down
    // the key's column (rows past Sq are clamped; their scores are unused).
    auto i32Vec = VectorType::get({vw}, i32);
    auto toI32 = [&](Value v) {
      return vector::BroadcastOp::create(
          *b, loc, i32Vec, arith::IndexCastOp::create(*b, loc, i32, v));
    };
    Value rows = arith::AddIOp::create(*b, loc, toI32(add(tile.q0, r)),
                                       iota(i32));
    rows = arith::MinSIOp::create(
        *b, loc, rows,
        arith::ConstantOp::create(
            *b, loc,
            DenseElementsAttr::get(
                i32Vec, b->getI32IntegerAttr(int32_t(shape.querySeq - 1)))));
    Value offsets = arith::MulIOp::create(
        *b, loc, rows,
        arith::ConstantOp::create(
            *b, loc,
            DenseElementsAttr::get(i32Vec,
                                   b->getI32IntegerAttr(int32_t(shape.kvSeq)))));
    offsets = arith::AddIOp::create(*b, loc, offsets, toI32(keyRow));
    Value allLanes = arith::ConstantOp::create(
        *b, loc,
        DenseElementsAttr::get(VectorType::get({vw}, b->getI1Type()), true));
    Type element = cast<ShapedType>(biasFlat.getType()).getElementType();
    auto gathered = VectorType::get({vw}, element);
    Value passThru = arith::ConstantOp::create(
        *b, loc, DenseElementsAttr::get(gathered, b->getFloatAttr(element, 0)));
    return widen(*b, vector::GatherOp::create(*b, loc, gathered, biasFlat,
                                              ValueRange{biasSlab}, offsets,
                                              allLanes, passThru));
  };
  site.keyScale = [&]() -> Value {
    return vector::BroadcastOp::create(*b, loc, vecType(),
                                       loadScalar(keyScale, c));
  };
  for (ScoreModifierAttrInterface modifier : modifiers)
    s = modifier.buildVector(*b, loc, site, s);
  return s;
}

void CpuFlashTile::computeKvTile(OpBuilder &builder, Value kv0,
                                 bool boundary) {
  OpBuilder *outer = b;
  b = &builder;
  Value minusInf = negInf();
  loop(idx(0), idx(tileQ), vw, [&](Value r) { store(minusInf, tileMax, r); });
  if (keyTile)
    convertRows(buffers.key, keyTile, shape.headDim, kv0, boundary);
  if (valueTile && !output.probabilities)
    convertRows(buffers.value, valueTile, shape.valueDim, kv0, boundary);
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
  // Kernel 1: scores[c, r] = Σ_d K[kv0 + c, d] · qPack[d, r]. In boundary
  // tiles key indices are clamped to stay in bounds and the epilogue sets
  // scores the mask hides to -inf. The epilogue also folds each block into
  // the tile's column max, so no pass re-reads the scores for it.
  int64_t keys = schedule.getQkKeys(), qvecs = schedule.getQkQvecs();
  Value minusInf = negInf();
  loop(idx(0), idx(tileKv), keys, [&](Value c0) {
    SmallVector<Value> keyIdx, keyRows, keyLocal;
    for (int64_t c = 0; c < keys; ++c) {
      keyLocal.push_back(add(c0, idx(c)));
      keyIdx.push_back(add(kv0, keyLocal.back()));
      keyRows.push_back(boundary ? minIdx(keyIdx.back(), idx(shape.kvSeq - 1))
                                 : keyIdx.back());
    }
    loop(idx(0), idx(tileQ), qvecs * vw, [&](Value r0) {
      MicroKernel kernel;
      kernel.rows = keys;
      kernel.vecs = qvecs;
      kernel.vectorType = vecType();
      kernel.kBegin = idx(0);
      kernel.kEnd = idx(shape.headDim);
      kernel.loadA = [&](OpBuilder &nb, Value d, int64_t c) -> Value {
        return loadKey(nb, keyLocal[c], keyRows[c], d);
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
          Value r = add(r0, idx(j * vw));
          Value colMax = load(tileMax, r);
          for (int64_t c = 0; c < keys; ++c) {
            Value s = sums[c * qvecs + j];
            if (!modifiers.empty())
              s = applyModifiers(s, r, keyIdx[c], keyRows[c], keyLocal[c]);
            if (boundary)
              s = arith::SelectOp::create(
                  *b, loc, tiling.buildVisible(*b, r, keyIdx[c], vw), s,
                  minusInf);
            store(s, scores, {add(c0, idx(c)), r});
            colMax = maxScores(colMax, s);
          }
          store(colMax, tileMax, r);
        }
      };
      buildMicroKernel(*b, loc, kernel);
    });
  });
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
  // The value panel (tile_kv × pv_vecs vectors) is the outer loop so that it
  // stays in L1 while every row block of the tile uses it.
  loop(idx(0), idx(shape.valueDim), vecs * vw, [&](Value d0) {
    SmallVector<Value> colIdx;
    for (int64_t j = 0; j < vecs; ++j)
      colIdx.push_back(add(d0, idx(j * vw)));
    loop(idx(0), idx(tileQ), blockRows, [&](Value r0) {
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
        if (valueTile)
          return vector::LoadOp::create(nb, loc, vecType(), valueTile,
                                        ValueRange{c, colIdx[j]});
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

void CpuFlashTile::beginProbabilities() {
  // The result rows of this tile start at 0 (the first head of an average
  // clears them for the others to accumulate into): pairs the mask hides,
  // skipped tiles and rows past q_len stay 0.
  outSlot = output.average ? idx(0) : tile.slot;
  auto clear = [&] {
    loop(idx(0), tile.rows, 1, [&](Value r) {
      Value row = add(tile.q0, r);
      loop(idx(0), idx(shape.kvSeq), 1, [&](Value j) {
        memref::StoreOp::create(*b, loc, f32(0.0f), buffers.out,
                                ValueRange{tile.batch, outSlot, row, j});
      });
    });
  };
  if (output.average) {
    Value first = arith::CmpIOp::create(*b, loc, arith::CmpIPredicate::eq,
                                        tile.slot, idx(0));
    auto ifOp = scf::IfOp::create(*b, loc, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(*b);
    b->setInsertionPoint(ifOp.thenYield());
    clear();
  } else {
    clear();
  }
  // lseRows[r] = log2(e) · lse of the row (0 for rows without a visible key,
  // whose scores are all -inf, so that exp2 gives 0 rather than NaN).
  lseRows = alloc({tileQ});
  Value lastQuery = idx(shape.querySeq - 1);
  Value minusInf = f32(-std::numeric_limits<float>::infinity());
  loop(idx(0), idx(tileQ), 1, [&](Value r) {
    Value row = minIdx(add(tile.q0, r), lastQuery);
    Value lse = loadScalar(buffers.lse, {tile.batch, tile.qHead, row});
    Value empty = arith::CmpFOp::create(*b, loc, arith::CmpFPredicate::OEQ,
                                        lse, minusInf);
    Value scaled = arith::MulFOp::create(*b, loc, lse, f32(llvm::numbers::log2ef));
    memref::StoreOp::create(
        *b, loc, arith::SelectOp::create(*b, loc, empty, f32(0.0f), scaled),
        lseRows, r);
  });
}

void CpuFlashTile::buildProbabilities(Value kv0, bool boundary) {
  // Pᵀ = exp2(Sᵀ - log2(e) · lse) in place, vectors of queries; then the
  // valid rows are written (or, averaging, added with weight 1/H) to the
  // result's row-major [Sq, Skv] slab of this head.
  Value keyCount = keysInTile(kv0, boundary);
  loop(idx(0), keyCount, 1, [&](Value c) {
    loop(idx(0), idx(tileQ), vw, [&](Value r) {
      Value s = load(scores, {c, r});
      store(math::Exp2Op::create(
                *b, loc, arith::SubFOp::create(*b, loc, s, load(lseRows, r))),
            scores, {c, r});
    });
  });
  Value weight = f32(output.average ? 1.0f / output.headCount : 1.0f);
  loop(idx(0), tile.validRows, 1, [&](Value r) {
    Value row = add(tile.q0, r);
    loop(idx(0), keyCount, 1, [&](Value c) {
      SmallVector<Value, 4> at{tile.batch, outSlot, row, add(kv0, c)};
      Value p = loadScalar(scores, {c, r});
      if (output.average)
        p = math::FmaOp::create(*b, loc, p, weight,
                                loadScalar(buffers.out, at));
      memref::StoreOp::create(*b, loc, p, buffers.out, at);
    });
  });
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
    Value outRow = add(tile.q0, r);
    loop(idx(0), idx(shape.valueDim), vw, [&](Value d) {
      Value o = arith::MulFOp::create(*b, loc, load(acc, {r, d}), invVec);
      o = arith::SelectOp::create(*b, loc, valid, o, zeros);
      Type element = cast<ShapedType>(buffers.out.getType()).getElementType();
      if (!element.isF32())
        o = arith::TruncFOp::create(*b, loc, VectorType::get({vw}, element), o);
      vector::StoreOp::create(*b, loc, o, buffers.out,
                              ValueRange{tile.batch, tile.qHead, outRow, d});
    });
    if (buffers.lse) {
      // ln Σ exp(s) = ln 2 · log2 Σ exp2(u) with u = log2(e) · s and the
      // running max m of u: ln 2 · (m + log2 l).
      Value m = loadScalar(rowMax, r);
      Value lse = arith::MulFOp::create(
          *b, loc,
          arith::AddFOp::create(*b, loc, m, math::Log2Op::create(*b, loc, l)),
          f32(llvm::numbers::ln2f));
      lse = arith::SelectOp::create(
          *b, loc, seen, lse, f32(-std::numeric_limits<float>::infinity()));
      memref::StoreOp::create(*b, loc, lse, buffers.lse,
                              ValueRange{tile.batch, tile.qHead, outRow});
    }
  });
}

} // namespace

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
