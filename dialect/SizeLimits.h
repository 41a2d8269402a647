//===- SizeLimits.h - the largest tensors and sequences ---------*- C++ -*-===//
//
// No MLIR types: the model parser checks declared shapes with these, the op
// verifiers and the front end the rest (dialect/AttnDialect.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_DIALECT_SIZELIMITS_H
#define ATTN_DIALECT_SIZELIMITS_H

#include "llvm/ADT/ArrayRef.h"

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

/// The first dimension of `shape` from which elementBytes · (product of the
/// dimensions so far) exceeds kMaxTensorBytes, or -1 when the tensor fits.
/// `bytes` gets the tensor's size (as a double: it may exceed int64).
int64_t firstOversizedDim(llvm::ArrayRef<int64_t> shape, int64_t elementBytes,
                          double &bytes);

/// a · b · ..., or -1 when the product of these non-negative factors does
/// not fit in int64 (what CostOpInterface::getFlops returns then).
int64_t checkedProduct(std::initializer_list<int64_t> factors);

} // namespace mlir::attn

#endif // ATTN_DIALECT_SIZELIMITS_H
