//===- attn-ref.cpp - Independent reference for the end-to-end tests ------===//
//
// Test code only. Computes scaled-dot-product attention naively in double
// precision from .npy inputs and compares it with the compiler's output:
//
//   attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy [--mask none|causal]
//            [--window L,R] [--global P0,P1,...]
//            [--kv-lengths L.npy] [--q-lengths L.npy]
//            [--kv-segments S.npy] [--q-segments S.npy]
//            [--scale S] [--atol T] [--write-ref R.npy]
//
// Semantics (the contract of attn.sdpa and #attn.mask in dialect/README.md,
// written out independently here): q [B, Hq, Sq, D], k [B, Hkv, Skv, D], v
// [B, Hkv, Skv, Dv], out [B, Hq, Sq, Dv], Hq a multiple of Hkv; query head h
// reads kv head h / (Hq / Hkv); scale defaults to 1/sqrt(D). Lengths are i32
// [B], segment ids i32 [B, Skv] (kv) and [B, Sq] (q; defaults to the kv ids
// when Sq == Skv). Query row i of batch b sees key j iff
//
//   i < qLen and j < C(i) and (gRow(i) or gCol(j) or
//                              (inWindow(i, j) and sameSeg(i, j)))
//
// (see `visible` below, which spells out every term). Softmax subtracts the
// row maximum and runs over the visible keys; rows that see no key are
// exactly 0. The predicate is evaluated per (i, j) on purpose: it must stay
// independent of the compiler's range-based implementation.
//
// Prints `max abs err = X at [b, h, i, d] (ref R, got G), atol T: PASS|FAIL`.
// A non-finite output element always fails. Exit status: 0 pass, 1 fail,
// 2 usage, file, shape or value error.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

const char *const kUsage =
    "usage: attn-ref --q Q.npy --k K.npy --v V.npy --out O.npy\n"
    "                [--mask none|causal] [--window L,R] [--global P0,P1,...]\n"
    "                [--kv-lengths L.npy] [--q-lengths L.npy]\n"
    "                [--kv-segments S.npy] [--q-segments S.npy]\n"
    "                [--scale S] [--atol T] [--write-ref R.npy]\n"
    "Compares O with attention over Q, K, V computed in double precision,\n"
    "with the mask rule of attn.sdpa (dialect/README.md): --window keeps\n"
    "keys within L before and R after a query's position, --global lists\n"
    "global positions,\n"
    "lengths are int32 [B], segment ids int32 [B, S] (--q-segments defaults\n"
    "to --kv-segments). --scale defaults to 1/sqrt(D), --atol to 1e-4;\n"
    "--write-ref also writes the reference as float32. Exit status: 0 pass,\n"
    "1 fail, 2 error.\n";

[[noreturn]] void fatal(const std::string &message) {
  fmt::print(stderr, "attn-ref: error: {}\n", message);
  exit(kExitUsage);
}

[[noreturn]] void usageError(const std::string &message) {
  fmt::print(stderr, "attn-ref: error: {}\n{}", message, kUsage);
  exit(kExitUsage);
}

struct Options {
  std::string q, k, v, out, writeRef;
  std::string kvLengths, qLengths, kvSegments, qSegments;
  bool causal = false;
  bool hasWindow = false;
  int64_t left = 0, right = 0;
  std::vector<int64_t> global;
  bool hasScale = false;
  double scale = 0;
  double atol = 1e-4;
};

double parseNumber(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  double value = strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value))
    fatal(fmt::format("invalid {} value '{}' (expected a number)", flag, text));
  return value;
}

/// "3,0,17": non-negative integers separated by commas.
std::vector<int64_t> parseList(const std::string &flag,
                               const std::string &text) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    char *end = nullptr;
    const long long value = strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 0 || item[0] == '+')
      fatal(fmt::format("invalid {} value '{}' (expected non-negative "
                        "integers separated by commas)",
                        flag, text));
    values.push_back(value);
    if (comma == std::string::npos)
      return values;
    start = comma + 1;
  }
}

Options parseOptions(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i], value;
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", kUsage);
      exit(0);
    }
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usageError(fmt::format("option '{}' needs a value", flag));
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
    else if (flag == "--kv-lengths")
      opts.kvLengths = value;
    else if (flag == "--q-lengths")
      opts.qLengths = value;
    else if (flag == "--kv-segments")
      opts.kvSegments = value;
    else if (flag == "--q-segments")
      opts.qSegments = value;
    else if (flag == "--mask" && (value == "none" || value == "causal"))
      opts.causal = value == "causal";
    else if (flag == "--mask")
      fatal(fmt::format("invalid --mask value '{}' (expected none or causal)",
                        value));
    else if (flag == "--window") {
      const std::vector<int64_t> sides = parseList(flag, value);
      if (sides.size() != 2)
        fatal(fmt::format("invalid --window value '{}' (expected L,R)", value));
      opts.hasWindow = true;
      opts.left = sides[0];
      opts.right = sides[1];
    } else if (flag == "--global") {
      opts.global = parseList(flag, value);
    } else if (flag == "--scale") {
      opts.scale = parseNumber(flag, value);
      opts.hasScale = true;
    } else if (flag == "--atol") {
      opts.atol = parseNumber(flag, value);
      if (opts.atol < 0)
        fatal("--atol must not be negative");
    } else {
      usageError(fmt::format("unknown option '{}'", flag));
    }
  }
  if (opts.q.empty() || opts.k.empty() || opts.v.empty() || opts.out.empty())
    usageError("--q, --k, --v and --out are required");
  if (opts.causal && opts.hasWindow && opts.right != 0)
    fatal("with --mask causal the window's right side must be 0");
  return opts;
}

std::string shapeString(const attnrt_tensor &t) {
  return fmt::format("[{}]", fmt::join(t.shape, t.shape + t.rank, ", "));
}

/// A loaded tensor of a given dtype and rank, freed on destruction.
struct Tensor {
  attnrt_tensor t;
  Tensor(const std::string &name, const std::string &path, int32_t dtype,
         int64_t rank) {
    char err[512];
    if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK)
      fatal(err);
    if (t.dtype != dtype || t.rank != rank) {
      const std::string got =
          fmt::format("{}{}", attnrt_dtype_name(t.dtype), shapeString(t));
      attnrt_tensor_free(&t);
      fatal(fmt::format("{} ({}) is {}; expected {} of rank {}", name, path,
                        got, attnrt_dtype_name(dtype), rank));
    }
  }
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;
  ~Tensor() { attnrt_tensor_free(&t); }
  int64_t dim(int i) const { return t.shape[i]; }
  const float *f32() const { return static_cast<const float *>(t.data); }
  const int32_t *i32() const { return static_cast<const int32_t *>(t.data); }
  /// Pointer to element [a, b, c, 0] of a rank-4 f32 tensor.
  const float *row(int64_t a, int64_t b, int64_t c) const {
    return f32() + ((a * t.shape[1] + b) * t.shape[2] + c) * t.shape[3];
  }
};

/// An optional input: null when `path` is empty.
std::unique_ptr<Tensor> loadOptional(const std::string &name,
                                     const std::string &path, int64_t rank) {
  if (path.empty())
    return nullptr;
  return std::make_unique<Tensor>(name, path, ATTN_DTYPE_I32, rank);
}

/// Everything that decides which keys a query row sees (dialect/README.md).
struct Mask {
  int64_t Sq = 0, Skv = 0;
  bool causal = false;
  bool hasWindow = false;
  int64_t left = 0, right = 0;
  std::set<int64_t> global;            // G
  const int32_t *qLengths = nullptr;   // [B] or null
  const int32_t *kvLengths = nullptr;  // [B] or null
  const int32_t *qSegments = nullptr;  // [B, Sq] or null
  const int32_t *kvSegments = nullptr; // [B, Skv] or null

  /// Query row i of batch b sees key j; the rule term by term.
  bool visible(int64_t b, int64_t i, int64_t j) const {
    const int64_t qLen = qLengths ? qLengths[b] : Sq;
    const int64_t kvLen = kvLengths ? kvLengths[b] : Skv;
    const int64_t off = kvLen - qLen;
    const int64_t pos = i + off;
    const int64_t C = causal ? std::min(kvLen, pos + 1) : kvLen;
    const bool inWindow = !hasWindow || (pos - left <= j && j <= pos + right);
    const bool sameSeg =
        !kvSegments || kvSegments[b * Skv + j] == qSegments[b * Sq + i];
    const bool gCol = global.count(j) != 0;
    const bool gRow = global.count(pos) != 0;
    return i < qLen && j < C && (gRow || gCol || (inWindow && sameSeg));
  }
};

/// The reference output [B, Hq, Sq, Dv], row-major.
std::vector<double> attention(const Tensor &q, const Tensor &k, const Tensor &v,
                              const Mask &mask, double scale) {
  const int64_t B = q.dim(0), Hq = q.dim(1), Sq = q.dim(2), D = q.dim(3);
  const int64_t Hkv = k.dim(1), Skv = k.dim(2), Dv = v.dim(3);
  std::vector<double> out(size_t(B * Hq * Sq * Dv), 0.0);
  std::vector<double> p(static_cast<size_t>(Skv));
  std::vector<int64_t> keys; // the visible keys of one row
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t kvHead = h / (Hq / Hkv);
      for (int64_t i = 0; i < Sq; ++i) {
        keys.clear();
        for (int64_t j = 0; j < Skv; ++j)
          if (mask.visible(b, i, j))
            keys.push_back(j);
        if (keys.empty())
          continue;
        const float *qRow = q.row(b, h, i);
        double max = -INFINITY;
        for (int64_t j : keys) {
          const float *kRow = k.row(b, kvHead, j);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(qRow[d]) * double(kRow[d]);
          p[j] = dot * scale;
          max = std::max(max, p[j]);
        }
        double sum = 0;
        for (int64_t j : keys)
          sum += p[j] = std::exp(p[j] - max);
        double *outRow = &out[size_t(((b * Hq + h) * Sq + i) * Dv)];
        for (int64_t j : keys) {
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
  const Tensor q("q", opts.q, ATTN_DTYPE_F32, 4),
      k("k", opts.k, ATTN_DTYPE_F32, 4), v("v", opts.v, ATTN_DTYPE_F32, 4),
      out("out", opts.out, ATTN_DTYPE_F32, 4);

  const std::string shapes = fmt::format("q {}, k {}, v {}", shapeString(q.t),
                                         shapeString(k.t), shapeString(v.t));
  auto check = [&](bool ok, const char *problem) {
    if (!ok)
      fatal(fmt::format("shape mismatch: {} ({})", problem, shapes));
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
      fatal(fmt::format("output {} has shape {} but q, k, v give [{}] "
                        "([B, Hq, Sq, Dv])",
                        opts.out, shapeString(out.t),
                        fmt::join(expected, expected + 4, ", ")));

  // Mask inputs: shapes, then values.
  const int64_t B = q.dim(0), Sq = q.dim(2), Skv = k.dim(2);
  const auto kvLengths = loadOptional("kv-lengths", opts.kvLengths, 1);
  const auto qLengths = loadOptional("q-lengths", opts.qLengths, 1);
  const auto kvSegments = loadOptional("kv-segments", opts.kvSegments, 2);
  const auto qSegments = loadOptional("q-segments", opts.qSegments, 2);
  auto checkShape = [&](const std::unique_ptr<Tensor> &t, const char *name,
                        std::vector<int64_t> shape) {
    if (t && !std::equal(shape.begin(), shape.end(), t->t.shape))
      fatal(fmt::format("{} has shape {}; expected [{}] ({})", name,
                        shapeString(t->t), fmt::join(shape, ", "), shapes));
  };
  checkShape(kvLengths, "--kv-lengths", {B});
  checkShape(qLengths, "--q-lengths", {B});
  checkShape(kvSegments, "--kv-segments", {B, Skv});
  checkShape(qSegments, "--q-segments", {B, Sq});
  if (qSegments && !kvSegments)
    fatal("--q-segments needs --kv-segments");
  if (kvSegments && !qSegments && Sq != Skv)
    fatal(fmt::format("--q-segments is required when Sq ({}) != Skv ({})", Sq,
                      Skv));
  auto checkLengths = [&](const std::unique_ptr<Tensor> &t, const char *name,
                          int64_t bound) {
    for (int64_t b = 0; t && b < B; ++b)
      if (t->i32()[b] < 0 || t->i32()[b] > bound)
        fatal(fmt::format("{}: value {} at [{}] is outside [0, {}]", name,
                          t->i32()[b], b, bound));
  };
  checkLengths(kvLengths, "--kv-lengths", Skv);
  checkLengths(qLengths, "--q-lengths", Sq);
  for (int64_t p : opts.global)
    if (p >= Skv)
      fatal(fmt::format("--global position {} is outside [0, {})", p, Skv));

  Mask mask;
  mask.Sq = Sq;
  mask.Skv = Skv;
  mask.causal = opts.causal;
  mask.hasWindow = opts.hasWindow;
  mask.left = opts.left;
  mask.right = opts.right;
  mask.global.insert(opts.global.begin(), opts.global.end());
  mask.kvLengths = kvLengths ? kvLengths->i32() : nullptr;
  mask.qLengths = qLengths ? qLengths->i32() : nullptr;
  mask.kvSegments = kvSegments ? kvSegments->i32() : nullptr;
  mask.qSegments = qSegments ? qSegments->i32() : mask.kvSegments;

  const double scale =
      opts.hasScale ? opts.scale : 1.0 / std::sqrt(double(q.dim(3)));
  const std::vector<double> ref = attention(q, k, v, mask, scale);

  if (!opts.writeRef.empty()) {
    attnrt_tensor refTensor;
    if (attnrt_tensor_alloc(&refTensor, ATTN_DTYPE_F32, 4, expected) !=
        ATTNRT_OK)
      fatal("cannot allocate the reference tensor");
    float *refData = static_cast<float *>(refTensor.data);
    for (size_t i = 0; i < ref.size(); ++i)
      refData[i] = float(ref[i]);
    char err[512];
    attnrt_status status =
        attnrt_npy_save(opts.writeRef.c_str(), &refTensor, err, sizeof(err));
    attnrt_tensor_free(&refTensor);
    if (status != ATTNRT_OK)
      fatal(err);
  }

  if (ref.empty()) {
    fmt::print("max abs err = 0 (empty output), atol {:g}: PASS\n", opts.atol);
    return 0;
  }
  // The first element with the largest error; a non-finite one counts as an
  // infinite error.
  const float *got = out.f32();
  size_t worst = 0;
  double worstErr = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double value = got[i];
    const double err =
        std::isfinite(value) ? std::fabs(value - ref[i]) : INFINITY;
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
  fmt::print("max abs err = {:.3g} at [{}] (ref {:.6g}, got {:.6g}), atol "
             "{:g}: {}\n",
             worstErr, fmt::join(index, index + 4, ", "), ref[worst],
             double(got[worst]), opts.atol, pass ? "PASS" : "FAIL");
  return pass ? 0 : kExitFail;
}
