//===- ScoreModifiers.h - what a score modifier sees ------------*- C++ -*-===//
//
// A score modifier (anything implementing ScoreModifierAttrInterface:
// #attn.bias, #attn.alibi, #attn.softcap, #attn.cosine) changes the score of
// a (query row, key) pair at exactly one point of the tile computation: after
// the dot product, before the mask and the softmax. It is written once and
// answers three questions:
//
//   - evaluate(): the scalar semantics, in the natural domain, on a
//     ScoreSite (the reference every implementation must agree with);
//   - buildVector(): the vector implementation on a VectorScoreSite, a vector
//     of scores of `width` query rows and one key, which a target's lowering
//     (CPU today, GPU later) provides through callbacks;
//   - getFlopsPerScore(): its cost in the op's FLOP count.
//
// Scores reach buildVector() multiplied by `domain` (the CPU kernel works in
// the log2 domain: domain = log2(e), so that softmax uses exp2), and the
// result must be multiplied by it too: a modifier maps domain·s to
// domain·f(s).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_SCOREMODIFIERS_H
#define ATTN_DIALECT_SCOREMODIFIERS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <functional>

namespace mlir::attn {

/// One (query row, key) pair, for the scalar semantics.
struct ScoreSite {
  int64_t head = 0;     // query head
  int64_t row = 0;      // query row i
  int64_t key = 0;      // key j
  int64_t position = 0; // pos(i) on the key axis (#attn.mask's alignment)
  double bias = 0;      // the bias tensor's element, with #attn.bias
  double queryNorm = 1, keyNorm = 1; // max(||q_i||, eps), max(||k_j||, eps)
};

/// A vector of `width` scores: consecutive query rows, one key. Each
/// callback builds its value at the builder's insertion point on demand, so
/// a modifier pays only for what it reads.
struct VectorScoreSite {
  int64_t width = 0;
  double domain = 1; // scores arrive (and leave) multiplied by this
  Value head;        // the query head of every lane (index; readsHead())
  /// vector<width x f32>: key - pos(row) per lane, exact.
  std::function<Value()> relativePosition;
  /// vector<width x f32>: the bias tensor's elements.
  std::function<Value()> bias;
  /// vector<width x f32>: 1 / max(||k_key||, eps) in every lane (cosine
  /// similarity; the query rows are normalized where they are packed).
  std::function<Value()> keyScale;
};

/// What a modifier may check about the op that carries it.
struct ScoreProblem {
  int64_t queryHeads = 0;
  bool hasBias = false; // the op has a bias operand
};

/// eps of the row norms of cosine similarity (as torch.nn.functional's
/// normalize).
constexpr double kCosineNormEpsilon = 1e-12;

/// The ALiBi slopes of Press et al. for `heads` heads: for n = the largest
/// power of two <= heads, 2^(-8 (k + 1) / n) for k < n, then, past n, every
/// other slope of 2n heads (2^(-4 (2k + 1) / n)).
llvm::SmallVector<float> getStandardAlibiSlopes(int64_t heads);

} // namespace mlir::attn

#endif // ATTN_DIALECT_SCOREMODIFIERS_H
