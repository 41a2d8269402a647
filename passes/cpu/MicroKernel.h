//===- MicroKernel.h - one register-blocked FMA block builder ---*- C++ -*-===//
//
// The CPU's only matrix-multiply code generator:
//
//   for k in [kBegin, kEnd):                      (one scf.for, accumulators
//     b[j] = loadB(k, j)          j < vecs         carried in registers)
//     for i < rows: a = broadcast(loadA(k, i))
//       acc[i][j] = fma(a, b[j], acc[i][j])
//
// with acc[i][j] = init(i, j) before the loop and epilogue(acc) after it.
// The flash score kernel (keys × query vectors), the value kernel (rows ×
// output vectors) and, next, dense layers are instances.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_CPU_MICROKERNEL_H
#define ATTN_PASSES_CPU_MICROKERNEL_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <functional>

namespace mlir::attn {

struct MicroKernel {
  int64_t rows = 1, vecs = 1; // the accumulator block, in vectors
  VectorType vectorType;      // one accumulator
  Value kBegin, kEnd;         // the reduction range (index)
  /// The scalar A[i, k] (broadcast by the builder).
  std::function<Value(OpBuilder &, Value k, int64_t i)> loadA;
  /// The vector B[k, j].
  std::function<Value(OpBuilder &, Value k, int64_t j)> loadB;
  /// The initial accumulator (i, j).
  std::function<Value(OpBuilder &, int64_t i, int64_t j)> init;
  /// Receives the final accumulators, acc[i * vecs + j].
  std::function<void(OpBuilder &, ArrayRef<Value> acc)> epilogue;
};

/// Emits `kernel` at the builder's insertion point.
void buildMicroKernel(OpBuilder &b, Location loc, const MicroKernel &kernel);

} // namespace mlir::attn

#endif // ATTN_PASSES_CPU_MICROKERNEL_H
