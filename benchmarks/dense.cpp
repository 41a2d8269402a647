//===- dense.cpp - OpenBLAS baselines for dense layers --------------------===//
//
// Benchmark code, never linked into attnc output. Two modes:
//
//   dense sgemm M N K THREADS REPS
//       C[M, N] = A[M, K] · Wᵀ with W [N, K] (nn.Linear), one cblas_sgemm
//       on OpenBLAS's own threads;
//   dense layer S E HEADS KV_HEADS HEAD_DIM INTER THREADS REPS
//       one Llama decoder layer (batch 1) written the way a careful user of
//       a BLAS writes it, unfused: RMSNorm, q/k/v projections, RoPE, causal
//       attention per head (sgemm scores for the rows' visible keys,
//       vectorized softmax, sgemm P·V), output projection + residual,
//       RMSNorm, gate/up projections, SiLU · up, down projection + residual;
//       the sgemms on OpenBLAS's threads, the vector loops on THREADS threads.
//
// Both print "ms=<median> core=<OpenBLAS kernels>".
//
//===----------------------------------------------------------------------===//
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);
extern "C" char *openblas_get_corename(void);

namespace {

std::vector<float> randomVector(long n, float scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

/// y[M, N] = x[M, K] · w[N, K]ᵀ (+ y when `accumulate`).
void linear(int m, int n, int k, const float *x, const float *w, float *y,
            bool accumulate = false) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w,
              k, accumulate ? 1.0f : 0.0f, y, n);
}

/// Runs body(row) for rows [0, n) on `threads` threads.
void parallelRows(int n, int threads, const std::function<void(int)> &body) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int r = t; r < n; r += threads)
        body(r);
    });
  for (auto &t : pool)
    t.join();
}

void rmsNorm(int rows, int e, const float *x, const float *w, float *y,
             int threads) {
  parallelRows(rows, threads, [&](int r) {
    const float *xr = x + long(r) * e;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < e; ++j)
      sum += xr[j] * xr[j];
    float inv = 1.0f / std::sqrt(sum / e + 1e-5f);
#pragma omp simd
    for (int j = 0; j < e; ++j)
      y[long(r) * e + j] = xr[j] * inv * w[j];
  });
}

/// RoPE in place on x [S, H·D] (rotate_half pairs), from cos/sin [S, D/2].
void rope(int s, int heads, int d, float *x, const float *cosv,
          const float *sinv, int threads) {
  parallelRows(s, threads, [&](int p) {
    for (int h = 0; h < heads; ++h) {
      float *v = x + long(p) * heads * d + long(h) * d;
      const float *c = cosv + long(p) * (d / 2), *sn = sinv + long(p) * (d / 2);
#pragma omp simd
      for (int j = 0; j < d / 2; ++j) {
        float a = v[j], b = v[j + d / 2];
        v[j] = a * c[j] - b * sn[j];
        v[j + d / 2] = b * c[j] + a * sn[j];
      }
    }
  });
}

double median(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double timeIt(int reps, const std::function<void()> &once) {
  once(); // warm-up
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    once();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  return median(ms);
}

int sgemmMode(char **argv) {
  int m = std::atoi(argv[0]), n = std::atoi(argv[1]), k = std::atoi(argv[2]);
  int threads = std::atoi(argv[3]), reps = std::atoi(argv[4]);
  openblas_set_num_threads(threads);
  std::vector<float> a = randomVector(long(m) * k, 1, 1),
                     w = randomVector(long(n) * k, 1, 2), c(long(m) * n);
  double ms = timeIt(reps, [&] { linear(m, n, k, a.data(), w.data(), c.data()); });
  std::printf("ms=%.3f core=%s\n", ms, openblas_get_corename());
  return 0;
}

int layerMode(char **argv) {
  int s = std::atoi(argv[0]), e = std::atoi(argv[1]), hq = std::atoi(argv[2]),
      hkv = std::atoi(argv[3]), d = std::atoi(argv[4]),
      inter = std::atoi(argv[5]), threads = std::atoi(argv[6]),
      reps = std::atoi(argv[7]);
  openblas_set_num_threads(threads);
  float ws = 1.0f / std::sqrt(float(e));
  std::vector<float> x = randomVector(long(s) * e, 1, 1),
                     wq = randomVector(long(hq) * d * e, ws, 2),
                     wk = randomVector(long(hkv) * d * e, ws, 3),
                     wv = randomVector(long(hkv) * d * e, ws, 4),
                     wo = randomVector(long(e) * hq * d, ws, 5),
                     wg = randomVector(long(inter) * e, ws, 6),
                     wu = randomVector(long(inter) * e, ws, 7),
                     wd = randomVector(long(e) * inter,
                                       1.0f / std::sqrt(float(inter)), 8),
                     n1(e, 1.0f), n2(e, 1.0f);
  std::vector<float> cosv(long(s) * d / 2), sinv(long(s) * d / 2);
  for (int p = 0; p < s; ++p)
    for (int j = 0; j < d / 2; ++j) {
      float angle = float(p) / std::pow(10000.0f, 2.0f * j / d);
      cosv[long(p) * d / 2 + j] = std::cos(angle);
      sinv[long(p) * d / 2 + j] = std::sin(angle);
    }
  std::vector<float> h(long(s) * e), norm(long(s) * e), q(long(s) * hq * d),
      k(long(s) * hkv * d), v(long(s) * hkv * d), ctx(long(s) * hq * d),
      g(long(s) * inter), u(long(s) * inter), scores(long(s) * s),
      qh(long(s) * d), kh(long(s) * d), vh(long(s) * d), oh(long(s) * d);
  float scale = 1.0f / std::sqrt(float(d));
  auto once = [&] {
    rmsNorm(s, e, x.data(), n1.data(), norm.data(), threads);
    linear(s, hq * d, e, norm.data(), wq.data(), q.data());
    linear(s, hkv * d, e, norm.data(), wk.data(), k.data());
    linear(s, hkv * d, e, norm.data(), wv.data(), v.data());
    rope(s, hq, d, q.data(), cosv.data(), sinv.data(), threads);
    rope(s, hkv, d, k.data(), cosv.data(), sinv.data(), threads);
    for (int head = 0; head < hq; ++head) {
      int kvh = head / (hq / hkv);
      for (int p = 0; p < s; ++p) { // gather the head's rows
        std::memcpy(&qh[long(p) * d], &q[(long(p) * hq + head) * d], d * 4);
        std::memcpy(&kh[long(p) * d], &k[(long(p) * hkv + kvh) * d], d * 4);
        std::memcpy(&vh[long(p) * d], &v[(long(p) * hkv + kvh) * d], d * 4);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s, s, d, scale,
                  qh.data(), d, kh.data(), d, 0.0f, scores.data(), s);
      parallelRows(s, threads, [&](int r) {
        float *row = &scores[long(r) * s];
        int visible = r + 1;
        float max = -INFINITY, sum = 0;
        for (int j = 0; j < visible; ++j)
          max = std::max(max, row[j]);
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j < visible; ++j) {
          row[j] = std::exp(row[j] - max);
          sum += row[j];
        }
        float inv = 1.0f / sum;
#pragma omp simd
        for (int j = 0; j < visible; ++j)
          row[j] *= inv;
        std::fill(row + visible, row + s, 0.0f);
      });
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s, d, s, 1.0f,
                  scores.data(), s, vh.data(), d, 0.0f, oh.data(), d);
      for (int p = 0; p < s; ++p)
        std::memcpy(&ctx[(long(p) * hq + head) * d], &oh[long(p) * d], d * 4);
    }
    std::copy(x.begin(), x.end(), h.begin());
    linear(s, e, hq * d, ctx.data(), wo.data(), h.data(), /*accumulate=*/true);
    rmsNorm(s, e, h.data(), n2.data(), norm.data(), threads);
    linear(s, inter, e, norm.data(), wg.data(), g.data());
    linear(s, inter, e, norm.data(), wu.data(), u.data());
    parallelRows(s, threads, [&](int r) {
      float *gr = &g[long(r) * inter];
      const float *ur = &u[long(r) * inter];
#pragma omp simd
      for (int j = 0; j < inter; ++j)
        gr[j] = gr[j] / (1.0f + std::exp(-gr[j])) * ur[j];
    });
    linear(s, e, inter, g.data(), wd.data(), h.data(), /*accumulate=*/true);
  };
  double ms = timeIt(reps, once);
  std::printf("ms=%.3f core=%s\n", ms, openblas_get_corename());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 7 && !std::strcmp(argv[1], "sgemm"))
    return sgemmMode(argv + 2);
  if (argc == 10 && !std::strcmp(argv[1], "layer"))
    return layerMode(argv + 2);
  std::fprintf(stderr, "usage: dense sgemm M N K THREADS REPS\n"
                       "       dense layer S E HEADS KV_HEADS HEAD_DIM INTER "
                       "THREADS REPS\n");
  return 2;
}
