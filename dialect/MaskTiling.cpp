//===- MaskTiling.cpp - IR arithmetic and static tile counts --------------===//
//
// IRArith, the IR instantiation of the mask reasoning in MaskTiling.h, and the
// compile-time tile and pair counts that `--report` and FLOP counts use. Both
// go through the same templates as the lowering.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::attn {

//===----------------------------------------------------------------------===//
// IRArith
//===----------------------------------------------------------------------===//

Value IRArith::c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
Value IRArith::boolean(bool v) {
  return arith::ConstantIntOp::create(b, loc, v, 1);
}
Value IRArith::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value IRArith::sub(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}
Value IRArith::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value IRArith::min(Value x, Value y) {
  return arith::MinSIOp::create(b, loc, x, y);
}
Value IRArith::max(Value x, Value y) {
  return arith::MaxSIOp::create(b, loc, x, y);
}
Value IRArith::divFloor(Value x, int64_t d) {
  return arith::DivUIOp::create(b, loc, x, c(d));
}
Value IRArith::divCeil(Value x, int64_t d) {
  return arith::CeilDivUIOp::create(b, loc, x, c(d));
}
Value IRArith::lt(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
}
Value IRArith::le(Value x, Value y) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, x, y);
}
Value IRArith::andB(Value x, Value y) {
  return arith::AndIOp::create(b, loc, x, y);
}
Value IRArith::orB(Value x, Value y) {
  return arith::OrIOp::create(b, loc, x, y);
}
Value IRArith::select(Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, loc, cond, x, y);
}

//===----------------------------------------------------------------------===//
// Compile-time counts
//===----------------------------------------------------------------------===//

TileCounts countTiles(MaskAttrInterface mask, int64_t sq, int64_t skv,
                      int64_t tileQ, int64_t tileKv) {
  StaticArith a;
  StaticMaskRuntime rt{sq, skv, {}};
  SmallVector<KeyRange<int64_t>> runs = mask.getGlobalRuns();
  TileCounts counts;
  int64_t kvTiles = llvm::divideCeil(skv, tileKv);
  for (int64_t q0 = 0; q0 < sq; q0 += tileQ) {
    int64_t last = std::min(q0 + tileQ, sq) - 1;
    TileRanges<int64_t> ranges =
        computeTileRanges(a, mask.getRowKeys(q0, sq, skv, rt),
                          mask.getRowKeys(last, sq, skv, rt), runs);
    KeyRange<int64_t> hull = liveTileHull(a, ranges, tileKv, skv);
    for (int64_t t = hull.begin; t < hull.end; ++t) {
      auto [live, full] = classifyTile(a, ranges, t, tileKv);
      counts.full += full;
      counts.boundary += live && !full;
    }
    counts.skipped += kvTiles;
  }
  counts.skipped -= counts.full + counts.boundary;
  return counts;
}

int64_t countVisiblePairs(MaskAttrInterface mask, int64_t sq, int64_t skv) {
  StaticArith a;
  StaticMaskRuntime rt{sq, skv, {}};
  SmallVector<KeyRange<int64_t>> runs = mask.getGlobalRuns();
  int64_t pairs = 0;
  for (int64_t row = 0; row < sq; ++row) {
    StaticRowKeys keys = mask.getRowKeys(row, sq, skv, rt);
    KeyRange<int64_t> range = effectiveRowRange(a, keys, runs);
    int64_t begin = range.begin, end = std::max(range.begin, range.end);
    pairs += end - begin;
    if (!keys.valid || isGlobalKey(a, keys.position, runs))
      continue;
    // Global keys below the limit and outside the local range.
    for (KeyRange<int64_t> run : runs) {
      int64_t lo = run.begin, hi = std::min(run.end, keys.limit);
      if (lo >= hi)
        continue;
      pairs += (hi - lo) - std::max<int64_t>(
                               0, std::min(hi, end) - std::max(lo, begin));
    }
  }
  return pairs;
}

} // namespace mlir::attn
