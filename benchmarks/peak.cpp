//===- peak.cpp - peak f32 FMA throughput of this machine -----------------===//
//
// Benchmark code, not part of attnc: each thread runs a loop of independent
// vector FMAs (enough accumulators to hide the FMA latency on both ports) and
// the total rate is the machine's practical f32 peak, the denominator of
// every "% of peak" in RESULTS.md.
//
//   peak THREADS   ->  prints "gflops=<N>"
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
using Vec = __m512;
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
static float SUM(__m256 v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#else
#error "peak.cpp needs AVX2+FMA or AVX-512 (compile with -march=native)"
#endif

constexpr int kAccumulators = 24;
constexpr long kIterations = 1L << 26;

static double run(float seed) {
  Vec acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = SET1(seed + i);
  const Vec a = SET1(0.999999f), b = SET1(1e-7f);
  for (long it = 0; it < kIterations; ++it)
#pragma GCC unroll 24
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = FMA(acc[i], a, b);
  Vec total = acc[0];
  for (int i = 1; i < kAccumulators; ++i)
    total = ADD(total, acc[i]);
  return SUM(total);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
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
  std::printf("gflops=%.1f (checksum %g)\n", flops / seconds * 1e-9,
              sink[0]);
}
