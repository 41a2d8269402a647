//===- VectorLoops.h - loop and vector helpers for block ops ----*- C++ -*-===//
//
// Small builders shared by the CPU lowerings of the transformer-block ops
// (BlockOpsCpu.cpp, GemmCpu.cpp). Every buffer they touch is a contiguous
// identity-layout memref seen as a flat 1-D view, so positions are linear
// indices computed with plain index arithmetic.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_PASSES_CPU_VECTORLOOPS_H
#define ATTN_PASSES_CPU_VECTORLOOPS_H

#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <functional>

namespace mlir::attn {

/// Index arithmetic at one location, folding constants as it goes.
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return b.createOrFold<arith::AddIOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.createOrFold<arith::MulIOp>(loc, x, y); }
  Value mul(Value x, int64_t y) { return mul(x, c(y)); }
  Value add(Value x, int64_t y) { return add(x, c(y)); }
  Value div(Value x, int64_t y) {
    return b.createOrFold<arith::DivUIOp>(loc, x, c(y));
  }
  Value rem(Value x, int64_t y) {
    return b.createOrFold<arith::RemUIOp>(loc, x, c(y));
  }
  Value min(Value x, Value y) { return b.createOrFold<arith::MinUIOp>(loc, x, y); }
};

/// The buffer of `tensor` (read-only) as a flat 1-D memref.
Value flatBuffer(OpBuilder &b, Location loc, Value tensor);
/// A new 64-byte aligned buffer of `type`'s shape and its flat view.
std::pair<Value, Value> allocResult(OpBuilder &b, Location loc,
                                    RankedTensorType type);
/// The tensor of the buffer made by allocResult.
Value resultTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   Value buffer);

/// One scf.parallel over [0, n) with `body(b, iv)`.
void parallelFor(OpBuilder &b, Location loc, int64_t n,
                 const std::function<void(OpBuilder &, Value)> &body);

/// scf.for over [from, to) step `step` with `body(b, iv)`.
void forLoop(OpBuilder &b, Location loc, Value from, Value to, int64_t step,
             const std::function<void(OpBuilder &, Value)> &body);

/// Calls `body(b, offset, type)` for `offset` from `begin` to `begin + n`:
/// in steps of `width` with type vector<width x f32>, then one by one for the
/// remaining elements with vector<1 x f32>.
void forEachVector(
    OpBuilder &b, Location loc, Value begin, int64_t n, int64_t width,
    const std::function<void(OpBuilder &, Value offset, VectorType)> &body);

/// Reduces over `n` elements like forEachVector: `step(b, offset, type, acc)`
/// returns the updated accumulator (a vector of `type`); the result is the
/// sum of all lanes.
Value sumVectors(OpBuilder &b, Location loc, Value begin, int64_t n,
                 int64_t width,
                 const std::function<Value(OpBuilder &, Value offset,
                                           VectorType, Value acc)> &step);

/// One scf.parallel over rows in blocks of about `elementsPerIteration` /
/// `rowSize` rows; `body(b, row)` is called per row.
void parallelRows(OpBuilder &b, Location loc, int64_t rows, int64_t rowSize,
                  const std::function<void(OpBuilder &, Value row)> &body);

Value loadVector(OpBuilder &b, Location loc, VectorType type, Value memref,
                 Value offset);
void storeVector(OpBuilder &b, Location loc, Value value, Value memref,
                 Value offset);
/// Transposes the w × w block `rows` (w vectors of w lanes) in place, in
/// w·log2(w) shuffles.
void transposeSquare(OpBuilder &b, Location loc, SmallVectorImpl<Value> &rows);
/// For w vectors of w lanes (w a power of two): the vector whose lane i is
/// the sum of `vectors[i]`'s lanes, in 2·(w-1) shuffles and w-1 adds.
Value sumEachVector(OpBuilder &b, Location loc, ArrayRef<Value> vectors);

/// A vector of `type` with every lane `value`.
Value splat(OpBuilder &b, Location loc, VectorType type, double value);

/// `kind` applied to `x` (f32 scalar or vector), in math/arith ops.
Value buildActivation(OpBuilder &b, Location loc, Activation kind, Value x);

} // namespace mlir::attn

#endif // ATTN_PASSES_CPU_VECTORLOOPS_H
