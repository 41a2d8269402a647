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
  /// Whether query, key and value share one 16-bit float type (f16 or bf16)
  /// and the rows are not normalized (cosine similarity): what the GPU's
  /// tensor-core kernel takes.
  bool halfInputs = false;
  bool normalizesRows = false;
};

/// An NVIDIA GPU architecture of the cuda target.
struct GpuArch {
  std::string name;        // "sm_80", ...
  int64_t sharedBytes;     // shared memory a block may use (with opt-in)
  int64_t multiprocessors; // SMs of the arch's largest usual part
  std::string ptxFeatures; // the PTX ISA version LLVM must emit, "+ptx80"
};

/// The supported architecture called `name`, or null.
const GpuArch *lookupGpuArch(const std::string &name);
/// Their names, comma-separated, for messages and --help.
std::string listGpuArchs();

/// What attention ops are scheduled for: the host CPU's vector shape, and
/// with `gpu` the GPU that runs attn.sdpa.
struct ScheduleTarget {
  int64_t vectorWidth = 16;     // f32 lanes per vector register
  int64_t vectorRegisters = 32; // architectural vector registers
  const GpuArch *gpu = nullptr;
};

struct ScheduleParams {
  int64_t tileQ, tileKv, vectorWidth, qkKeys, qkQvecs, pvRows, pvVecs;
  int64_t headsPerTile = 1, kvSplits = 1, prefetch = 0, qkDot = 0;
};

/// Chooses tile sizes and register blocking. The result always satisfies the
/// #attn.schedule constraints for this problem.
ScheduleParams chooseCpuSchedule(const AttentionProblem &problem,
                                 const ScheduleTarget &target);

/// The GPU kernels of attn.sdpa (passes/gpu/):
///  - tensor cores (mma.sync m16n8k16, f32 sums) where the inputs are f16 or
///    bf16 and both head dims are multiples of 16: a warp per 16 query rows,
///    2 · tile_q threads per block, Q, K and V tiles of the input type in
///    shared memory, rows padded by 8 elements (ldmatrix without bank
///    conflicts);
///  - otherwise f32 SIMT: one thread per query row, tile_q threads per
///    block, f32 tiles in shared memory.
bool usesGpuTensorCores(const AttentionProblem &problem);
/// Threads per block of the kernel of `problem` with `tileQ` query rows.
int64_t gpuThreadsPerBlock(const AttentionProblem &problem, int64_t tileQ);
/// Where a block keeps its tiles in dynamic shared memory (byte offsets)
/// and how many bytes it uses. The tensor-core kernel keeps no scores and
/// no key norms (their offsets are `total`).
struct GpuSharedLayout {
  int64_t query, key, value, scores, keyScale, total;
};
GpuSharedLayout gpuSharedLayout(const AttentionProblem &problem,
                                int64_t tileQ, int64_t tileKv);
/// Why `params` cannot run on `arch` (empty if it can): tile_q a multiple
/// of heads_per_tile, the shared memory within the arch's budget, and for
/// the SIMT kernel tile_q a multiple of 32 up to 1024 and tile_kv at most
/// tile_q; for the tensor-core kernel tile_q and tile_kv multiples of 16 up
/// to 256. (The op verifier checks heads_per_tile and kv_splits against the
/// op.)
std::string checkGpuSchedule(const ScheduleParams &params,
                             const AttentionProblem &problem,
                             const GpuArch &arch);
/// The largest tiles that fit `arch`: SIMT tile_q 64 (32 for at most 32
/// rows), tile_kv 32 down to 8; tensor cores tile_q 64 (16 or 32 for fewer
/// rows), tile_kv 64 down to 16. A tile's rows are heads_per_tile × its
/// queries: with fewer than 64 queries (decode), the most query heads of a
/// key/value group (a power of two) whose rows fit 64 share each K/V tile.
/// When the blocks (batch × head groups × query tiles) fill less than 80 %
/// of the SMs, the keys split into chunks of at least four kv tiles, up to
/// two blocks per SM (flash-decoding). nullopt with `error` when no tile fits.
std::optional<ScheduleParams> chooseGpuSchedule(const AttentionProblem &problem,
                                                const GpuArch &arch,
                                                std::string &error);

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
                                           const ScheduleTarget &target);

struct GemmProblem {
  int64_t m, n, k; // C[M, N] = A[M, K] · B[K, N]
};

struct GemmParams {
  int64_t vectorWidth, rows, vecs, tileM, tileN, tileK, mGroups;
};

/// Chooses the register block and tiles of a dense layer; the result always
/// satisfies the #attn.gemm_schedule constraints.
GemmParams chooseGemmSchedule(const GemmProblem &problem,
                              const ScheduleTarget &target);

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
