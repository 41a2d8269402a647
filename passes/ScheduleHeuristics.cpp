//===- ScheduleHeuristics.cpp - choose flash-attention schedules ----------===//
//
// Register blocking follows from the register file: half of the vector
// registers hold accumulators, the rest hold operands. Tiles are as large as
// the register blocks allow without wasting work on short sequences.
//
//===----------------------------------------------------------------------===//
#include "passes/ScheduleHeuristics.h"

#include <algorithm>

namespace mlir::attn {

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t largestDivisorAtMost(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

ScheduleParams chooseCpuSchedule(const AttentionProblem &problem,
                                 const CpuTarget &target) {
  ScheduleParams s;
  // The widest power-of-two vector that divides the value head dim, so the
  // P·V update needs no tail handling.
  s.vectorWidth = std::max<int64_t>(1, target.vectorWidth);
  while (problem.valueDim % s.vectorWidth != 0)
    s.vectorWidth /= 2;
  const int64_t accumulators = std::max<int64_t>(4, target.vectorRegisters / 2);

  // Up to four vectors of queries per tile; fewer for short query sequences.
  s.qkQvecs = std::clamp<int64_t>(ceilDiv(problem.querySeq, s.vectorWidth), 1,
                                  4);
  s.tileQ = s.qkQvecs * s.vectorWidth;
  s.qkKeys = std::clamp<int64_t>(accumulators / s.qkQvecs, 1, 8);

  // 64 keys per tile (K and V tiles stay in L2 for head dims up to 256), or
  // the whole key sequence when it is shorter.
  int64_t keys = std::clamp<int64_t>(problem.kvSeq, 1, 64);
  s.tileKv = ceilDiv(keys, s.qkKeys) * s.qkKeys;

  s.pvVecs = largestDivisorAtMost(problem.valueDim / s.vectorWidth, 4);
  s.pvRows = largestDivisorAtMost(
      s.tileQ, std::max<int64_t>(1, accumulators / s.pvVecs));
  return s;
}

} // namespace mlir::attn
