//===- ScheduleHeuristics.cpp - choose flash-attention schedules ----------===//
//
// Register blocking follows from the register file: each micro-kernel keeps
// a block of accumulators plus its operands (one register per loaded vector,
// one for the broadcast) and a spare in registers, and the blocks of both
// kernels are chosen together because the query tile is shared: kernel 1's
// query vectors set tile_q, and kernel 2's row block must divide it. On
// AVX-512 (32 registers) that gives 8 keys × 3 query vectors and 6 rows × 4
// value vectors, 24 accumulators each, which measured ≈ 3 % faster than
// 16-accumulator blocks with 64-query tiles (passes/README.md).
//
//===----------------------------------------------------------------------===//
#include "passes/ScheduleHeuristics.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace mlir::attn {

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Accumulators that fit beside `loaded` operand vectors, a broadcast and a
/// spare register.
static int64_t accumulatorsBeside(const ScheduleTarget &target, int64_t loaded) {
  int64_t registers = std::max<int64_t>(8, target.vectorRegisters);
  return std::max<int64_t>(1, (registers - loaded - 2) / loaded);
}

static int64_t largestDivisorAtMost(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// GQA packing: the most query heads of one key/value group whose rows
/// (heads × query rows) fit a query tile of at most four vectors, and whose
/// count divides that tile. 1 when the queries fill tiles by themselves.
static int64_t chooseHeadsPerTile(const AttentionProblem &problem,
                                  int64_t vw) {
  int64_t group = problem.queryHeads / std::max<int64_t>(1, problem.kvHeads);
  if (!problem.canPackHeads || group <= 1 || problem.querySeq >= 4 * vw)
    return 1;
  for (int64_t heads = group; heads > 1; --heads) {
    int64_t rows = heads * problem.querySeq;
    if (group % heads == 0 && rows <= 4 * vw &&
        ceilDiv(rows, vw) * vw % heads == 0)
      return heads;
  }
  return 1;
}

/// The parallel iterations (CPU) or blocks (GPU) of unsplit query tiles of
/// `tileQ` rows holding `heads` heads each: batch × head groups × tiles.
static int64_t queryTiles(const AttentionProblem &problem, int64_t tileQ,
                          int64_t heads) {
  return problem.batch * (problem.queryHeads / heads) *
         ceilDiv(problem.querySeq, tileQ / heads);
}

int64_t dotProductKeys(int64_t rows, int64_t vw) {
  int64_t groupRows = 1;
  while (groupRows < std::min(rows, vw))
    groupRows *= 2;
  return vw / groupRows;
}

ScheduleParams chooseCpuSchedule(const AttentionProblem &problem,
                                 const ScheduleTarget &target) {
  ScheduleParams best{};
  // The widest power-of-two vector that divides the value head dim, so the
  // P·V update needs no tail handling.
  int64_t vw = std::max<int64_t>(1, target.vectorWidth);
  while (problem.valueDim % vw != 0)
    vw /= 2;
  int64_t heads = chooseHeadsPerTile(problem, vw);
  // Kernel 2 loads up to four value vectors per key.
  int64_t pvVecs = largestDivisorAtMost(problem.valueDim / vw, 4);
  // Up to four query vectors per tile; no more than the rows need.
  int64_t maxQvecs =
      std::clamp<int64_t>(ceilDiv(heads * problem.querySeq, vw), 1, 4);
  double bestScore = 0;
  for (int64_t qvecs = 1; qvecs <= maxQvecs; ++qvecs) {
    ScheduleParams s;
    s.vectorWidth = vw;
    s.qkQvecs = qvecs;
    s.tileQ = qvecs * vw;
    if (s.tileQ % heads != 0)
      continue;
    s.headsPerTile = heads;
    s.qkKeys = std::min<int64_t>(8, accumulatorsBeside(target, qvecs));
    s.pvVecs = pvVecs;
    s.pvRows =
        largestDivisorAtMost(s.tileQ, accumulatorsBeside(target, pvVecs));
    // Register blocking (accumulators) times the share of the tiles' rows
    // that hold queries: a short sequence does not pay for a tile it only
    // partly fills (S = 64 takes 64-row tiles, not two 48-row ones with 32
    // padded rows; the tuner measured 1.2-1.5x there). Ties go to the
    // larger query tile (more reuse of each K/V tile).
    int64_t accumulators = s.qkKeys * s.qkQvecs + s.pvRows * s.pvVecs;
    int64_t queries = s.tileQ / heads;
    double filled = double(problem.querySeq) /
                    double(ceilDiv(problem.querySeq, queries) * queries);
    double score = double(accumulators) * filled;
    if (score >= bestScore) {
      best = s;
      bestScore = score;
    }
  }
  // A tile whose rows fit one vector (decode) computes its scores as dot
  // products along the head dim, so it does the arithmetic of its valid
  // rows rather than of a whole vector of queries, and reads each K row
  // front to back (1.3-2x for decode, passes/README.md).
  int64_t tileRows = heads * problem.querySeq;
  if (tileRows <= vw && problem.headDim % vw == 0) {
    best.qkDot = 1;
    best.qkKeys = dotProductKeys(tileRows, vw);
  }
  // About 64 keys per tile (K and V tiles stay in L2 for head dims up to
  // 256), or the whole key sequence when it is shorter.
  int64_t keys = std::clamp<int64_t>(problem.kvSeq, 1, 64);
  best.tileKv = ceilDiv(keys, best.qkKeys) * best.qkKeys;
  // Split-KV when (batch, head groups, query tiles) make fewer than
  // kMinIterations parallel iterations — decode — as far as chunks keep at
  // least kMinSplitTiles kv tiles each (a chunk writes a partial output
  // that the merge reads again).
  constexpr int64_t kMinIterations = 16, kMinSplitTiles = 8;
  int64_t iterations = queryTiles(problem, best.tileQ, heads);
  int64_t kvTiles = ceilDiv(problem.kvSeq, best.tileKv);
  // A tile whose rows fit one vector does a few FMAs per K/V byte: memory
  // latency, not arithmetic, bounds it, and software prefetch pays (about
  // 1.5x for decode, passes/README.md).
  best.prefetch = tileRows <= vw ? 1 : 0;
  if (iterations < kMinIterations)
    best.kvSplits = std::clamp<int64_t>(
        std::min(ceilDiv(kMinIterations, iterations),
                 kvTiles / kMinSplitTiles),
        1, kvTiles);
  return best;
}

std::vector<ScheduleParams> tuningVariants(const ScheduleParams &current,
                                           int axis,
                                           const AttentionProblem &problem,
                                           const ScheduleTarget &target) {
  std::vector<ScheduleParams> variants;
  const int64_t vw = current.vectorWidth;
  const int64_t group =
      problem.queryHeads / std::max<int64_t>(1, problem.kvHeads);
  auto kvTiles = [&](const ScheduleParams &p) {
    return ceilDiv(problem.kvSeq, p.tileKv);
  };
  auto add = [&](ScheduleParams p) {
    bool fits = p.tileQ % (p.qkQvecs * vw) == 0 && p.tileQ % p.pvRows == 0 &&
                p.tileQ % p.headsPerTile == 0 && group % p.headsPerTile == 0 &&
                p.tileKv % p.qkKeys == 0 && p.kvSplits <= kvTiles(p) &&
                (!p.qkDot || (vw % p.qkKeys == 0 && problem.headDim % vw == 0));
    if (fits && formatSchedule(p) != formatSchedule(current))
      variants.push_back(p);
  };
  switch (axis) {
  case 0: // heads per tile
    if (problem.canPackHeads)
      for (int64_t heads = 1; heads <= group; ++heads)
        if (group % heads == 0) {
          ScheduleParams p = current;
          p.headsPerTile = heads;
          add(p);
        }
    break;
  case 1: // query vectors per tile, with the heuristic's blocks for them
    for (int64_t qvecs = 1; qvecs <= 4; ++qvecs) {
      ScheduleParams p = current;
      p.qkQvecs = qvecs;
      p.tileQ = qvecs * vw;
      p.qkKeys = std::min<int64_t>(8, accumulatorsBeside(target, qvecs));
      p.pvRows =
          largestDivisorAtMost(p.tileQ, accumulatorsBeside(target, p.pvVecs));
      p.tileKv = ceilDiv(current.tileKv, p.qkKeys) * p.qkKeys;
      p.kvSplits = std::min(p.kvSplits, kvTiles(p));
      add(p);
    }
    break;
  case 2: // keys per tile
    for (int64_t keys : {32, 64, 128, 256}) {
      ScheduleParams p = current;
      p.tileKv = ceilDiv(std::min<int64_t>(keys, problem.kvSeq), p.qkKeys) *
                 p.qkKeys;
      p.kvSplits = std::min(p.kvSplits, kvTiles(p));
      add(p);
    }
    break;
  case 3: // kv splits
    for (int64_t splits : {1, 2, 4, 8, 16}) {
      ScheduleParams p = current;
      p.kvSplits = splits;
      add(p);
    }
    break;
  case 4: { // prefetch
    ScheduleParams p = current;
    p.prefetch = 1 - current.prefetch;
    add(p);
    break;
  }
  case 5: { // the score kernel: broadcast, or dot products of 1-vw keys
    ScheduleParams broadcast = current;
    broadcast.qkDot = 0;
    broadcast.qkKeys =
        std::min<int64_t>(8, accumulatorsBeside(target, current.qkQvecs));
    std::vector<ScheduleParams> forms{broadcast};
    for (int64_t keys = 1; keys <= vw; keys *= 2) {
      ScheduleParams dot = current;
      dot.qkDot = 1;
      dot.qkKeys = keys;
      forms.push_back(dot);
    }
    for (ScheduleParams p : forms) {
      p.tileKv = ceilDiv(current.tileKv, p.qkKeys) * p.qkKeys;
      p.kvSplits = std::min(p.kvSplits, kvTiles(p));
      add(p);
    }
    break;
  }
  default:
    break;
  }
  return variants;
}

namespace {
/// The #attn.schedule fields: their names in the override syntax and their
/// members in ScheduleOverride and ScheduleParams. Every function on
/// overrides walks this table.
struct ScheduleField {
  const char *name;
  std::optional<int64_t> ScheduleOverride::*override;
  int64_t ScheduleParams::*param;
};
constexpr ScheduleField kScheduleFields[] = {
    {"tile_q", &ScheduleOverride::tileQ, &ScheduleParams::tileQ},
    {"tile_kv", &ScheduleOverride::tileKv, &ScheduleParams::tileKv},
    {"vector_width", &ScheduleOverride::vectorWidth,
     &ScheduleParams::vectorWidth},
    {"qk_keys", &ScheduleOverride::qkKeys, &ScheduleParams::qkKeys},
    {"qk_qvecs", &ScheduleOverride::qkQvecs, &ScheduleParams::qkQvecs},
    {"pv_rows", &ScheduleOverride::pvRows, &ScheduleParams::pvRows},
    {"pv_vecs", &ScheduleOverride::pvVecs, &ScheduleParams::pvVecs},
    {"heads_per_tile", &ScheduleOverride::headsPerTile,
     &ScheduleParams::headsPerTile},
    {"kv_splits", &ScheduleOverride::kvSplits, &ScheduleParams::kvSplits},
    {"prefetch", &ScheduleOverride::prefetch, &ScheduleParams::prefetch},
    {"qk_dot", &ScheduleOverride::qkDot, &ScheduleParams::qkDot},
};
} // namespace

bool ScheduleOverride::empty() const {
  return llvm::none_of(kScheduleFields, [&](const ScheduleField &f) {
    return (this->*f.override).has_value();
  });
}

void ScheduleOverride::applyTo(ScheduleParams &p) const {
  for (const ScheduleField &f : kScheduleFields)
    p.*f.param = (this->*f.override).value_or(p.*f.param);
}

ScheduleOverride
ScheduleOverride::overlaidWith(const ScheduleOverride &top) const {
  ScheduleOverride r = *this;
  for (const ScheduleField &f : kScheduleFields)
    if (top.*f.override)
      r.*f.override = top.*f.override;
  return r;
}

std::string formatSchedule(const ScheduleParams &p) {
  std::string text;
  for (const ScheduleField &f : kScheduleFields)
    text += (text.empty() ? "" : ",") + std::string(f.name) + "=" +
            std::to_string(p.*f.param);
  return text;
}

std::optional<ScheduleOverride> parseScheduleOverride(const std::string &text,
                                                      std::string &error) {
  ScheduleOverride result;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    const ScheduleField *field = llvm::find_if(
        kScheduleFields, [&](const ScheduleField &f) { return key == f.name; });
    if (eq == std::string::npos || field == std::end(kScheduleFields)) {
      error = "expected key=value with a key among ";
      for (const ScheduleField &f : kScheduleFields)
        error += std::string(f.name) + (&f == std::end(kScheduleFields) - 1
                                            ? "; got '"
                                            : ", ");
      error += item + "'";
      return std::nullopt;
    }
    std::string value = item.substr(eq + 1);
    char *end = nullptr;
    errno = 0;
    long long number = std::strtoll(value.c_str(), &end, 10);
    bool flag = field->override == &ScheduleOverride::prefetch ||
                field->override == &ScheduleOverride::qkDot;
    if (value.empty() || *end != '\0' || errno != 0 || number < 0 ||
        (number == 0 && !flag)) {
      error = "expected a" + std::string(flag ? " non-negative" : " positive") +
              " integer for " + key + ", got '" + value + "'";
      return std::nullopt;
    }
    std::optional<int64_t> &slot = result.*field->override;
    if (slot) {
      error = key + " is given twice";
      return std::nullopt;
    }
    slot = number;
  }
  return result;
}

GemmParams chooseGemmSchedule(const GemmProblem &problem,
                              const ScheduleTarget &target) {
  GemmParams p;
  p.vectorWidth = target.vectorWidth;
  // Two vectors of columns; as many rows as leave registers for the two B
  // vectors and a broadcast: 6 × 2 on 16 registers, 12 × 2 on 32.
  p.vecs = 2;
  p.rows = std::clamp<int64_t>((target.vectorRegisters - 3) / p.vecs, 1, 12);
  int64_t panel = p.vecs * p.vectorWidth;
  auto roundUp = [](int64_t v, int64_t to) { return (v + to - 1) / to * to; };
  // A K block of a panel (tile_k × panel floats, 24 KiB) stays in L1 while
  // the tile's row blocks pass over it; the tile's A block (tile_m × tile_k,
  // 72-144 KiB) stays in L2. (Measured on AVX-512: tile_k 192 beats 128, 256
  // and 384 by 5-15 %.)
  p.tileK = std::min<int64_t>(6144 / panel, problem.k);
  p.tileM = std::min(p.rows * std::max<int64_t>(1, 96 / p.rows),
                     roundUp(problem.m, p.rows));
  p.tileN = std::min<int64_t>(roundUp(256, panel), roundUp(problem.n, panel));
  // At least 8 parallel iterations (column blocks × row groups): narrower
  // column blocks first, then the rows split into groups (each group reads
  // the column block's B again). A group's block of C (its rows × tile_n)
  // is revisited by every K block, so it must stay in L2 too: at most
  // 512 KiB of it.
  constexpr int64_t kMinIterations = 8, kGroupBytes = 512 * 1024;
  auto columnBlocks = [&] { return (problem.n + p.tileN - 1) / p.tileN; };
  while (columnBlocks() < kMinIterations && p.tileN > panel)
    p.tileN = roundUp(p.tileN / 2, panel);
  auto ceilDiv = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  int64_t rowTiles = ceilDiv(problem.m, p.tileM);
  int64_t groupRows = std::max<int64_t>(kGroupBytes / (4 * p.tileN), p.tileM);
  p.mGroups = std::clamp<int64_t>(
      std::max(ceilDiv(kMinIterations, columnBlocks()),
               ceilDiv(problem.m, groupRows)),
      1, rowTiles);
  return p;
}

//===----------------------------------------------------------------------===//
// GPU
//===----------------------------------------------------------------------===//

// Shared memory per block with the opt-in (CUDA programming guide, "compute
// capabilities"): 163 KiB on sm_80, 99 KiB on sm_86 and sm_89, 227 KiB on
// sm_90. SMs: A100 108, A40 84, L40S 142 (RTX 4090 128), H100/H200 SXM
// 132; they only set how finely decode splits the keys. PTX ISA 8.0 (CUDA
// 12.0) covers all of them, sm_90a included.
static const GpuArch kGpuArchs[] = {
    {"sm_80", 166912, 108, "+ptx80"}, {"sm_86", 101376, 84, "+ptx80"},
    {"sm_89", 101376, 128, "+ptx80"}, {"sm_90", 232448, 132, "+ptx80"},
    {"sm_90a", 232448, 132, "+ptx80"},
};

const GpuArch *lookupGpuArch(const std::string &name) {
  for (const GpuArch &arch : kGpuArchs)
    if (arch.name == name)
      return &arch;
  return nullptr;
}

std::string listGpuArchs() {
  std::string names;
  for (const GpuArch &arch : kGpuArchs)
    names += (names.empty() ? "" : ", ") + arch.name;
  return names;
}

bool usesGpuTensorCores(const AttentionProblem &p) {
  return p.halfInputs && !p.normalizesRows && p.headDim % 16 == 0 &&
         p.valueDim % 16 == 0;
}

int64_t gpuThreadsPerBlock(const AttentionProblem &p, int64_t tileQ) {
  return usesGpuTensorCores(p) ? 2 * tileQ : tileQ;
}

GpuSharedLayout gpuSharedLayout(const AttentionProblem &p, int64_t tileQ,
                                int64_t tileKv) {
  GpuSharedLayout l;
  l.query = 0;
  if (usesGpuTensorCores(p)) {
    // 16-bit Q, K and V tiles, rows padded by 8 elements (16 bytes): the 8
    // rows one ldmatrix reads start in different banks.
    l.key = l.query + 2 * tileQ * (p.headDim + 8);
    l.value = l.key + 2 * tileKv * (p.headDim + 8);
    l.total = l.scores = l.keyScale = l.value + 2 * tileKv * (p.valueDim + 8);
    return l;
  }
  // f32: the query rows (padded by one so that threads reading a column hit
  // different banks), the K and V tiles, the scores (padded likewise) and
  // the keys' inverse norms.
  l.key = l.query + 4 * tileQ * (p.headDim + 1);
  l.value = l.key + 4 * tileKv * p.headDim;
  l.scores = l.value + 4 * tileKv * p.valueDim;
  l.keyScale = l.scores + 4 * tileQ * (tileKv + 1);
  l.total = l.keyScale + 4 * tileKv;
  return l;
}

std::string checkGpuSchedule(const ScheduleParams &s,
                             const AttentionProblem &p, const GpuArch &arch) {
  std::ostringstream os;
  if (usesGpuTensorCores(p)) {
    if (s.tileQ % 16 != 0 || s.tileQ < 16 || s.tileQ > 256)
      os << "tile_q (" << s.tileQ
         << ") must be a multiple of 16 up to 256 (a warp per 16 query rows)";
    else if (s.tileKv % 16 != 0 || s.tileKv < 16 || s.tileKv > 256)
      os << "tile_kv (" << s.tileKv
         << ") must be a multiple of 16 up to 256 (tensor-core steps)";
  } else if (s.tileQ % 32 != 0 || s.tileQ > 1024) {
    os << "tile_q (" << s.tileQ
       << ") must be a multiple of 32 up to 1024 (one thread per query row)";
  } else if (s.tileKv > s.tileQ) {
    os << "tile_kv (" << s.tileKv << ") must not exceed tile_q (" << s.tileQ
       << ")";
  }
  if (!os.str().empty())
    return os.str();
  if (s.headsPerTile < 1 || s.tileQ % s.headsPerTile != 0)
    os << "tile_q (" << s.tileQ << ") must be a multiple of heads_per_tile ("
       << s.headsPerTile << ")";
  else if (int64_t bytes = gpuSharedLayout(p, s.tileQ, s.tileKv).total;
           bytes > arch.sharedBytes)
    os << "tile_q = " << s.tileQ << ", tile_kv = " << s.tileKv
       << " with head dims " << p.headDim << "/" << p.valueDim << " need "
       << bytes << " bytes of shared memory per block; " << arch.name
       << " has " << arch.sharedBytes;
  return os.str();
}

std::optional<ScheduleParams> chooseGpuSchedule(const AttentionProblem &p,
                                                const GpuArch &arch,
                                                std::string &error) {
  ScheduleParams s{};
  s.vectorWidth = s.qkKeys = s.qkQvecs = s.pvRows = s.pvVecs = 1;
  bool mma = usesGpuTensorCores(p);
  int64_t minQ = mma ? 16 : 32, minKv = mma ? 16 : 8;
  constexpr int64_t kMaxTileQ = 64;
  int64_t group = p.queryHeads / std::max<int64_t>(1, p.kvHeads);
  if (p.canPackHeads && p.querySeq < kMaxTileQ)
    while (group % (2 * s.headsPerTile) == 0 &&
           2 * s.headsPerTile * p.querySeq <= kMaxTileQ)
      s.headsPerTile *= 2;
  int64_t rows = s.headsPerTile * p.querySeq;
  int64_t firstQ = kMaxTileQ;
  while (firstQ > minQ && rows <= firstQ / 2)
    firstQ /= 2;
  for (int64_t tileQ = firstQ; tileQ >= minQ; tileQ /= 2)
    for (int64_t tileKv = mma ? 64 : 32; tileKv >= minKv; tileKv /= 2) {
      s.tileQ = tileQ;
      s.tileKv = tileKv;
      if (!checkGpuSchedule(s, p, arch).empty())
        continue;
      // Split-KV (flash-decoding) when the blocks fill less than 80 % of
      // one wave (FlashAttention-2's threshold): up to two blocks per SM,
      // chunks of at least kMinSplitTiles kv tiles.
      constexpr int64_t kMinSplitTiles = 4;
      int64_t blocks = queryTiles(p, tileQ, s.headsPerTile);
      int64_t kvTiles = ceilDiv(p.kvSeq, tileKv);
      if (5 * blocks < 4 * arch.multiprocessors)
        s.kvSplits = std::clamp<int64_t>(
            std::min(ceilDiv(2 * arch.multiprocessors, blocks),
                     kvTiles / kMinSplitTiles),
            1, kvTiles);
      return s;
    }
  error = "head dims " + std::to_string(p.headDim) + "/" +
          std::to_string(p.valueDim) + " do not fit the shared memory of " +
          arch.name + " (" + std::to_string(arch.sharedBytes) +
          " bytes) even with " + std::to_string(minQ) + " query rows and " +
          std::to_string(minKv) + " keys per tile (" +
          std::to_string(gpuSharedLayout(p, minQ, minKv).total) + " bytes)";
  return std::nullopt;
}

} // namespace mlir::attn
