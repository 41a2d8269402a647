//===- peak.cpp - peak f32 FMA throughput of this machine -----------------===//
//
// Benchmark code, not part of attnc: each thread runs a loop of independent
// vector FMAs and the total rate is the machine's practical f32 peak, the
// denominator of every "% of peak" in RESULTS.md.
//
//   peak THREADS   ->  prints "gflops=<N> isa=<ISA> width=<bits> accumulators=<N>"
//   peak 0         ->  prints the configuration only
//
// Register budget. To keep both FMA ports busy, at least latency x ports
// = 4 x 2 = 8 independent accumulators must be in flight (Sapphire Rapids
// and Zen 4 alike; Zen 2/3: 5 x 2 = 10). Two more registers hold the
// operands `a` and `b`. Every accumulator must live in a register: with
// more accumulators than registers the compiler spills, the hot loop gains
// a load and a store per spilled FMA and the "peak" reads ~25 % low.
//   - AVX2 + FMA: 16 ymm registers -> 12 accumulators + 2 operands = 14.
//   - AVX-512:    32 zmm registers -> 24 accumulators + 2 operands = 26.
// benchmarks/run.py checks this on the binary it builds: it disassembles
// the hot loop (objdump -d) and refuses a peak whose loop touches memory.
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "simd.h"

// The FMA loop needs FMA instructions (AVX-512 has them).
#if !defined(__AVX512F__) && !defined(__FMA__)
#error "peak.cpp needs AVX2+FMA or AVX-512 (compile with -march=native)"
#endif
#if defined(__AVX512F__)
#define ACCUMULATORS 24 // of 32 vector registers
#else
#define ACCUMULATORS 12 // of 16 vector registers
#endif

constexpr int kAccumulators = ACCUMULATORS;
// About 1.6e9 FMA instructions per thread whatever the accumulator count
// (~0.3 s at 2 FMAs per cycle and 3 GHz).
constexpr long kIterations = (1L << 26) * 24 / kAccumulators;

static double run(float seed) {
  Vec acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = SET1(seed + i);
  const Vec a = SET1(0.999999f), b = SET1(1e-7f);
  for (long it = 0; it < kIterations; ++it)
// Fully unrolled: the hot loop is kAccumulators register-only FMAs.
#pragma GCC unroll 32 // >= kAccumulators: no loop is left
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = FMA(acc[i], a, b);
  Vec total = acc[0];
  for (int i = 1; i < kAccumulators; ++i)
    total = ADD(total, acc[i]);
  return SUM(total);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (threads <= 0) { // "peak 0": the configuration only, no measurement
    std::printf("isa=%s width=%d accumulators=%d\n", ISA, int(8 * sizeof(Vec)),
                kAccumulators);
    return 0;
  }
  std::vector<double> sink(threads);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { sink[t] = run(float(t)); });
  for (auto &t : pool)
    t.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double flops = 2.0 * sizeof(Vec) / sizeof(float) * kAccumulators *
                 double(kIterations) * threads;
  std::printf("gflops=%.1f isa=%s width=%d accumulators=%d (checksum %g)\n",
              flops / seconds * 1e-9, ISA, int(8 * sizeof(Vec)),
              kAccumulators, sink[0]);
}
