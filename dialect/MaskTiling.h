//===- MaskTiling.h - visible keys and tile classes of a mask ---*- C++ -*-===//
//
// The one implementation of "which keys does a query row see" and "is this
// (query tile, kv tile) pair full, boundary or skipped". It is written once,
// as templates over an arithmetic `A`, and instantiated twice:
//
//   - StaticArith (int64_t / bool): FLOP counts, `--report`, unit tests;
//   - IRArith (index / i1 Values, in dialect/MaskTiling.cpp): the lowering
//     (CPU today, GPU later) emits exactly the same reasoning as IR.
//
// A mask (anything implementing MaskAttrInterface) provides two things:
//
//   1. per query row i, its *local* keys [begin(i), end(i)) and a hard limit
//      limit(i) (keys j >= limit(i) are never visible). begin, end and limit
//      never decrease with i over the valid rows: this is what makes tile
//      skipping a query on two rows of a tile;
//   2. a list of static *global runs* [b, e) of positions: a key j in a run
//      is seen by every row (below its limit), and a row whose position is in
//      a run sees every key below its limit.
//
// So row i sees key j iff   j < limit(i) and (globalRow(i) or globalKey(j)
// or begin(i) <= j < end(i)).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_MASKTILING_H
#define ATTN_DIALECT_MASKTILING_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>

namespace mlir::attn {

/// Keys [begin, end); empty when end <= begin.
template <typename V> struct KeyRange {
  V begin, end;
};

/// What a mask says about one query row (see the file comment).
template <typename V, typename B> struct RowKeys {
  V begin, end, limit; // local keys [begin, end), all keys below limit
  V position;          // the row's position on the key axis (i + off)
  B valid;             // i < q_len
};

/// The run-time facts a mask may depend on, for one batch entry. Without
/// lengths, qLen = Sq and kvLen = Skv; `segmentKeys` (absent without
/// segments) gives the keys [b, e) of the segment of query row i.
template <typename V> struct MaskRuntime {
  V qLen, kvLen;
  std::function<std::pair<V, V>(V row)> segmentKeys;
};

using StaticRowKeys = RowKeys<int64_t, bool>;
using StaticMaskRuntime = MaskRuntime<int64_t>;
using IRRowKeys = RowKeys<Value, Value>;
using IRMaskRuntime = MaskRuntime<Value>;

/// Compile-time arithmetic.
struct StaticArith {
  using V = int64_t;
  using B = bool;
  V c(int64_t v) { return v; }
  B boolean(bool v) { return v; }
  V add(V x, V y) { return x + y; }
  V sub(V x, V y) { return x - y; }
  V mul(V x, V y) { return x * y; }
  V min(V x, V y) { return std::min(x, y); }
  V max(V x, V y) { return std::max(x, y); }
  V divFloor(V x, int64_t d) { return x / d; } // x >= 0
  V divCeil(V x, int64_t d) { return (x + d - 1) / d; }
  B lt(V x, V y) { return x < y; }
  B le(V x, V y) { return x <= y; }
  B andB(B x, B y) { return x && y; }
  B orB(B x, B y) { return x || y; }
  V select(B c, V x, V y) { return c ? x : y; }
};

/// IR arithmetic on `index` (V) and `i1` (B) values, or vectors of them.
/// Divisions are unsigned: the mask code divides only key indices (>= 0).
struct IRArith {
  using V = Value;
  using B = Value;
  OpBuilder &b;
  Location loc;
  V c(int64_t v);
  B boolean(bool v);
  V add(V x, V y);
  V sub(V x, V y);
  V mul(V x, V y);
  V min(V x, V y);
  V max(V x, V y);
  V divFloor(V x, int64_t d);
  V divCeil(V x, int64_t d);
  B lt(V x, V y);
  B le(V x, V y);
  B andB(B x, B y);
  B orB(B x, B y);
  V select(B c, V x, V y);
};

/// The kv tiles a query tile must visit, as key ranges: a tile that meets a
/// `live` range is visited, a tile inside a `full` range needs no element
/// mask. `multiple` is false when `live` has one range, so every tile of the
/// hull is live and no skip test is needed.
template <typename V> struct TileRanges {
  llvm::SmallVector<KeyRange<V>, 4> live, full;
  bool multiple = false;
};

/// Ranges for the query rows from `first` to `last` (both valid rows; `first`
/// before `last`). `globalRuns` come from the mask.
template <typename A>
TileRanges<typename A::V>
computeTileRanges(A &a, const RowKeys<typename A::V, typename A::B> &first,
                  const RowKeys<typename A::V, typename A::B> &last,
                  llvm::ArrayRef<KeyRange<int64_t>> globalRuns) {
  using V = typename A::V;
  TileRanges<V> ranges;
  // Keys some row sees: [begin(first), end(last)); every row: [begin(last),
  // end(first)).
  ranges.live.push_back({first.begin, last.end});
  ranges.full.push_back({last.begin, first.end});
  if (globalRuns.empty())
    return ranges;
  ranges.multiple = true;
  typename A::B anyGlobalRow = a.boolean(false);
  for (KeyRange<int64_t> run : globalRuns) {
    V begin = a.c(run.begin), end = a.c(run.end);
    ranges.live.push_back({begin, a.min(end, last.limit)});
    ranges.full.push_back({begin, a.min(end, first.limit)});
    anyGlobalRow = a.orB(anyGlobalRow, a.andB(a.lt(first.position, end),
                                              a.le(begin, last.position)));
  }
  // A global row among them sees every key below its limit.
  ranges.live.push_back({a.c(0), a.select(anyGlobalRow, last.limit, a.c(0))});
  return ranges;
}

/// The kv tile indices [begin, end) that may be live: the hull of the
/// non-empty live ranges.
template <typename A>
KeyRange<typename A::V> liveTileHull(A &a,
                                     const TileRanges<typename A::V> &ranges,
                                     int64_t tileKv, int64_t kvSeq) {
  using V = typename A::V;
  V lo = a.c(kvSeq), hi = a.c(0);
  for (const KeyRange<V> &r : ranges.live) {
    auto nonEmpty = a.lt(r.begin, r.end);
    lo = a.min(lo, a.select(nonEmpty, r.begin, a.c(kvSeq)));
    hi = a.max(hi, a.select(nonEmpty, r.end, a.c(0)));
  }
  V begin = a.divFloor(lo, tileKv);
  return {begin, a.select(a.lt(lo, hi), a.divCeil(hi, tileKv), begin)};
}

/// Whether kv tile `t` (keys [t·tileKv, (t+1)·tileKv)) meets a live range
/// and whether it lies inside a full range (which implies it is whole).
template <typename A>
std::pair<typename A::B, typename A::B>
classifyTile(A &a, const TileRanges<typename A::V> &ranges, typename A::V t,
             int64_t tileKv) {
  using V = typename A::V;
  V k0 = a.mul(t, a.c(tileKv)), k1 = a.add(k0, a.c(tileKv));
  typename A::B live = a.boolean(!ranges.multiple), full = a.boolean(false);
  if (ranges.multiple)
    for (const KeyRange<V> &r : ranges.live)
      live = a.orB(live, a.andB(a.lt(r.begin, r.end),
                                a.andB(a.lt(r.begin, k1), a.lt(k0, r.end))));
  for (const KeyRange<V> &r : ranges.full)
    full = a.orB(full, a.andB(a.le(r.begin, k0), a.le(k1, r.end)));
  return {live, full};
}

/// Whether key `key` (any V-typed value, scalar or vector) is in a global
/// run.
template <typename A>
typename A::B isGlobalKey(A &a, typename A::V key,
                          llvm::ArrayRef<KeyRange<int64_t>> globalRuns) {
  typename A::B result = a.boolean(false);
  for (KeyRange<int64_t> run : globalRuns)
    result = a.orB(result,
                   a.andB(a.le(a.c(run.begin), key), a.lt(key, a.c(run.end))));
  return result;
}

/// The keys one row sees as a single range plus global keys: global rows see
/// [0, limit); invalid rows see nothing. This is what the element mask of a
/// boundary tile tests.
template <typename A>
KeyRange<typename A::V>
effectiveRowRange(A &a, const RowKeys<typename A::V, typename A::B> &row,
                  llvm::ArrayRef<KeyRange<int64_t>> globalRuns) {
  auto globalRow = isGlobalKey(a, row.position, globalRuns);
  auto zero = a.c(0);
  auto begin = a.select(globalRow, zero, row.begin);
  auto end = a.select(globalRow, row.limit, row.end);
  return {a.select(row.valid, begin, zero), a.select(row.valid, end, zero)};
}

/// (full, boundary, skipped) kv tiles over all query tiles of one head, with
/// full lengths and no segments. The same reasoning as the lowering.
struct TileCounts {
  int64_t full = 0, boundary = 0, skipped = 0;
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_MASKTILING_H
