//===- ScheduleHeuristics.cpp - choose flash-attention schedules ----------===//
//
// Register blocking follows from the register file: half of the vector
// registers hold accumulators, the rest hold operands. Tiles are as large as
// the register blocks allow without wasting work on short sequences.
//
//===----------------------------------------------------------------------===//
#include "passes/ScheduleHeuristics.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

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

bool ScheduleOverride::empty() const {
  return !tileQ && !tileKv && !vectorWidth && !qkKeys && !qkQvecs && !pvRows &&
         !pvVecs;
}

void ScheduleOverride::applyTo(ScheduleParams &p) const {
  p.tileQ = tileQ.value_or(p.tileQ);
  p.tileKv = tileKv.value_or(p.tileKv);
  p.vectorWidth = vectorWidth.value_or(p.vectorWidth);
  p.qkKeys = qkKeys.value_or(p.qkKeys);
  p.qkQvecs = qkQvecs.value_or(p.qkQvecs);
  p.pvRows = pvRows.value_or(p.pvRows);
  p.pvVecs = pvVecs.value_or(p.pvVecs);
}

std::optional<ScheduleOverride> parseScheduleOverride(const std::string &text,
                                                      std::string &error) {
  ScheduleOverride result;
  std::pair<const char *, std::optional<int64_t> *> fields[] = {
      {"tile_q", &result.tileQ},     {"tile_kv", &result.tileKv},
      {"vector_width", &result.vectorWidth}, {"qk_keys", &result.qkKeys},
      {"qk_qvecs", &result.qkQvecs}, {"pv_rows", &result.pvRows},
      {"pv_vecs", &result.pvVecs}};
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    auto field = std::find_if(std::begin(fields), std::end(fields),
                              [&](const auto &f) { return key == f.first; });
    if (eq == std::string::npos || field == std::end(fields)) {
      error = "expected key=value with a key among tile_q, tile_kv, "
              "vector_width, qk_keys, qk_qvecs, pv_rows, pv_vecs; got '" +
              item + "'";
      return std::nullopt;
    }
    std::string value = item.substr(eq + 1);
    char *end = nullptr;
    errno = 0;
    long long number = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0 || number <= 0) {
      error = "expected a positive integer for " + key + ", got '" + value +
              "'";
      return std::nullopt;
    }
    if (*field->second) {
      error = key + " is given twice";
      return std::nullopt;
    }
    *field->second = number;
  }
  return result;
}

} // namespace mlir::attn
