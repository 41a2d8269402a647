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
//            [--bias B.npy] [--alibi S0,S1,... | --alibi standard]
//            [--softcap C] [--cosine] [--lse L.npy [--lse-atol T]]
//            [--probs P.npy [--probs-heads H0,H1,...] [--probs-atol T]]
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
// (see `visible` below, which spells out every term). The score of a
// visible pair is
//
//   s = scale · q·k                       (--cosine: / (max(|q|, 1e-12) ·
//                                          max(|k|, 1e-12)))
//   s += bias[b | 0, h | 0, i, j]          (--bias, f32 [B|1, Hq|1, Sq, Skv])
//   s += slope[h] · (j - pos(i))           (--alibi; pos(i) = i + off)
//   s = C · tanh(s / C)                    (--softcap C)
//
// Softmax subtracts the row maximum and runs over the visible keys; rows
// that see no key (or whose every score is -inf) are exactly 0. --lse
// compares each row's log Σ exp(s) ([B, Hq, Sq]; -inf for rows that see no
// key) with L, at --lse-atol (default --atol) relative to max(1, |lse|):
// an f32 lse of 1e4 (scores of 1e4) is only good to ~1e-3 absolute.
// --probs compares P with the softmax weights [B, n, Sq, Skv] of the heads
// listed by --probs-heads (default: their average over all query heads,
// [B, 1, Sq, Skv]), 0 for pairs a row does not see, at --probs-atol
// (default --atol). The predicate is evaluated per (i, j) on purpose: it must stay
// independent of the compiler's range-based implementation.
//
// Tensors may be f32, f16 or bf16 .npy files (converted to f32 when read).
// The output's error is relative to its magnitude: |o - ref| / Σ_j P[j]·|V[j, d]|
// (what f32 rounding scales with; 1 for rows that see no key, which must be
// exactly 0), at --atol. Prints
// `max rel err = X at [b, h, i, d] (ref R, got G), atol T: PASS|FAIL`.
// A non-finite output element always fails. Exit status: 0 pass, 1 fail,
// 2 usage, file, shape or value error.
//
//===----------------------------------------------------------------------===//

#include "RefOptions.h"
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

using namespace attnref;

constexpr int kExitFail = 1;

std::string shapeString(const attnrt_tensor &t) {
  return fmt::format("[{}]", fmt::join(t.shape, t.shape + t.rank, ", "));
}

/// A loaded tensor of a given dtype and rank, freed on destruction.
struct Tensor {
  attnrt_tensor t;
  /// f32 tensors may be stored as f16 or bf16 (converted to f32 here).
  Tensor(const std::string &name, const std::string &path, int32_t dtype,
         int64_t rank) {
    char err[512];
    if (attnrt_npy_load(path.c_str(), &t, err, sizeof(err)) != ATTNRT_OK)
      fatal(err);
    if (dtype == ATTN_DTYPE_F32 &&
        (t.dtype == ATTN_DTYPE_F16 || t.dtype == ATTN_DTYPE_BF16)) {
      attnrt_tensor wide;
      if (attnrt_tensor_alloc(&wide, ATTN_DTYPE_F32, t.rank, t.shape) !=
          ATTNRT_OK)
        fatal(fmt::format("cannot allocate {} as f32", name));
      attnrt_to_f32(static_cast<float *>(wide.data), t.data, t.dtype,
                    attnrt_tensor_numel(&t));
      attnrt_tensor_free(&t);
      t = wide;
    }
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

/// The score modifiers, applied to scale · q·k in this order.
struct Modifiers {
  bool cosine = false;
  const Tensor *bias = nullptr; // f32 [B|1, Hq|1, Sq, Skv]
  std::vector<double> alibi;    // one slope per query head, or empty
  double softcap = 0;           // 0: none
};

double norm(const float *row, int64_t n) {
  double sum = 0;
  for (int64_t d = 0; d < n; ++d)
    sum += double(row[d]) * double(row[d]);
  return std::max(std::sqrt(sum), 1e-12);
}

/// The ALiBi paper's slopes (Press et al., and BLOOM's build_alibi_tensor):
/// with n the largest power of two <= H, the geometric sequence of ratio and
/// start 2^(-8/n), then the odd terms of the sequence for 2n heads.
std::vector<double> standardSlopes(int64_t heads) {
  int64_t n = 1;
  while (2 * n <= heads)
    n *= 2;
  std::vector<double> slopes;
  const double ratio = std::pow(2.0, -8.0 / double(n));
  for (int64_t k = 1; k <= n; ++k)
    slopes.push_back(std::pow(ratio, double(k)));
  const double extraRatio = std::pow(2.0, -8.0 / double(2 * n));
  for (int64_t k = 1; int64_t(slopes.size()) < heads; k += 2)
    slopes.push_back(std::pow(extraRatio, double(k)));
  return slopes;
}

/// The reference output [B, Hq, Sq, Dv], row-major, the row log-sum-exp
/// [B, Hq, Sq] in `lse`, the magnitude Σ_j P[j] · |V[j, d]| of each output
/// element in `magnitude` (what rounding errors scale with) and, if `probs`
/// is not null, the softmax weights [B, Hq, Sq, Skv] in it.
std::vector<double> attention(const Tensor &q, const Tensor &k, const Tensor &v,
                              const Mask &mask, double scale,
                              const Modifiers &mods, std::vector<double> &lse,
                              std::vector<double> &magnitude,
                              std::vector<double> *probs) {
  const int64_t B = q.dim(0), Hq = q.dim(1), Sq = q.dim(2), D = q.dim(3);
  const int64_t Hkv = k.dim(1), Skv = k.dim(2), Dv = v.dim(3);
  std::vector<double> out(size_t(B * Hq * Sq * Dv), 0.0);
  magnitude.assign(out.size(), 0.0);
  lse.assign(size_t(B * Hq * Sq), -INFINITY);
  if (probs)
    probs->assign(size_t(B * Hq * Sq * Skv), 0.0);
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
        const int64_t qLen = mask.qLengths ? mask.qLengths[b] : Sq;
        const int64_t kvLen = mask.kvLengths ? mask.kvLengths[b] : Skv;
        const int64_t pos = i + kvLen - qLen;
        double max = -INFINITY;
        for (int64_t j : keys) {
          const float *kRow = k.row(b, kvHead, j);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(qRow[d]) * double(kRow[d]);
          double score = dot * scale;
          if (mods.cosine)
            score /= norm(qRow, D) * norm(kRow, D);
          if (mods.bias) {
            const Tensor &bt = *mods.bias;
            score += double(bt.row(bt.dim(0) == 1 ? 0 : b,
                                   bt.dim(1) == 1 ? 0 : h, i)[j]);
          }
          if (!mods.alibi.empty())
            score += mods.alibi[size_t(h)] * double(j - pos);
          if (mods.softcap > 0)
            score = mods.softcap * std::tanh(score / mods.softcap);
          p[j] = score;
          max = std::max(max, p[j]);
        }
        // A row whose every score is -inf (a bias can do that) sees nothing.
        if (!(max > -INFINITY))
          continue;
        double sum = 0;
        for (int64_t j : keys)
          sum += p[j] = std::exp(p[j] - max);
        lse[size_t((b * Hq + h) * Sq + i)] = max + std::log(sum);
        double *outRow = &out[size_t(((b * Hq + h) * Sq + i) * Dv)];
        double *magnitudeRow =
            &magnitude[size_t(((b * Hq + h) * Sq + i) * Dv)];
        for (int64_t j : keys) {
          const float *vRow = v.row(b, kvHead, j);
          const double weight = p[j] / sum;
          if (probs)
            (*probs)[size_t(((b * Hq + h) * Sq + i) * Skv + j)] = weight;
          for (int64_t d = 0; d < Dv; ++d) {
            outRow[d] += weight * double(vRow[d]);
            magnitudeRow[d] += weight * std::fabs(double(vRow[d]));
          }
        }
      }
    }
  return out;
}

/// Prints `<label>max abs|rel err = X at [i, ...] (ref R, got G), atol T:
/// PASS|FAIL` for `got` against `ref` (row-major, dims `shape`). A
/// non-finite value must equal the reference's (the
/// -inf of an empty row's lse); any other counts as an infinite error.
/// With `scales` (one per element), each error is divided by its scale.
/// See `magnitude` in main.
constexpr double kMinMagnitude = 1.0 / 64;

bool compare(const char *label, const float *got,
             const std::vector<double> &ref,
             const std::vector<int64_t> &shape, double atol,
             const std::vector<double> *scales = nullptr) {
  if (ref.empty()) {
    fmt::print("{}max abs err = 0 (empty output), atol {:g}: PASS\n", label,
               atol);
    return true;
  }
  size_t worst = 0;
  double worstErr = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double value = got[i];
    double err = std::fabs(value - ref[i]);
    if (scales)
      err /= (*scales)[i];
    if (!std::isfinite(value) || !std::isfinite(ref[i]))
      err = value == ref[i] ? 0 : INFINITY;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  const bool pass = worstErr <= atol;
  std::vector<int64_t> index(shape.size());
  size_t rest = worst;
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = int64_t(rest % size_t(shape[d]));
    rest /= size_t(shape[d]);
  }
  fmt::print("{}max {} err = {:.3g} at [{}] (ref {:.6g}, got {:.6g}), atol "
             "{:g}: {}\n",
             label, scales ? "rel" : "abs", worstErr, fmt::join(index, ", "), ref[worst],
             double(got[worst]), atol, pass ? "PASS" : "FAIL");
  return pass;
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
  Modifiers mods;
  mods.cosine = opts.cosine;
  mods.softcap = opts.softcap;
  mods.alibi = opts.alibiStandard ? standardSlopes(q.dim(1)) : opts.alibi;
  if (!mods.alibi.empty() && int64_t(mods.alibi.size()) != q.dim(1))
    fatal(fmt::format("--alibi has {} slopes for {} query heads",
                      mods.alibi.size(), q.dim(1)));
  std::unique_ptr<Tensor> bias;
  if (!opts.bias.empty()) {
    bias = std::make_unique<Tensor>("bias", opts.bias, ATTN_DTYPE_F32, 4);
    const bool ok = (bias->dim(0) == B || bias->dim(0) == 1) &&
                    (bias->dim(1) == q.dim(1) || bias->dim(1) == 1) &&
                    bias->dim(2) == Sq && bias->dim(3) == Skv;
    if (!ok)
      fatal(fmt::format("--bias has shape {}; expected [{}|1, {}|1, {}, {}]",
                        shapeString(bias->t), B, q.dim(1), Sq, Skv));
    mods.bias = bias.get();
  }
  std::vector<double> refLse, magnitude, refProbs;
  const std::vector<double> ref =
      attention(q, k, v, mask, scale, mods, refLse, magnitude,
                opts.probs.empty() ? nullptr : &refProbs);

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

  // Output errors relative to Σ P·|V|: f32 rounding scales with the values
  // a row averages, not with their (possibly cancelling) sum. Below
  // kMinMagnitude the error is absolute again (times kMinMagnitude): huge
  // scores are only good to their f32 rounding, so tiny weights carry
  // relative errors of 1e-3 (large-logits.test) that are harmless in
  // absolute terms, and a row that sees no key must be 0.
  for (double &m : magnitude)
    m = std::max(m, kMinMagnitude);
  bool pass = compare("", out.f32(), ref,
                      std::vector<int64_t>(expected, expected + 4), opts.atol,
                      &magnitude);
  if (!opts.lse.empty()) {
    const Tensor lse("lse", opts.lse, ATTN_DTYPE_F32, 3);
    const std::vector<int64_t> lseShape = {q.dim(0), q.dim(1), q.dim(2)};
    if (!std::equal(lseShape.begin(), lseShape.end(), lse.t.shape))
      fatal(fmt::format("lse {} has shape {}; expected [{}] ([B, Hq, Sq])",
                        opts.lse, shapeString(lse.t),
                        fmt::join(lseShape, ", ")));
    std::vector<double> lseScales(refLse.size());
    for (size_t i = 0; i < refLse.size(); ++i)
      lseScales[i] = std::max(1.0, std::fabs(refLse[i]));
    pass &= compare("lse: ", lse.f32(), refLse, lseShape,
                    opts.lseAtol >= 0 ? opts.lseAtol : opts.atol, &lseScales);
  }
  if (!opts.probs.empty()) {
    const Tensor probs("probs", opts.probs, ATTN_DTYPE_F32, 4);
    const int64_t Hq = q.dim(1);
    for (int64_t h : opts.probsHeads)
      if (h >= Hq)
        fatal(fmt::format("--probs-heads: head {} is not below {}", h, Hq));
    const bool average = opts.probsHeads.empty();
    const int64_t n = average ? 1 : int64_t(opts.probsHeads.size());
    const std::vector<int64_t> shape = {B, n, Sq, Skv};
    if (!std::equal(shape.begin(), shape.end(), probs.t.shape))
      fatal(fmt::format("probs {} has shape {}; expected [{}]", opts.probs,
                        shapeString(probs.t), fmt::join(shape, ", ")));
    std::vector<double> expected(size_t(B * n * Sq * Skv), 0.0);
    const size_t slab = size_t(Sq * Skv);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hq; ++h) {
        int64_t slot = -1;
        if (average)
          slot = 0;
        for (size_t s2 = 0; s2 < opts.probsHeads.size(); ++s2)
          if (opts.probsHeads[s2] == h)
            slot = int64_t(s2);
        if (slot < 0)
          continue;
        const double *from = &refProbs[size_t(b * Hq + h) * slab];
        double *to = &expected[size_t(b * n + slot) * slab];
        for (size_t e = 0; e < slab; ++e)
          to[e] += average ? from[e] / double(Hq) : from[e];
      }
    pass &= compare("probs: ", probs.f32(), expected, shape,
                    opts.probsAtol >= 0 ? opts.probsAtol : opts.atol);
  }
  return pass ? 0 : kExitFail;
}
