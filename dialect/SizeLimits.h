//===- SizeLimits.h - the largest tensors and sequences ---------*- C++ -*-===//
//
// No MLIR types: the model parser checks declared shapes with these, the op
// verifiers and the front end (IRGen) the rest.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_SIZELIMITS_H
#define ATTN_DIALECT_SIZELIMITS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/MathExtras.h"

#include <cstdint>
#include <initializer_list>

namespace mlir::attn {
/// Size limits every model is checked against before anything is lowered,
/// so that no count overflows and no program is built that no machine can
/// run. A tensor holds at most 2^47 bytes (128 TiB, the user address space
/// of x86-64 Linux); attention sequences are at most 2^24 positions (the
/// generated mask arithmetic is 32-bit, and compile-time mask analysis
/// walks the rows).
constexpr int64_t kMaxTensorBytes = int64_t(1) << 47;
constexpr int64_t kMaxSequenceLength = int64_t(1) << 24;
/// How messages end that reject a tensor over kMaxTensorBytes.
constexpr const char *kTooLargeToAllocate =
    "more than any machine can allocate (a tensor holds at most 2^47 bytes, "
    "128 TiB)";

/// The first dimension of `shape` from which elementBytes · (product of the
/// dimensions so far) exceeds kMaxTensorBytes, or -1 when the tensor fits.
/// `bytes` gets the tensor's size (as a double: it may exceed int64).
inline int64_t firstOversizedDim(llvm::ArrayRef<int64_t> shape,
                                 int64_t elementBytes, double &bytes) {
  bytes = double(elementBytes);
  int64_t first = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    bytes *= double(shape[i]);
    if (first < 0 && bytes > double(kMaxTensorBytes))
      first = static_cast<int64_t>(i);
  }
  return first;
}

/// a · b · ..., or -1 when the product of these non-negative factors does
/// not fit in int64 (what CostOpInterface::getFlops returns then).
inline int64_t checkedProduct(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t factor : factors)
    if (factor < 0 || llvm::MulOverflow(product, factor, product))
      return -1;
  return product;
}

} // namespace mlir::attn

#endif // ATTN_DIALECT_SIZELIMITS_H
