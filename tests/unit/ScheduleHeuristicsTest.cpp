//===- ScheduleHeuristicsTest.cpp - schedule choice unit tests ------------===//
#include "passes/ScheduleHeuristics.h"

#include <catch2/catch.hpp>

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
}
} // namespace

TEST_CASE("AVX-512 long sequences use 24-accumulator blocks in both kernels") {
  AttentionProblem p{4096, 4096, 128, 128};
  ScheduleParams s = chooseCpuSchedule(p, CpuTarget{16, 32});
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
      ScheduleParams s = chooseCpuSchedule(p, CpuTarget{registers / 2, registers});
      requireValid(p, s);
      // Accumulators, one register per loaded vector, one broadcast.
      CHECK(s.qkKeys * s.qkQvecs + s.qkQvecs + 1 <= registers);
      CHECK(s.pvRows * s.pvVecs + s.pvVecs + 1 <= registers);
    }
}

TEST_CASE("AVX2 halves the vector width and gets smaller blocks") {
  AttentionProblem p{2048, 2048, 64, 64};
  ScheduleParams s = chooseCpuSchedule(p, CpuTarget{8, 16});
  requireValid(p, s);
  CHECK(s.vectorWidth == 8);
  CHECK(s.qkKeys * s.qkQvecs == 12);
  CHECK(s.pvRows * s.pvVecs == 8);
}

TEST_CASE("short sequences get small tiles") {
  AttentionProblem p{1, 7, 32, 32};
  ScheduleParams s = chooseCpuSchedule(p, CpuTarget{16, 32});
  requireValid(p, s);
  CHECK(s.tileQ == 16);
  CHECK(s.tileKv >= 7);
  CHECK(s.tileKv < 7 + s.qkKeys);
}

TEST_CASE("the vector width divides the value head dim") {
  for (int64_t dv : {8, 24, 40, 48, 72, 96, 100, 33}) {
    AttentionProblem p{300, 300, 64, dv};
    ScheduleParams s = chooseCpuSchedule(p, CpuTarget{16, 32});
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
            requireValid(p, chooseCpuSchedule(p, CpuTarget{width, regs}));
          }
}

TEST_CASE("schedule overrides parse and apply field by field") {
  std::string error;
  auto parsed = parseScheduleOverride("tile_kv=128,pv_rows=2", error);
  REQUIRE(parsed);
  CHECK(*parsed->tileKv == 128);
  CHECK(*parsed->pvRows == 2);
  CHECK(!parsed->tileQ);
  ScheduleParams p = chooseCpuSchedule({4096, 4096, 64, 64}, CpuTarget{});
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
  for (CpuTarget target : {CpuTarget{16, 32}, CpuTarget{8, 16}}) {
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
  GemmParams big = chooseGemmSchedule({2048, 2048, 5632}, CpuTarget{16, 32});
  CHECK(big.tileN == 256);
  CHECK(big.mGroups == 4);
}
