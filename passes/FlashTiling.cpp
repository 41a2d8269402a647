//===- FlashTiling.cpp - which flash-attention tiles run ------------------===//
//
// Parallel iteration i covers kv chunk i % splits (kv_splits; one chunk
// when not split) of query tile (tiles - 1 - j % tiles), j = i / splits, of
// head group (j / tiles) % (Hq / heads_per_tile) of batch
// j / (tiles · Hq / heads_per_tile): with a causal mask the costliest tiles
// come first, which evens out dynamic scheduling. Per query tile:
//
//   q_len, kv_len   = the batch's valid lengths (clamped to [0, S]), or S
//   row info        = per row, the keys it sees in boundary tiles (mask
//                     interface + segment keys by binary search)
//   ranges          = computeTileRanges(first valid row, last valid row)
//   for t in hull(live ranges) ∩ chunk:  (live, full) = classifyTile(t)
//     full → computeKvTile(t, boundary = false); live → boundary = true
//
// All mask reasoning is MaskTiling.h's; this file only feeds it Values.
//
//===----------------------------------------------------------------------===//
#include "passes/FlashTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::attn {

Value widenToF32(OpBuilder &b, Location loc, Value x) {
  Type type = x.getType();
  if (getElementTypeOrSelf(type).isF32())
    return x;
  Type f32Type = b.getF32Type();
  if (auto vec = dyn_cast<VectorType>(type))
    f32Type = VectorType::get(vec.getShape(), f32Type);
  return arith::ExtFOp::create(b, loc, f32Type, x);
}

Value buildRowLse(OpBuilder &b, Location loc, Value m, Value l, Value seen) {
  // ln Σ exp(s) = ln 2 · log2 Σ exp2(u) with u = log2(e) · s and the
  // running max m of u.
  FloatType f32 = b.getF32Type();
  Value lse = arith::MulFOp::create(
      b, loc, arith::AddFOp::create(b, loc, m, math::Log2Op::create(b, loc, l)),
      arith::ConstantFloatOp::create(b, loc, f32,
                                     APFloat(llvm::numbers::ln2f)));
  return arith::SelectOp::create(
      b, loc, seen, lse,
      arith::ConstantFloatOp::create(
          b, loc, f32, APFloat(-std::numeric_limits<float>::infinity())));
}

Value bufferOfTensor(OpBuilder &b, Location loc, Value tensor) {
  if (!tensor)
    return {};
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                           /*read_only=*/true);
}

Value allocResultBuffer(OpBuilder &b, Location loc, Value result) {
  if (!result)
    return {};
  auto type = cast<RankedTensorType>(result.getType());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      ValueRange{}, b.getI64IntegerAttr(64));
}

void replaceResultWithBuffer(OpBuilder &b, Location loc, Value result,
                             Value buffer) {
  result.replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, loc, result.getType(), buffer, /*restrict=*/true, /*writable=*/true));
}

FlashTiling::FlashTiling(AttentionOpInterface op, const FlashBuffers &buffers,
                         ArrayRef<int64_t> innerHeads)
    : loc(op->getLoc()), shape(op.getShape()), mask(op.getMaskOrDefault()),
      globalRuns(mask.getGlobalRuns()), buffers(buffers),
      tileQ(op.getFlashSchedule().getTileQ()),
      tileKv(op.getFlashSchedule().getTileKv()),
      headsPerTile(op.getFlashSchedule().getHeadsPerTile()),
      kvSplits(op.getFlashSchedule().getKvSplits()),
      queriesPerTile(tileQ / headsPerTile), innerHeads(innerHeads) {}

int64_t FlashTiling::getNumIterations() const {
  return shape.batch *
         (innerHeads.empty() ? shape.queryHeads / headsPerTile : 1) *
         llvm::divideCeil(shape.querySeq, queriesPerTile) * kvSplits;
}

Value QueryTile::query(OpBuilder &b, Location loc, Value r) const {
  IRArith a{b, loc};
  if (heads == 1)
    return a.add(q0, r);
  return a.add(q0, arith::DivUIOp::create(b, loc, r, a.c(heads)));
}

Value QueryTile::head(OpBuilder &b, Location loc, Value r) const {
  IRArith a{b, loc};
  if (heads == 1)
    return qHead;
  return a.add(qHead, arith::RemUIOp::create(b, loc, r, a.c(heads)));
}

RowOutput QueryTile::output(OpBuilder &b, Location loc,
                            const FlashBuffers &buffers, Value r) const {
  RowOutput row;
  row.at = {batch, head(b, loc, r), query(b, loc, r)};
  if (!split) {
    row.out = buffers.out;
    row.lse = buffers.lse;
    return row;
  }
  row.at.insert(row.at.begin(), split);
  row.out = buffers.partialOut;
  row.lse = buffers.partialLse;
  return row;
}

/// `x` clamped to [0, hi].
static Value clampIndex(IRArith &a, Value x, int64_t hi) {
  return a.min(a.max(x, a.c(0)), a.c(hi));
}

/// Loads `mem[indices]` (i32) as an index.
static Value loadIndex(OpBuilder &b, Location loc, Value mem,
                       ValueRange indices) {
  Value v = memref::LoadOp::create(b, loc, mem, indices);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// The first key j of batch `batch` with seg[j] > target (`upper`) or
/// >= target, by binary search over [0, n).
static Value searchSegment(OpBuilder &b, Location loc, Value seg, Value batch,
                           Value target, int64_t n, bool upper) {
  Type index = b.getIndexType();
  IRArith a{b, loc};
  auto loop = scf::WhileOp::create(
      b, loc, TypeRange{index, index}, ValueRange{a.c(0), a.c(n)},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IRArith w{nb, l};
        scf::ConditionOp::create(nb, l, w.lt(args[0], args[1]), args);
      },
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IRArith w{nb, l};
        Value mid = w.divFloor(w.add(args[0], args[1]), 2);
        Value id = memref::LoadOp::create(nb, l, seg, ValueRange{batch, mid});
        // Is the answer right of mid?
        Value right = upper ? w.le(id, target) : w.lt(id, target);
        Value next = w.add(mid, w.c(1));
        scf::YieldOp::create(nb, l,
                             ValueRange{w.select(right, next, args[0]),
                                        w.select(right, args[1], mid)});
      });
  return loop.getResult(0);
}

IRMaskRuntime FlashTiling::buildRuntime(OpBuilder &b, Value batch) {
  IRArith a{b, loc};
  IRMaskRuntime rt{a.c(shape.querySeq), a.c(shape.kvSeq), {}};
  // Lengths are clamped so that no load or store can leave the buffers,
  // whatever the caller passes (the harness rejects bad ones first).
  if (buffers.qLengths)
    rt.qLen = clampIndex(a, loadIndex(b, loc, buffers.qLengths, batch),
                         shape.querySeq);
  if (buffers.kvLengths)
    rt.kvLen = clampIndex(a, loadIndex(b, loc, buffers.kvLengths, batch),
                          shape.kvSeq);
  if (buffers.kvSegments) {
    Value kvSeg = buffers.kvSegments, qSeg = buffers.qSegments;
    int64_t sq = shape.querySeq, skv = shape.kvSeq;
    Location l = loc;
    rt.segmentKeys = [&b, l, kvSeg, qSeg, batch, sq,
                      skv](Value row) -> std::pair<Value, Value> {
      IRArith a{b, l};
      Value clamped = a.min(row, a.c(sq - 1));
      Value id =
          memref::LoadOp::create(b, l, qSeg, ValueRange{batch, clamped});
      return {searchSegment(b, l, kvSeg, batch, id, skv, /*upper=*/false),
              searchSegment(b, l, kvSeg, batch, id, skv, /*upper=*/true)};
    };
  }
  return rt;
}

void FlashTiling::buildIteration(OpBuilder &b, Value linear,
                                 FlashTileComputation &computation) {
  IRArith a{b, loc};
  QueryTile qt;
  qt.heads = headsPerTile;
  if (kvSplits > 1) {
    qt.split = arith::RemUIOp::create(b, loc, linear, a.c(kvSplits));
    linear = arith::DivUIOp::create(b, loc, linear, a.c(kvSplits));
  }
  int64_t queryTiles = llvm::divideCeil(shape.querySeq, queriesPerTile);
  Value tilesCst = a.c(queryTiles);
  Value tileRev = arith::RemUIOp::create(b, loc, linear, tilesCst);
  Value tile = a.sub(a.c(queryTiles - 1), tileRev);
  Value bh = arith::DivUIOp::create(b, loc, linear, tilesCst);
  qt.q0 = a.mul(tile, a.c(queriesPerTile));
  qt.rows = a.min(a.c(queriesPerTile), a.sub(a.c(shape.querySeq), qt.q0));
  if (headsPerTile > 1)
    qt.rows = a.mul(qt.rows, a.c(headsPerTile));
  if (innerHeads.empty()) {
    int64_t groups = shape.queryHeads / headsPerTile;
    qt.qHead = arith::RemUIOp::create(b, loc, bh, a.c(groups));
    if (headsPerTile > 1)
      qt.qHead = a.mul(qt.qHead, a.c(headsPerTile));
    qt.batch = arith::DivUIOp::create(b, loc, bh, a.c(groups));
    buildQueryTile(b, qt, computation);
    return;
  }
  // The listed heads in turn: head = innerHeads[slot] from a constant table.
  qt.batch = bh;
  auto tableType = VectorType::get({static_cast<int64_t>(innerHeads.size())},
                                   b.getI64Type());
  Value table = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(tableType, ArrayRef<int64_t>(innerHeads)));
  auto forOp = scf::ForOp::create(
      b, loc, a.c(0), a.c(static_cast<int64_t>(innerHeads.size())), a.c(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  qt.slot = forOp.getInductionVar();
  Value head = vector::ExtractOp::create(b, loc, table,
                                         ArrayRef<OpFoldResult>{qt.slot});
  qt.qHead = arith::IndexCastOp::create(b, loc, b.getIndexType(), head);
  buildQueryTile(b, qt, computation);
}

void FlashTiling::buildQueryTile(OpBuilder &b, QueryTile qt,
                                 FlashTileComputation &computation) {
  IRArith a{b, loc};
  qt.kvHead = arith::DivUIOp::create(b, loc, qt.qHead,
                                     a.c(shape.queryHeads / shape.kvHeads));

  runtime = buildRuntime(b, qt.batch);
  Value validQueries = a.sub(runtime.qLen, qt.q0);
  if (headsPerTile > 1)
    validQueries = a.mul(validQueries, a.c(headsPerTile));
  qt.validRows = a.max(a.min(qt.rows, validQueries), a.c(0));
  qt.position0 = a.add(qt.q0, a.sub(runtime.kvLen, runtime.qLen));
  computation.beginQueryTile(b, qt);
  if (computation.usesRowTable())
    buildRowInfo(b, qt);
  buildKvLoop(b, qt, computation);
  computation.endQueryTile(b);
}

RowVisibility FlashTiling::buildRowVisibility(OpBuilder &b,
                                              const QueryTile &tile, Value r) {
  IRArith a{b, loc};
  IRRowKeys keys = mask.buildRowKeys(b, loc, tile.query(b, loc, r),
                                     shape.querySeq, shape.kvSeq, runtime);
  KeyRange<Value> range = effectiveRowRange(a, keys, globalRuns);
  return {range.begin, range.end, a.select(keys.valid, keys.limit, a.c(0))};
}

void FlashTiling::buildRowInfo(OpBuilder &b, const QueryTile &tile) {
  // rowBegin/rowEnd/rowLimit[r] for r in [0, tile_q); rows past q_len (or
  // past Sq) get an empty range and limit 0.
  auto type = MemRefType::get({tileQ}, b.getI32Type());
  auto alloc = [&] {
    return memref::AllocOp::create(b, loc, type, ValueRange{},
                                   b.getI64IntegerAttr(64));
  };
  rowBegin = alloc();
  rowEnd = alloc();
  rowLimit = alloc();
  IRArith a{b, loc};
  auto forOp = scf::ForOp::create(b, loc, a.c(0), a.c(tileQ), a.c(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  Value r = forOp.getInductionVar();
  RowVisibility row = buildRowVisibility(b, tile, r);
  for (auto [value, mem] : {std::pair{row.begin, rowBegin},
                            std::pair{row.end, rowEnd},
                            std::pair{row.limit, rowLimit}}) {
    Value i32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), value);
    memref::StoreOp::create(b, loc, i32, mem, r);
  }
}

void FlashTiling::buildKvLoop(OpBuilder &b, const QueryTile &tile,
                              FlashTileComputation &computation) {
  IRArith a{b, loc};
  // The tile's first and last valid rows bound what any row sees.
  Value lastRow =
      tile.query(b, loc, a.max(a.sub(tile.validRows, a.c(1)), a.c(0)));
  IRRowKeys first = mask.buildRowKeys(b, loc, tile.q0, shape.querySeq,
                                      shape.kvSeq, runtime);
  IRRowKeys last =
      mask.buildRowKeys(b, loc, lastRow, shape.querySeq, shape.kvSeq, runtime);
  TileRanges<Value> ranges = computeTileRanges(a, first, last, globalRuns);
  KeyRange<Value> hull = liveTileHull(a, ranges, tileKv, shape.kvSeq);
  // A tile without valid rows visits nothing.
  Value anyRow = a.lt(a.c(0), tile.validRows);
  Value hullBegin = hull.begin;
  Value hullEnd = a.select(anyRow, hull.end, hull.begin);
  if (tile.split) {
    // This chunk's share of the kv tiles (the last chunks may be empty).
    int64_t chunk =
        llvm::divideCeil(llvm::divideCeil(shape.kvSeq, tileKv), kvSplits);
    Value first = a.mul(tile.split, a.c(chunk));
    hullBegin = a.max(hullBegin, first);
    hullEnd = a.max(a.min(hullEnd, a.add(first, a.c(chunk))), hullBegin);
  }

  kvTileEnd = hullEnd;
  auto forOp = scf::ForOp::create(b, loc, hullBegin, hullEnd, a.c(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  Value t = forOp.getInductionVar();
  auto [live, isFull] = classifyTile(a, ranges, t, tileKv);
  Value full = isFull;
  Value kv0 = a.mul(t, a.c(tileKv));
  auto emitTile = [&](OpBuilder &nested) {
    auto ifOp = scf::IfOp::create(nested, loc, full, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard inner(nested);
    nested.setInsertionPoint(ifOp.thenYield());
    computation.computeKvTile(nested, kv0, /*boundary=*/false);
    nested.setInsertionPoint(ifOp.elseYield());
    computation.computeKvTile(nested, kv0, /*boundary=*/true);
  };
  if (!ranges.multiple) {
    emitTile(b);
    return;
  }
  auto liveIf = scf::IfOp::create(b, loc, live, /*withElseRegion=*/false);
  b.setInsertionPoint(liveIf.thenYield());
  emitTile(b);
}

Value FlashTiling::visibleFrom(OpBuilder &b, function_ref<Value()> begin,
                               function_ref<Value()> end,
                               function_ref<Value()> limit, Value key,
                               function_ref<Value()> globalKey) {
  // The operands are built in this order: begin, end, then (with global
  // runs) the global-key test and the limit.
  auto cmp = [&](arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, pred, x, y).getResult();
  };
  Value atOrAfterBegin = cmp(arith::CmpIPredicate::sle, begin(), key);
  Value visible = arith::AndIOp::create(
      b, loc, atOrAfterBegin, cmp(arith::CmpIPredicate::slt, key, end()));
  if (globalRuns.empty())
    return visible;
  Value global = globalKey();
  Value belowLimit = cmp(arith::CmpIPredicate::slt, key, limit());
  return arith::OrIOp::create(
      b, loc, visible, arith::AndIOp::create(b, loc, global, belowLimit));
}

Value FlashTiling::buildVisible(OpBuilder &b, Value r, Value key, int64_t vw) {
  auto vecType = VectorType::get({vw}, b.getI32Type());
  auto load = [&](Value mem) {
    return vector::LoadOp::create(b, loc, vecType, mem, r).getResult();
  };
  Value key32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), key);
  Value keyVec = vector::BroadcastOp::create(b, loc, vecType, key32);
  return visibleFrom(
      b, [&] { return load(rowBegin); }, [&] { return load(rowEnd); },
      [&] { return load(rowLimit); }, keyVec,
      [&]() -> Value {
        IRArith a{b, loc};
        return vector::BroadcastOp::create(
            b, loc, VectorType::get({vw}, b.getI1Type()),
            isGlobalKey(a, key, globalRuns));
      });
}

Value FlashTiling::buildVisible(OpBuilder &b, const RowVisibility &row,
                                Value key) {
  return visibleFrom(
      b, [&] { return row.begin; }, [&] { return row.end; },
      [&] { return row.limit; }, key, [&] {
        IRArith a{b, loc};
        return isGlobalKey(a, key, globalRuns);
      });
}

} // namespace mlir::attn
