//===- ScheduleHeuristicsTest.cpp - schedule choice unit tests ------------===//
#include "passes/ScheduleHeuristics.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mlir::attn;

namespace {
/// The #attn.schedule constraints, as the op verifier checks them.
void requireValid(const AttentionProblem &p, const ScheduleParams &s) {
  REQUIRE(s.vectorWidth >= 1);
  REQUIRE((s.vectorWidth & (s.vectorWidth - 1)) == 0);
  REQUIRE(s.tileQ % (s.qkQvecs * s.vectorWidth) == 0);
  REQUIRE(s.tileQ % s.pvRows == 0);
  REQUIRE(s.tileKv % s.qkKeys == 0);
  REQUIRE(p.valueDim % (s.pvVecs * s.vectorWidth) == 0);
  REQUIRE(s.tileQ % s.headsPerTile == 0);
  REQUIRE((p.queryHeads / p.kvHeads) % s.headsPerTile == 0);
  REQUIRE(s.kvSplits >= 1);
  REQUIRE(s.kvSplits <= (p.kvSeq + s.tileKv - 1) / s.tileKv);
  REQUIRE((s.qkDot == 0 || s.qkDot == 1));
  if (s.qkDot) {
    REQUIRE(s.vectorWidth % s.qkKeys == 0);
    REQUIRE(p.headDim % s.vectorWidth == 0);
  }
}

AttentionProblem decode(int64_t sq, int64_t skv, int64_t hq, int64_t hkv) {
  AttentionProblem p{sq, skv, 128, 128};
  p.queryHeads = hq;
  p.kvHeads = hkv;
  return p;
}
} // namespace

TEST_CASE("decode packs a K/V group's heads into one tile and splits keys") {
  for (ScheduleTarget target : {ScheduleTarget{16, 32}, ScheduleTarget{8, 16}}) {
    AttentionProblem p = decode(1, 16384, 32, 8);
    ScheduleParams s = chooseCpuSchedule(p, target);
    requireValid(p, s);
    CHECK(s.headsPerTile == 4);
    CHECK(s.tileQ == target.vectorWidth); // one vector of rows
    CHECK(s.prefetch == 1);
    // 8 head groups: 2 chunks make the 16 iterations.
    CHECK(s.kvSplits == 2);
    // Dot-product scores, 4 rows per block (the 4 packed heads).
    CHECK(s.qkDot == 1);
    CHECK(s.qkKeys == target.vectorWidth / 4);
  }
  // MHA decode: nothing to pack; 32 iterations need no split.
  ScheduleParams mha = chooseCpuSchedule(decode(1, 16384, 32, 32), {16, 32});
  CHECK(mha.headsPerTile == 1);
  CHECK(mha.kvSplits == 1);
  CHECK(mha.qkDot == 1);
  CHECK(mha.qkKeys == 16); // one row: a block of 16 keys
  // MQA: one iteration, 16 chunks.
  ScheduleParams mqa = chooseCpuSchedule(decode(1, 16384, 8, 1), {16, 32});
  CHECK(mqa.headsPerTile == 8);
  CHECK(mqa.kvSplits == 16);
  // A modifier that reads the head forbids packing.
  AttentionProblem alibi = decode(1, 4096, 32, 8);
  alibi.canPackHeads = false;
  CHECK(chooseCpuSchedule(alibi, {16, 32}).headsPerTile == 1);
  // Prefill: the queries fill tiles; no packing, split or prefetch.
  ScheduleParams prefill = chooseCpuSchedule(decode(2048, 2048, 32, 8),
                                             {16, 32});
  CHECK(prefill.headsPerTile == 1);
  CHECK(prefill.kvSplits == 1);
  CHECK(prefill.prefetch == 0);
  CHECK(prefill.qkDot == 0);
  // 16 rows fill an AVX-512 tile's vector: dot products of one key each;
  // 64 rows (Sq 16, 4 heads) go to the broadcast kernel.
  ScheduleParams full = chooseCpuSchedule(decode(4, 4096, 32, 8), {16, 32});
  CHECK(full.qkDot == 1);
  CHECK(full.qkKeys == 1);
  CHECK(chooseCpuSchedule(decode(16, 4096, 32, 8), {16, 32}).qkDot == 0);
  // A head dim that is not a multiple of the vector width cannot use them.
  AttentionProblem odd = decode(1, 4096, 32, 8);
  odd.headDim = 72;
  CHECK(chooseCpuSchedule(odd, {16, 32}).qkDot == 0);
}

TEST_CASE("dot-product blocks hold the rows in the smallest power of two") {
  CHECK(dotProductKeys(1, 16) == 16);
  CHECK(dotProductKeys(3, 16) == 4);
  CHECK(dotProductKeys(4, 16) == 4);
  CHECK(dotProductKeys(5, 16) == 2);
  CHECK(dotProductKeys(16, 16) == 1);
  CHECK(dotProductKeys(40, 16) == 1);
  CHECK(dotProductKeys(3, 8) == 2);
}

TEST_CASE("tuning variants fit the problem and differ from the start") {
  for (AttentionProblem p : {decode(1, 4096, 32, 8), decode(16, 16384, 32, 8),
                             decode(2048, 2048, 8, 8), decode(3, 100, 4, 1)})
    for (ScheduleTarget target : {ScheduleTarget{16, 32}, ScheduleTarget{8, 16}}) {
      ScheduleParams start = chooseCpuSchedule(p, target);
      size_t total = 0;
      for (int axis = 0; axis < kTuningAxes; ++axis)
        for (const ScheduleParams &v : tuningVariants(start, axis, p, target)) {
          requireValid(p, v);
          CHECK(formatSchedule(v) != formatSchedule(start));
          ++total;
        }
      CHECK(total >= 3);
    }
  // The score-kernel axis offers the broadcast kernel and every dot block.
  ScheduleParams start = chooseCpuSchedule(decode(1, 4096, 32, 8), {16, 32});
  std::vector<ScheduleParams> forms =
      tuningVariants(start, 5, decode(1, 4096, 32, 8), {16, 32});
  CHECK(forms.size() == 5); // broadcast, dot with 1, 2, 8, 16 keys
  CHECK(std::count_if(forms.begin(), forms.end(), [](const ScheduleParams &v) {
          return v.qkDot == 0;
        }) == 1);
  // Packing is not varied when the heads may not be packed.
  AttentionProblem alibi = decode(1, 4096, 32, 8);
  alibi.canPackHeads = false;
  CHECK(tuningVariants(chooseCpuSchedule(alibi, {16, 32}), 0, alibi,
                       {16, 32})
            .empty());
}

TEST_CASE("formatted schedules parse back to the same fields") {
  ScheduleParams s = chooseCpuSchedule(decode(1, 4096, 32, 8), {16, 32});
  std::string error;
  std::optional<ScheduleOverride> parsed =
      parseScheduleOverride(formatSchedule(s), error);
  REQUIRE(parsed);
  ScheduleParams back{};
  parsed->applyTo(back);
  CHECK(formatSchedule(back) == formatSchedule(s));
  // A later override wins field by field.
  std::optional<ScheduleOverride> top =
      parseScheduleOverride("kv_splits=4,prefetch=0", error);
  REQUIRE(top);
  ScheduleParams merged{};
  parsed->overlaidWith(*top).applyTo(merged);
  CHECK(merged.kvSplits == 4);
  CHECK(merged.prefetch == 0);
  CHECK(merged.headsPerTile == s.headsPerTile);
}

TEST_CASE("AVX-512 long sequences use 24-accumulator blocks in both kernels") {
  AttentionProblem p{4096, 4096, 128, 128};
  ScheduleParams s = chooseCpuSchedule(p, ScheduleTarget{16, 32});
  requireValid(p, s);
  CHECK(s.vectorWidth == 16);
  CHECK(s.tileQ == 48);
  CHECK(s.tileKv == 64);
  CHECK(s.qkKeys == 8);
  CHECK(s.qkQvecs == 3);
  CHECK(s.pvRows == 6);
  CHECK(s.pvVecs == 4);
}

TEST_CASE("blocks and their operands fit in the register file") {
  for (int64_t registers : {16, 32})
    for (int64_t dv : {16, 32, 64, 128, 256}) {
      AttentionProblem p{2048, 2048, dv, dv};
      ScheduleParams s = chooseCpuSchedule(p, ScheduleTarget{registers / 2, registers});
      requireValid(p, s);
      // Accumulators, one register per loaded vector, one broadcast.
      CHECK(s.qkKeys * s.qkQvecs + s.qkQvecs + 1 <= registers);
      CHECK(s.pvRows * s.pvVecs + s.pvVecs + 1 <= registers);
    }
}

TEST_CASE("AVX2 halves the vector width and gets smaller blocks") {
  AttentionProblem p{2048, 2048, 64, 64};
  ScheduleParams s = chooseCpuSchedule(p, ScheduleTarget{8, 16});
  requireValid(p, s);
  CHECK(s.vectorWidth == 8);
  CHECK(s.qkKeys * s.qkQvecs == 12);
  CHECK(s.pvRows * s.pvVecs == 8);
}

TEST_CASE("query tiles that short sequences only partly fill lose") {
  // S = 64: one 64-row tile (40 accumulators), not two 48-row tiles whose
  // second is two-thirds padding.
  AttentionProblem shortSeq{64, 64, 64, 64};
  ScheduleParams s = chooseCpuSchedule(shortSeq, ScheduleTarget{16, 32});
  requireValid(shortSeq, s);
  CHECK(s.tileQ == 64);
  // Long sequences keep the 24 + 24 accumulator blocks of 48-row tiles.
  for (int64_t seq : {256, 512, 2048, 4096}) {
    AttentionProblem p{seq, seq, 64, 64};
    CHECK(chooseCpuSchedule(p, ScheduleTarget{16, 32}).tileQ == 48);
  }
}

TEST_CASE("short sequences get small tiles") {
  AttentionProblem p{1, 7, 32, 32};
  ScheduleParams s = chooseCpuSchedule(p, ScheduleTarget{16, 32});
  requireValid(p, s);
  CHECK(s.tileQ == 16);
  CHECK(s.tileKv >= 7);
  CHECK(s.tileKv < 7 + s.qkKeys);
}

TEST_CASE("the vector width divides the value head dim") {
  for (int64_t dv : {8, 24, 40, 48, 72, 96, 100, 33}) {
    AttentionProblem p{300, 300, 64, dv};
    ScheduleParams s = chooseCpuSchedule(p, ScheduleTarget{16, 32});
    INFO("dv = " << dv);
    requireValid(p, s);
    CHECK(dv % s.vectorWidth == 0);
  }
}

TEST_CASE("every schedule satisfies the constraints over a sweep") {
  for (int64_t width : {4, 8, 16})
    for (int64_t regs : {16, 32})
      for (int64_t sq : {1, 5, 16, 17, 100, 1000})
        for (int64_t skv : {1, 3, 64, 65, 999})
          for (int64_t dv : {16, 32, 64, 80, 128}) {
            AttentionProblem p{sq, skv, 64, dv};
            requireValid(p, chooseCpuSchedule(p, ScheduleTarget{width, regs}));
          }
}

TEST_CASE("schedule overrides parse and apply field by field") {
  std::string error;
  auto parsed = parseScheduleOverride("tile_kv=128,pv_rows=2", error);
  REQUIRE(parsed);
  CHECK(*parsed->tileKv == 128);
  CHECK(*parsed->pvRows == 2);
  CHECK(!parsed->tileQ);
  ScheduleParams p = chooseCpuSchedule({4096, 4096, 64, 64}, ScheduleTarget{});
  int64_t tileQ = p.tileQ;
  parsed->applyTo(p);
  CHECK(p.tileKv == 128);
  CHECK(p.pvRows == 2);
  CHECK(p.tileQ == tileQ);

  auto empty = parseScheduleOverride("", error);
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("bad schedule overrides are rejected with a reason") {
  std::string error;
  CHECK(!parseScheduleOverride("tile_x=4", error));
  CHECK(error.find("got 'tile_x=4'") != std::string::npos);
  CHECK(!parseScheduleOverride("tile_q", error));
  CHECK(!parseScheduleOverride("tile_q=0", error));
  CHECK(error == "expected a positive integer for tile_q, got '0'");
  CHECK(!parseScheduleOverride("tile_q=12x", error));
  CHECK(!parseScheduleOverride("tile_q=99999999999999999999999", error));
  CHECK(!parseScheduleOverride("tile_q=16,tile_q=32", error));
  CHECK(error == "tile_q is given twice");
}

TEST_CASE("dense-layer schedules satisfy #attn.gemm_schedule and fit the "
          "caches",
          "[heuristics][gemm]") {
  for (ScheduleTarget target : {ScheduleTarget{16, 32}, ScheduleTarget{8, 16}}) {
    for (int64_t m : {1, 7, 16, 512, 2048})
      for (int64_t n : {20, 64, 512, 2048, 5632, 50257})
        for (int64_t k : {3, 64, 2048, 5632}) {
          GemmParams p = chooseGemmSchedule({m, n, k}, target);
          INFO("m=" << m << " n=" << n << " k=" << k
                    << " width=" << target.vectorWidth);
          int64_t panel = p.vecs * p.vectorWidth;
          CHECK(p.vectorWidth == target.vectorWidth);
          // Accumulators, the B vectors and a broadcast fit the registers.
          CHECK(p.rows * p.vecs + p.vecs + 1 <= target.vectorRegisters);
          CHECK(p.tileN % panel == 0);
          CHECK(p.tileM % p.rows == 0);
          CHECK(p.tileK >= 1);
          CHECK(p.tileK <= k);
          // A K block of a panel stays in L1 (24 KiB).
          CHECK(p.tileK * panel * 4 <= 24 * 1024);
          int64_t rowTiles = (m + p.tileM - 1) / p.tileM;
          CHECK(p.mGroups >= 1);
          CHECK(p.mGroups <= rowTiles);
        }
  }
  // The Llama MLP at 2048 tokens: four row groups of 512 rows, so that a
  // group's block of C (512 x 256 floats) stays in L2.
  GemmParams big = chooseGemmSchedule({2048, 2048, 5632}, ScheduleTarget{16, 32});
  CHECK(big.tileN == 256);
  CHECK(big.mGroups == 4);
}

TEST_CASE("GPU schedules: tiles per arch within the shared-memory budget",
          "[schedule][gpu]") {
  for (const char *name : {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"}) {
    const GpuArch *arch = lookupGpuArch(name);
    REQUIRE(arch != nullptr);
    for (int64_t d : {32, 64, 128, 256, 512})
      for (int64_t sq : {1, 16, 33, 4096}) {
        AttentionProblem p{sq, 2048, d, d};
        std::string error;
        std::optional<ScheduleParams> s = chooseGpuSchedule(p, *arch, error);
        REQUIRE(s);
        CHECK(error.empty());
        CHECK(checkGpuSchedule(*s, p, *arch).empty());
        CHECK(s->tileQ <= (sq > 32 ? 64 : 32));
        CHECK(gpuSharedLayout(p, s->tileQ, s->tileKv).total <= arch->sharedBytes);
        CHECK(s->headsPerTile == 1);
        // One batch entry and head: with few query tiles, too few blocks
        // for the SMs, so the keys split into chunks of at least 4 kv
        // tiles.
        int64_t kvTiles = (2048 + s->tileKv - 1) / s->tileKv;
        CHECK(s->kvSplits <= std::max<int64_t>(1, kvTiles / 4));
        if (sq <= 33)
          CHECK(s->kvSplits > 1);
        // Up to head dim 128, the largest tiles fit everywhere.
        if (d <= 128) {
          CHECK(s->tileQ == (sq > 32 ? 64 : 32));
          CHECK(s->tileKv == 32);
        }
      }
  }
  CHECK(lookupGpuArch("sm_75") == nullptr);
  CHECK(listGpuArchs() == "sm_80, sm_86, sm_89, sm_90, sm_90a");
  // Shared memory: Q rows and scores padded by one float.
  CHECK(gpuSharedLayout({64, 64, 64, 32}, 64, 32).total ==
        4 * (64 * 65 + 32 * 96 + 64 * 33 + 32));
}

TEST_CASE("GPU schedules: what cannot run is an error, with the numbers",
          "[schedule][gpu]") {
  const GpuArch &sm86 = *lookupGpuArch("sm_86");
  AttentionProblem wide{16, 64, 1024, 1024};
  std::string error;
  CHECK(!chooseGpuSchedule(wide, sm86, error));
  CHECK(error.find("head dims 1024/1024 do not fit the shared memory of "
                   "sm_86 (101376 bytes)") != std::string::npos);
  // sm_90 has room for it at 8 keys per tile.
  error.clear();
  std::optional<ScheduleParams> s =
      chooseGpuSchedule(wide, *lookupGpuArch("sm_90"), error);
  REQUIRE(s);
  CHECK(s->tileQ == 32);
  CHECK(s->tileKv == 8);

  AttentionProblem p{512, 512, 64, 64};
  ScheduleParams ok = *chooseGpuSchedule(p, sm86, error);
  ScheduleParams bad = ok;
  bad.tileQ = 48;
  CHECK(checkGpuSchedule(bad, p, sm86).find("multiple of 32") !=
        std::string::npos);
  bad = ok;
  bad.tileQ = 2048;
  CHECK(!checkGpuSchedule(bad, p, sm86).empty());
  bad = ok;
  bad.tileKv = 128;
  CHECK(checkGpuSchedule(bad, p, sm86).find("must not exceed tile_q") !=
        std::string::npos);
  bad = ok;
  bad.headsPerTile = 3;
  CHECK(checkGpuSchedule(bad, p, sm86).find("multiple of heads_per_tile (3)") !=
        std::string::npos);
  bad = ok;
  bad.tileQ = 1024;
  bad.tileKv = 64;
  CHECK(checkGpuSchedule(bad, p, sm86).find("bytes of shared memory") !=
        std::string::npos);
}

TEST_CASE("GPU schedules: f16/bf16 inputs take the tensor-core kernel",
          "[schedule][gpu]") {
  AttentionProblem p{4096, 4096, 128, 128};
  CHECK(!usesGpuTensorCores(p));
  p.halfInputs = true;
  CHECK(usesGpuTensorCores(p));
  CHECK(gpuThreadsPerBlock(p, 64) == 128);
  // 16-bit tiles, rows padded by 8 elements; no score tile.
  GpuSharedLayout l = gpuSharedLayout(p, 64, 64);
  CHECK(l.key == 2 * 64 * 136);
  CHECK(l.total == 3 * 2 * 64 * 136);
  CHECK(l.scores == l.total);
  for (const char *name : {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"}) {
    const GpuArch &arch = *lookupGpuArch(name);
    for (int64_t d : {16, 64, 128, 256})
      for (int64_t sq : {1, 16, 17, 33, 4096}) {
        AttentionProblem q{sq, 2048, d, d};
        q.halfInputs = true;
        std::string error;
        std::optional<ScheduleParams> s = chooseGpuSchedule(q, arch, error);
        REQUIRE(s);
        CHECK(checkGpuSchedule(*s, q, arch).empty());
        CHECK(s->tileQ == (sq <= 16 ? 16 : sq <= 32 ? 32 : 64));
        CHECK(s->tileKv % 16 == 0);
        if (d <= 128)
          CHECK(s->tileKv == 64);
      }
  }
  // Head dims that are no multiple of 16 and cosine similarity stay SIMT.
  AttentionProblem odd{512, 512, 40, 40};
  odd.halfInputs = true;
  CHECK(!usesGpuTensorCores(odd));
  AttentionProblem cosine = p;
  cosine.normalizesRows = true;
  CHECK(!usesGpuTensorCores(cosine));
  CHECK(gpuThreadsPerBlock(cosine, 64) == 64);

  const GpuArch &sm86 = *lookupGpuArch("sm_86");
  std::string error;
  ScheduleParams ok = *chooseGpuSchedule(p, sm86, error);
  ScheduleParams bad = ok;
  bad.tileQ = 24;
  CHECK(checkGpuSchedule(bad, p, sm86).find("multiple of 16 up to 256") !=
        std::string::npos);
  bad = ok;
  bad.tileKv = 8;
  CHECK(checkGpuSchedule(bad, p, sm86).find("tile_kv (8) must be a multiple "
                                            "of 16") != std::string::npos);
  bad = ok;
  bad.tileQ = 256;
  bad.tileKv = 256;
  CHECK(checkGpuSchedule(bad, p, sm86).find("bytes of shared memory") !=
        std::string::npos);
  // Tensor-core tiles may be wider than tall (the SIMT rule does not hold).
  bad = ok;
  bad.tileQ = 16;
  CHECK(checkGpuSchedule(bad, p, sm86).empty());
}

TEST_CASE("GPU schedules: decode packs a key/value group's heads and splits "
          "the keys when the blocks are too few",
          "[schedule][gpu]") {
  const GpuArch &sm90 = *lookupGpuArch("sm_90");
  std::string error;
  // Llama-3-8B decode: 32 query heads on 8 K/V heads, 4096 keys, bf16.
  AttentionProblem decode{1, 4096, 128, 128};
  decode.queryHeads = 32;
  decode.kvHeads = 8;
  decode.halfInputs = true;
  ScheduleParams s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 4);
  CHECK(s.tileQ == 16);
  // 8 blocks; 2 per SM would be 33 chunks, but each keeps 4 of the 64
  // kv tiles: 16.
  CHECK(s.kvSplits == 16);
  // Four queries of each head still fit one tile: 16 rows of 4 heads.
  decode.querySeq = 4;
  s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 4);
  CHECK(s.tileQ == 16);
  // 16 queries: 4 heads of 16 rows, 64 rows, the largest tile.
  decode.querySeq = 16;
  s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 4);
  CHECK(s.tileQ == 64);
  // A group of 6 packs 2 heads (powers of two divide the tile).
  decode.querySeq = 1;
  decode.queryHeads = 48;
  s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 2);
  // Modifiers that read the head keep one head per tile: 32 blocks, two
  // per SM.
  decode.queryHeads = 32;
  decode.canPackHeads = false;
  s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 1);
  CHECK(s.kvSplits == 9);
  // The SIMT kernel packs too (rows of a 32-row tile).
  decode.canPackHeads = true;
  decode.halfInputs = false;
  s = *chooseGpuSchedule(decode, sm90, error);
  CHECK(s.headsPerTile == 4);
  CHECK(s.tileQ == 32);
  // Enough blocks (prefill, or a large batch): no splits.
  AttentionProblem prefill{1024, 1024, 128, 128};
  prefill.batch = 1;
  prefill.queryHeads = 8;
  prefill.kvHeads = 8;
  prefill.halfInputs = true;
  s = *chooseGpuSchedule(prefill, sm90, error);
  CHECK(s.kvSplits == 1); // 128 blocks
  prefill.queryHeads = prefill.kvHeads = 4; // 64 blocks, under 80 % of 132
  s = *chooseGpuSchedule(prefill, sm90, error);
  CHECK(s.kvSplits == 4);
  // Short key sequences do not split below 4 kv tiles per chunk.
  AttentionProblem shortKeys{1, 200, 64, 64};
  shortKeys.halfInputs = true;
  s = *chooseGpuSchedule(shortKeys, sm90, error);
  CHECK(s.kvSplits == 1);
}
