//===- ScheduleHeuristics.h - choose flash-attention schedules --*- C++ -*-===//
//
// Pure functions from (problem shape, target description) to the parameters
// of an #attn.schedule. No MLIR types, so they are unit-tested directly
// (tests/unit/ScheduleHeuristicsTest.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_SCHEDULEHEURISTICS_H
#define ATTN_PASSES_SCHEDULEHEURISTICS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::attn {

struct AttentionProblem {
  int64_t querySeq, kvSeq, headDim, valueDim;
  int64_t batch = 1, queryHeads = 1, kvHeads = 1;
  /// Whether a query tile may hold rows of several heads (no modifier reads
  /// the head of a row).
  bool canPackHeads = true;
};

struct CpuTarget {
  int64_t vectorWidth = 16;     // f32 lanes per vector register
  int64_t vectorRegisters = 32; // architectural vector registers
};

struct ScheduleParams {
  int64_t tileQ, tileKv, vectorWidth, qkKeys, qkQvecs, pvRows, pvVecs;
  int64_t headsPerTile = 1, kvSplits = 1, prefetch = 0, qkDot = 0;
};

/// Chooses tile sizes and register blocking. The result always satisfies the
/// #attn.schedule constraints for this problem.
ScheduleParams chooseCpuSchedule(const AttentionProblem &problem,
                                 const CpuTarget &target);

/// qk_keys of the dot-product score kernel for tiles of `rows` valid rows:
/// the block of vw / qk_keys rows is the smallest power of two that holds
/// them (at most vw).
int64_t dotProductKeys(int64_t rows, int64_t vw);

/// The tuner's search space around `current`, one axis at a time (the
/// tuner walks the axes in order, keeping the fastest schedule of each):
/// 0 heads per tile (divisors of the group), 1 query vectors per tile (with
/// the register blocks the heuristic pairs with them), 2 keys per tile
/// (32-256), 3 kv splits (1-16), 4 prefetch, 5 the score kernel (broadcast,
/// or dot products of 1 to vw keys per block). The variants differ from
/// `current` and fit the problem; the op verifier still has the last word.
constexpr int kTuningAxes = 6;
std::vector<ScheduleParams> tuningVariants(const ScheduleParams &current,
                                           int axis,
                                           const AttentionProblem &problem,
                                           const CpuTarget &target);

struct GemmProblem {
  int64_t m, n, k; // C[M, N] = A[M, K] · B[K, N]
};

struct GemmParams {
  int64_t vectorWidth, rows, vecs, tileM, tileN, tileK, mGroups;
};

/// Chooses the register block and tiles of a dense layer; the result always
/// satisfies the #attn.gemm_schedule constraints.
GemmParams chooseGemmSchedule(const GemmProblem &problem,
                              const CpuTarget &target);

/// A partial schedule written by a user: fields left unset come from the
/// heuristic.
struct ScheduleOverride {
  std::optional<int64_t> tileQ, tileKv, vectorWidth, qkKeys, qkQvecs, pvRows,
      pvVecs, headsPerTile, kvSplits, prefetch, qkDot;
  bool empty() const;
  /// Overwrites the fields of `params` that this override sets.
  void applyTo(ScheduleParams &params) const;
  /// This override with the fields `top` sets replaced by `top`'s.
  ScheduleOverride overlaidWith(const ScheduleOverride &top) const;
};

/// Parses `key=value[,key=value...]` with the #attn.schedule field names
/// (`tile_q=64,tile_kv=128`). On error returns nullopt and sets `error`.
/// The empty text is the empty override.
std::optional<ScheduleOverride> parseScheduleOverride(const std::string &text,
                                                      std::string &error);

/// `params` in the override syntax, every field set (what the tuner writes).
std::string formatSchedule(const ScheduleParams &params);

} // namespace mlir::attn

#endif // ATTN_PASSES_SCHEDULEHEURISTICS_H
