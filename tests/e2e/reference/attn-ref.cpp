//===- attn-ref.cpp - Independent reference for the end-to-end tests ------===//
//
// Test code only. Computes scaled-dot-product attention naively in double
// precision from .npy inputs and compares it with the compiler's output:
//
//   attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy [--mask none|causal]
//            [--scale S] [--atol T] [--write-ref R.npy]
//
// Semantics (the contract of attn.sdpa, written out independently here):
// q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v [B, Hkv, Skv, Dv], out
// [B, Hq, Sq, Dv], Hq a multiple of Hkv; query head h reads kv head
// h / (Hq / Hkv); scale defaults to 1/sqrt(D); the causal mask is aligned
// bottom-right: query i sees key j iff j <= i + (Skv - Sq), and rows that see
// no key are exactly 0. Softmax subtracts the row maximum.
//
// Prints `max abs err = X at [b, h, i, d] (ref R, got G), atol T: PASS|FAIL`.
// A non-finite output element always fails. Exit status: 0 pass, 1 fail,
// 2 usage, file or shape error.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

const char *const kUsage =
    "usage: attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy\n"
    "                [--mask none|causal] [--scale S] [--atol T]\n"
    "                [--write-ref R.npy]\n"
    "Compares O with attention over Q, K, V computed in double precision.\n"
    "--scale defaults to 1/sqrt(D), --atol to 1e-4; --write-ref also writes\n"
    "the reference as float32. Exit status: 0 pass, 1 fail, 2 error.\n";

[[noreturn]] void fatal(const std::string &message) {
  fprintf(stderr, "attn-ref: error: %s\n", message.c_str());
  exit(kExitUsage);
}

[[noreturn]] void usageError(const std::string &message) {
  fprintf(stderr, "attn-ref: error: %s\n%s", message.c_str(), kUsage);
  exit(kExitUsage);
}

struct Options {
  std::string q, k, v, out, writeRef;
  bool causal = false;
  bool hasScale = false;
  double scale = 0;
  double atol = 1e-4;
};

double parseNumber(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  double value = strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    fatal("invalid " + flag + " value '" + text + "' (expected a number)");
  return value;
}

Options parseOptions(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    if (flag == "--help" || flag == "-h") {
      fputs(kUsage, stdout);
      exit(0);
    }
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usageError("option '" + flag + "' needs a value");
    }
    if (flag == "--q")
      opts.q = value;
    else if (flag == "--k")
      opts.k = value;
    else if (flag == "--v")
      opts.v = value;
    else if (flag == "--out")
      opts.out = value;
    else if (flag == "--write-ref")
      opts.writeRef = value;
    else if (flag == "--mask" && (value == "none" || value == "causal"))
      opts.causal = value == "causal";
    else if (flag == "--mask")
      fatal("invalid --mask value '" + value + "' (expected none or causal)");
    else if (flag == "--scale") {
      opts.scale = parseNumber(flag, value);
      opts.hasScale = true;
    } else if (flag == "--atol") {
      opts.atol = parseNumber(flag, value);
      if (opts.atol < 0)
        fatal("--atol must not be negative");
    } else {
      usageError("unknown option '" + flag + "'");
    }
  }
  if (opts.q.empty() || opts.k.empty() || opts.v.empty() || opts.out.empty())
    usageError("--q, --k, --v and --out are required");
  return opts;
}

std::string shapeString(const attnrt_tensor &t) {
  std::string text = "[";
  for (int64_t i = 0; i < t.rank; ++i)
    text += (i ? ", " : "") + std::to_string(t.shape[i]);
  return text + "]";
}

/// A loaded rank-4 tensor, freed on destruction.
struct Tensor4 {
  attnrt_tensor t;
  Tensor4(const std::string &name, const std::string &path) {
    char err[512];
    if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK)
      fatal(err);
    if (t.rank != 4)
      fatal(name + " (" + path + ") has shape " + shapeString(t) +
            "; expected rank 4");
  }
  ~Tensor4() { attnrt_tensor_free(&t); }
  int64_t dim(int i) const { return t.shape[i]; }
  /// Pointer to element [a, b, c, 0].
  const float *row(int64_t a, int64_t b, int64_t c) const {
    return t.data + ((a * t.shape[1] + b) * t.shape[2] + c) * t.shape[3];
  }
};

/// The reference output [B, Hq, Sq, Dv], row-major.
std::vector<double> attention(const Tensor4 &q, const Tensor4 &k,
                              const Tensor4 &v, bool causal, double scale) {
  const int64_t B = q.dim(0), Hq = q.dim(1), Sq = q.dim(2), D = q.dim(3);
  const int64_t Hkv = k.dim(1), Skv = k.dim(2), Dv = v.dim(3);
  std::vector<double> out(size_t(B * Hq * Sq * Dv), 0.0);
  std::vector<double> p(static_cast<size_t>(Skv));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t kvHead = h / (Hq / Hkv);
      for (int64_t i = 0; i < Sq; ++i) {
        // Keys [0, visible) are visible to query i.
        const int64_t visible =
            causal ? std::max<int64_t>(0, std::min(Skv, i + Skv - Sq + 1))
                   : Skv;
        if (visible == 0)
          continue;
        const float *qRow = q.row(b, h, i);
        double max = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) {
          const float *kRow = k.row(b, kvHead, j);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(qRow[d]) * double(kRow[d]);
          p[j] = dot * scale;
          max = std::max(max, p[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < visible; ++j)
          sum += p[j] = std::exp(p[j] - max);
        double *outRow = &out[size_t(((b * Hq + h) * Sq + i) * Dv)];
        for (int64_t j = 0; j < visible; ++j) {
          const float *vRow = v.row(b, kvHead, j);
          const double weight = p[j] / sum;
          for (int64_t d = 0; d < Dv; ++d)
            outRow[d] += weight * double(vRow[d]);
        }
      }
    }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  const Options opts = parseOptions(argc, argv);
  const Tensor4 q("q", opts.q), k("k", opts.k), v("v", opts.v),
      out("out", opts.out);

  const std::string shapes = "q " + shapeString(q.t) + ", k " +
                             shapeString(k.t) + ", v " + shapeString(v.t);
  auto check = [&](bool ok, const char *problem) {
    if (!ok)
      fatal(std::string("shape mismatch: ") + problem + " (" + shapes + ")");
  };
  check(k.dim(0) == q.dim(0) && v.dim(0) == q.dim(0), "batch sizes differ");
  check(k.dim(3) == q.dim(3), "q and k head dims differ");
  check(v.dim(1) == k.dim(1), "k and v head counts differ");
  check(v.dim(2) == k.dim(2), "k and v sequence lengths differ");
  check(k.dim(1) > 0 && q.dim(1) % k.dim(1) == 0,
        "query heads are not a multiple of kv heads");
  const int64_t expected[4] = {q.dim(0), q.dim(1), q.dim(2), v.dim(3)};
  for (int i = 0; i < 4; ++i)
    if (out.dim(i) != expected[i])
      fatal("output " + opts.out + " has shape " + shapeString(out.t) +
            " but q, k, v give [" + std::to_string(expected[0]) + ", " +
            std::to_string(expected[1]) + ", " + std::to_string(expected[2]) +
            ", " + std::to_string(expected[3]) + "] ([B, Hq, Sq, Dv])");

  const double scale =
      opts.hasScale ? opts.scale : 1.0 / std::sqrt(double(q.dim(3)));
  const std::vector<double> ref = attention(q, k, v, opts.causal, scale);

  if (!opts.writeRef.empty()) {
    attnrt_tensor refTensor;
    if (attnrt_tensor_alloc(&refTensor, 4, expected) != ATTNRT_OK)
      fatal("cannot allocate the reference tensor");
    for (size_t i = 0; i < ref.size(); ++i)
      refTensor.data[i] = float(ref[i]);
    char err[512];
    attnrt_status status =
        attnrt_npy_save(opts.writeRef.c_str(), &refTensor, err, sizeof(err));
    attnrt_tensor_free(&refTensor);
    if (status != ATTNRT_OK)
      fatal(err);
  }

  if (ref.empty()) {
    printf("max abs err = 0 (empty output), atol %g: PASS\n", opts.atol);
    return 0;
  }
  // The first element with the largest error; a non-finite one counts as an
  // infinite error.
  size_t worst = 0;
  double worstErr = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double got = out.t.data[i];
    const double err = std::isfinite(got) ? std::fabs(got - ref[i]) : INFINITY;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  const bool pass = worstErr <= opts.atol;
  int64_t index[4];
  size_t rest = worst;
  for (int d = 3; d >= 0; --d) {
    index[d] = int64_t(rest % size_t(expected[d]));
    rest /= size_t(expected[d]);
  }
  printf("max abs err = %.3g at [%lld, %lld, %lld, %lld] (ref %.6g, got "
         "%.6g), atol %g: %s\n",
         worstErr, (long long)index[0], (long long)index[1],
         (long long)index[2], (long long)index[3], ref[worst],
         double(out.t.data[worst]), opts.atol, pass ? "PASS" : "FAIL");
  return pass ? 0 : kExitFail;
}
