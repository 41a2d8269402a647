//===- unfused.cpp - the unfused attention baseline -----------------------===//
//
// Benchmark code, never linked into attnc output: attention the way a careful
// library user writes it without a fused kernel. Heads are spread over the
// threads; per head, OpenBLAS sgemm computes S = scale·Q·Kᵀ into an S×S
// buffer, a vectorized loop applies softmax row by row, and sgemm computes
// P·V. With a causal mask only the lower triangle is computed, in row blocks
// of 256 (each block multiplies only the keys its rows can see). Memory grows
// as S² per thread.
//
//   unfused S D CAUSAL THREADS HEADS REPS  ->  prints "ms=<median> core=<name>"
//
// core = the kernel set OpenBLAS picked (openblas_get_corename): run.py checks
// it, since OpenBLAS 0.3.21 does not know every CPU (Emerald Rapids, model
// 207, gets its SSE3 "Prescott" kernels, 5-10x too slow).
//
//===----------------------------------------------------------------------===//
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);
extern "C" char *openblas_get_corename(void);

namespace {
constexpr int kBlock = 256;

/// Softmax of row[0, n) in place (the masked tail is never read).
void softmaxRow(float *row, int n) {
  float max = -INFINITY;
  for (int j = 0; j < n; ++j)
    max = std::max(max, row[j]);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - max);
    sum += row[j];
  }
  float inv = 1.0f / sum;
#pragma omp simd
  for (int j = 0; j < n; ++j)
    row[j] *= inv;
}

void head(int s, int d, bool causal, const float *q, const float *k,
          const float *v, float *o, float *scores) {
  float scale = 1.0f / std::sqrt(float(d));
  for (int r0 = 0; r0 < s; r0 += (causal ? kBlock : s)) {
    int rows = std::min(causal ? kBlock : s, s - r0);
    int cols = causal ? r0 + rows : s; // keys some row of the block sees
    float *sb = scores + long(r0) * s;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, d, scale,
                q + long(r0) * d, d, k, d, 0.0f, sb, s);
    for (int i = 0; i < rows; ++i) {
      int visible = causal ? r0 + i + 1 : s;
      float *row = sb + long(i) * s;
      softmaxRow(row, visible);
      std::fill(row + visible, row + cols, 0.0f);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, cols, 1.0f,
                sb, s, v, d, 0.0f, o + long(r0) * d, d);
  }
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: unfused S D CAUSAL THREADS HEADS REPS\n");
    return 2;
  }
  int s = std::atoi(argv[1]), d = std::atoi(argv[2]);
  bool causal = std::atoi(argv[3]) != 0;
  int threads = std::atoi(argv[4]), heads = std::atoi(argv[5]),
      reps = std::atoi(argv[6]);
  openblas_set_num_threads(1); // parallelism is over heads
  long per = long(s) * d;
  std::vector<float> q(per * heads), k(per * heads), v(per * heads),
      o(per * heads);
  std::mt19937 gen(0);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (auto *t : {&q, &k, &v})
    for (float &x : *t)
      x = dist(gen);
  std::vector<std::vector<float>> scores(threads,
                                         std::vector<float>(long(s) * s));

  auto once = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int h = t; h < heads; h += threads)
          head(s, d, causal, &q[h * per], &k[h * per], &v[h * per],
               &o[h * per], scores[t].data());
      });
    for (auto &t : pool)
      t.join();
  };
  once(); // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("ms=%.3f core=%s\n", ms[ms.size() / 2], openblas_get_corename());
}
