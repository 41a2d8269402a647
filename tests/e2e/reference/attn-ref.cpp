//===- attn-ref.cpp - independent reference for the end-to-end tests ------===//
//
// Test code only. Computes scaled-dot-product attention naively in double
// precision from .npy inputs and compares it with the compiler's output:
//
//   attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy
//            [--mask none|causal] [--scale S] [--atol 1e-4]
//
// Semantics (the contract of attn.sdpa, written out independently here):
// q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv], out
// [B, Hq, Sq, Dv]; query head h reads kv head h / (Hq / Hkv); scale defaults
// to 1/sqrt(D); causal is bottom-right aligned (query i sees key j iff
// j <= i + Skv - Sq); rows that see no key are 0.
//
// Exit status: 0 pass, 1 mismatch, 2 usage or shape error.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage(const std::string &message) {
  std::fprintf(stderr,
               "attn-ref: error: %s\nusage: attn-ref --q Q.npy --k K.npy "
               "--v V.npy --out O.npy [--mask none|causal] [--scale S] "
               "[--atol T]\n",
               message.c_str());
  std::exit(2);
}

attnrt_tensor load(const std::string &path) {
  attnrt_tensor t;
  char err[512];
  if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK)
    usage(err);
  if (t.rank != 4)
    usage(path + ": expected a rank-4 tensor, got rank " +
          std::to_string(t.rank));
  return t;
}

} // namespace

int main(int argc, char **argv) {
  std::string qPath, kPath, vPath, outPath, mask = "none";
  double scale = 0, atol = 1e-4;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc)
      usage("missing value for " + flag);
    std::string val = argv[++i];
    if (flag == "--q")
      qPath = val;
    else if (flag == "--k")
      kPath = val;
    else if (flag == "--v")
      vPath = val;
    else if (flag == "--out")
      outPath = val;
    else if (flag == "--mask")
      mask = val;
    else if (flag == "--scale")
      scale = std::atof(val.c_str());
    else if (flag == "--atol")
      atol = std::atof(val.c_str());
    else
      usage("unknown flag " + flag);
  }
  if (qPath.empty() || kPath.empty() || vPath.empty() || outPath.empty())
    usage("--q, --k, --v and --out are required");
  if (mask != "none" && mask != "causal")
    usage("unknown mask '" + mask + "'");

  attnrt_tensor q = load(qPath), k = load(kPath), v = load(vPath),
                out = load(outPath);
  const int64_t B = q.shape[0], Hq = q.shape[1], Sq = q.shape[2],
                D = q.shape[3], Hkv = k.shape[1], Skv = k.shape[2],
                Dv = v.shape[3];
  if (k.shape[0] != B || v.shape[0] != B || v.shape[1] != Hkv ||
      k.shape[3] != D || v.shape[2] != Skv || Hq % Hkv != 0)
    usage("inconsistent q/k/v shapes");
  if (out.shape[0] != B || out.shape[1] != Hq || out.shape[2] != Sq ||
      out.shape[3] != Dv)
    usage("output shape does not match [B, Hq, Sq, Dv]");
  if (scale == 0)
    scale = 1.0 / std::sqrt(double(D));

  auto at = [](const attnrt_tensor &t, int64_t a, int64_t b, int64_t c,
               int64_t d) {
    return double(
        t.data[((a * t.shape[1] + b) * t.shape[2] + c) * t.shape[3] + d]);
  };
  double worst = 0, worstRef = 0, worstGot = 0;
  int64_t where[4] = {0, 0, 0, 0};
  bool nonFinite = false;
  std::vector<double> scores(Skv), row(Dv);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t kh = h / (Hq / Hkv);
      for (int64_t i = 0; i < Sq; ++i) {
        int64_t visible = mask == "causal"
                              ? std::max<int64_t>(0, std::min(Skv, i + Skv - Sq + 1))
                              : Skv;
        double max = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) {
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += at(q, b, h, i, d) * at(k, b, kh, j, d);
          scores[j] = s * scale;
          max = std::max(max, scores[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          sum += scores[j] = std::exp(scores[j] - max);
        std::fill(row.begin(), row.end(), 0.0);
        for (int64_t j = 0; j < visible; ++j)
          for (int64_t d = 0; d < Dv; ++d)
            row[d] += scores[j] / sum * at(v, b, kh, j, d);
        for (int64_t d = 0; d < Dv; ++d) {
          double got = at(out, b, h, i, d);
          double err = std::fabs(got - row[d]);
          if (!std::isfinite(got))
            nonFinite = true;
          if (err > worst || !std::isfinite(got)) {
            worst = std::isfinite(got) ? err : INFINITY;
            worstRef = row[d];
            worstGot = got;
            int64_t idx[4] = {b, h, i, d};
            std::memcpy(where, idx, sizeof(idx));
          }
        }
      }
    }
  bool pass = !nonFinite && worst <= atol;
  std::printf("max abs err = %.3g at [%lld, %lld, %lld, %lld] (ref %.6g, got "
              "%.6g), atol %.3g: %s\n",
              worst, (long long)where[0], (long long)where[1],
              (long long)where[2], (long long)where[3], worstRef, worstGot,
              atol, pass ? "PASS" : "FAIL");
  for (attnrt_tensor *t : {&q, &k, &v, &out})
    attnrt_tensor_free(t);
  return pass ? 0 : 1;
}
