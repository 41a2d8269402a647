//===- FlashScoresCpu.cpp - score epilogue facts and attention maps -------===//
//
// The parts of the CPU flash tile that the score modifiers, half-precision
// operands and attn.sdpa_probs add to the tile loop of FlashTileCpu.cpp:
//
//   - the VectorScoreSite of a vector of scores: exact relative positions,
//     the bias by a gather down the key's column, the key's inverse norm;
//   - cosine similarity's row norms (queries where they are packed, keys
//     per kv tile);
//   - conversion of f16/bf16 operands to f32 as they are read (K a block of
//     qk_keys rows and V a panel of pv_vecs vectors at a time, into small
//     f32 scratch blocks that stay in L1 while the kernel uses them);
//   - the probabilities exp2(Sᵀ - log2(e)·lse), written row by row.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/CpuFlashTile.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

namespace mlir::attn::cpu {

Value CpuFlashTile::widen(OpBuilder &nb, Value x) {
  return widenToF32(nb, loc, x);
}

Value CpuFlashTile::loadWide(OpBuilder &nb, Value mem, ValueRange indices) {
  Type element = cast<ShapedType>(mem.getType()).getElementType();
  return widen(nb, vector::LoadOp::create(
                       nb, loc, VectorType::get({vw}, element), mem, indices));
}

void CpuFlashTile::convertBlock(Value source, Value block, Value firstKey,
                                 int64_t rows, Value col0, int64_t cols,
                                 bool boundary) {
  int64_t vectorEnd = cols / vw * vw;
  loop(idx(0), idx(rows), 1, [&](Value c) {
    Value key = add(firstKey, c);
    if (boundary)
      key = minIdx(key, idx(shape.kvSeq - 1));
    loop(idx(0), idx(vectorEnd), vw, [&](Value d) {
      store(loadWide(*b, source, {tile.batch, tile.kvHead, key, add(col0, d)}),
            block, {c, d});
    });
    loop(idx(vectorEnd), idx(cols), 1, [&](Value d) {
      memref::StoreOp::create(
          *b, loc,
          widen(*b, loadScalar(source,
                               {tile.batch, tile.kvHead, key, add(col0, d)})),
          block, ValueRange{c, d});
    });
  });
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
          Value x =
              loadWide(nb, buffers.key, {tile.batch, tile.kvHead, key, d});
          scf::YieldOp::create(
              nb, l, ValueRange{vector::FMAOp::create(nb, l, x, x, sum[0])});
        });
    Value sum = vector::ReductionOp::create(*b, loc, vector::CombiningKind::ADD,
                                            vectorLoop.getResult(0));
    auto tailLoop = scf::ForOp::create(
        *b, loc, idx(vectorEnd), idx(shape.headDim), idx(1), ValueRange{sum},
        [&](OpBuilder &nb, Location l, Value d, ValueRange acc) {
          Value x = widen(nb, memref::LoadOp::create(
                                  nb, l, buffers.key,
                                  ValueRange{tile.batch, tile.kvHead, key, d}));
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
  // With packed heads the lanes are rows of different heads (no modifier
  // that reads the head is allowed then, see SdpaOp::verify).
  if (tile.heads == 1)
    site.head = tile.qHead;
  // The tile rows r + lane as a vector of `element` (i32 or i64), split into
  // their query offsets from q0 and head offsets from qHead.
  auto laneRows = [&](Type element) {
    auto type = VectorType::get({vw}, element);
    Value first = vector::BroadcastOp::create(
        *b, loc, type, arith::IndexCastOp::create(*b, loc, element, r));
    return arith::AddIOp::create(*b, loc, first, iota(element)).getResult();
  };
  auto splatInt = [&](Type element, int64_t v) -> Value {
    return arith::ConstantOp::create(
        *b, loc,
        DenseElementsAttr::get(VectorType::get({vw}, element),
                               b->getIntegerAttr(element, v)));
  };
  site.relativePosition = [&]() -> Value {
    if (tile.heads == 1) {
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
    }
    // key - pos0 - (r + lane) / heads.
    Value queries = arith::DivUIOp::create(*b, loc, laneRows(i32),
                                           splatInt(i32, tile.heads));
    Value first = arith::IndexCastOp::create(
        *b, loc, i32, arith::SubIOp::create(*b, loc, key, tile.position0));
    Value rel = arith::SubIOp::create(
        *b, loc,
        vector::BroadcastOp::create(*b, loc, VectorType::get({vw}, i32), first),
        queries);
    return arith::SIToFPOp::create(*b, loc, vecType(), rel);
  };
  site.bias = [&]() -> Value {
    // bias[slab + min(q0 + r + lane, Sq - 1) · Skv + keyRow]: one gather down
    // the key's column (rows past Sq are clamped; their scores are unused).
    // With packed heads, lane l is query (r + l) / heads of head offset
    // (r + l) % heads, whose slab is that many Sq · Skv further (i64
    // offsets then: several slabs may pass 2^31 elements).
    Type offsetType = tile.heads == 1 ? i32 : Type(b->getI64Type());
    auto toVec = [&](Value v) {
      return vector::BroadcastOp::create(
          *b, loc, VectorType::get({vw}, offsetType),
          arith::IndexCastOp::create(*b, loc, offsetType, v));
    };
    Value rows, headOffsets;
    if (tile.heads == 1) {
      rows = arith::AddIOp::create(*b, loc, toVec(add(tile.q0, r)),
                                   iota(offsetType));
    } else {
      Value lanes = laneRows(offsetType);
      Value heads = splatInt(offsetType, tile.heads);
      rows = arith::AddIOp::create(
          *b, loc, toVec(tile.q0),
          arith::DivUIOp::create(*b, loc, lanes, heads));
      if (biasHeads != 1)
        headOffsets = arith::MulIOp::create(
            *b, loc, arith::RemUIOp::create(*b, loc, lanes, heads),
            splatInt(offsetType, shape.querySeq * shape.kvSeq));
    }
    rows = arith::MinSIOp::create(*b, loc, rows,
                                  splatInt(offsetType, shape.querySeq - 1));
    Value offsets = arith::MulIOp::create(*b, loc, rows,
                                          splatInt(offsetType, shape.kvSeq));
    offsets = arith::AddIOp::create(*b, loc, offsets, toVec(keyRow));
    if (headOffsets)
      offsets = arith::AddIOp::create(*b, loc, offsets, headOffsets);
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

} // namespace mlir::attn::cpu
