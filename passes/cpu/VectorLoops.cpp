//===- VectorLoops.cpp - loop and vector helpers for block ops ------------===//
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::attn {

static Value flatten(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  SmallVector<ReassociationIndices> all(1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    all[0].push_back(i);
  return memref::CollapseShapeOp::create(b, loc, memref, all);
}

Value flatBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                                   /*read_only=*/true);
  return flatten(b, loc, buffer);
}

std::pair<Value, Value> allocResult(OpBuilder &b, Location loc,
                                    RankedTensorType type) {
  Value buffer = memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      ValueRange{}, b.getI64IntegerAttr(64));
  return {buffer, flatten(b, loc, buffer)};
}

Value resultTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   Value buffer) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

void parallelFor(OpBuilder &b, Location loc, int64_t n,
                 const std::function<void(OpBuilder &, Value)> &body) {
  IndexMath im{b, loc};
  scf::ParallelOp::create(b, loc, ValueRange{im.c(0)}, ValueRange{im.c(n)},
                          ValueRange{im.c(1)},
                          [&](OpBuilder &nb, Location, ValueRange ivs) {
                            body(nb, ivs[0]);
                          });
}

void forLoop(OpBuilder &b, Location loc, Value from, Value to, int64_t step,
             const std::function<void(OpBuilder &, Value)> &body) {
  scf::ForOp::create(b, loc, from, to, IndexMath{b, loc}.c(step), ValueRange{},
                     [&](OpBuilder &nb, Location, Value iv, ValueRange) {
                       body(nb, iv);
                       scf::YieldOp::create(nb, loc);
                     });
}

void forEachVector(
    OpBuilder &b, Location loc, Value begin, int64_t n, int64_t width,
    const std::function<void(OpBuilder &, Value, VectorType)> &body) {
  IndexMath im{b, loc};
  int64_t full = n / width * width;
  auto loop = [&](int64_t from, int64_t to, int64_t step) {
    if (from >= to)
      return;
    VectorType type = VectorType::get({step}, b.getF32Type());
    if (to - from == step) { // a single step: no loop
      body(b, im.add(begin, from), type);
      return;
    }
    forLoop(b, loc, im.c(from), im.c(to), step, [&](OpBuilder &nb, Value i) {
      body(nb, IndexMath{nb, loc}.add(begin, i), type);
    });
  };
  loop(0, full, width);
  loop(full, n, 1);
}

Value sumVectors(
    OpBuilder &b, Location loc, Value begin, int64_t n, int64_t width,
    const std::function<Value(OpBuilder &, Value, VectorType, Value)> &step) {
  IndexMath im{b, loc};
  int64_t full = n / width * width;
  Value total = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  auto loop = [&](int64_t from, int64_t to, int64_t w) {
    if (from >= to)
      return;
    VectorType type = VectorType::get({w}, b.getF32Type());
    Value zero = splat(b, loc, type, 0);
    auto forOp = scf::ForOp::create(
        b, loc, im.c(from), im.c(to), im.c(w), ValueRange{zero},
        [&](OpBuilder &nb, Location, Value i, ValueRange acc) {
          scf::YieldOp::create(
              nb, loc,
              step(nb, IndexMath{nb, loc}.add(begin, i), type, acc[0]));
        });
    Value lanes = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                              forOp.getResult(0));
    total = arith::AddFOp::create(b, loc, total, lanes);
  };
  loop(0, full, width);
  loop(full, n, 1);
  return total;
}

void parallelRows(OpBuilder &b, Location loc, int64_t rows, int64_t rowSize,
                  const std::function<void(OpBuilder &, Value)> &body) {
  // About 16 K elements per iteration: enough to hide the pool's per-chunk
  // cost, small enough to balance two or more threads.
  int64_t block = std::clamp<int64_t>(16384 / std::max<int64_t>(rowSize, 1), 1,
                                      rows);
  int64_t iterations = (rows + block - 1) / block;
  parallelFor(b, loc, iterations, [&](OpBuilder &nb, Value iteration) {
    IndexMath m{nb, loc};
    Value first = m.mul(iteration, block);
    forLoop(nb, loc, first, m.min(m.add(first, block), m.c(rows)), 1, body);
  });
}

Value loadVector(OpBuilder &b, Location loc, VectorType type, Value memref,
                 Value offset) {
  return vector::LoadOp::create(b, loc, type, memref, ValueRange{offset});
}

void storeVector(OpBuilder &b, Location loc, Value value, Value memref,
                 Value offset) {
  vector::StoreOp::create(b, loc, value, memref, ValueRange{offset});
}

/// The shuffles of a w × w transpose step: rows i and i + step (i & step ==
/// 0) become shuffle(x, y, lo) and shuffle(x, y, hi), each lane with bit
/// `step` clear keeping its own row's element and each lane with it set
/// taking the partner's.
static std::pair<SmallVector<int64_t>, SmallVector<int64_t>>
transposeMasks(int64_t width, int64_t step) {
  SmallVector<int64_t> lo, hi;
  for (int64_t lane = 0; lane < width; ++lane) {
    bool left = (lane & step) == 0;
    lo.push_back(left ? lane : width + lane - step);
    hi.push_back(left ? lane + step : width + lane);
  }
  return {lo, hi};
}

void transposeSquare(OpBuilder &b, Location loc,
                     SmallVectorImpl<Value> &rows) {
  // At each step s = w/2, w/4, ..., 1, rows i and i + s (i & s == 0) swap
  // their off-diagonal s × s sub-blocks, one shuffle each.
  const int64_t width = static_cast<int64_t>(rows.size());
  for (int64_t step = width / 2; step >= 1; step /= 2) {
    auto [lo, hi] = transposeMasks(width, step);
    for (int64_t i = 0; i < width; ++i) {
      if (i & step)
        continue;
      Value x = rows[i], y = rows[i + step];
      rows[i] = vector::ShuffleOp::create(b, loc, x, y, lo);
      rows[i + step] = vector::ShuffleOp::create(b, loc, x, y, hi);
    }
  }
}

Value sumEachVector(OpBuilder &b, Location loc, ArrayRef<Value> vectors) {
  // The transpose's steps with each pair's two shuffles added instead of
  // kept: after step s, the lanes with bit s clear hold sums of row i's
  // lanes and those with it set sums of row i + s's, so after the last step
  // lane l holds all of row l.
  const int64_t width = static_cast<int64_t>(vectors.size());
  SmallVector<Value> rows(vectors);
  for (int64_t step = width / 2; step >= 1; step /= 2) {
    auto [lo, hi] = transposeMasks(width, step);
    for (int64_t i = 0; i < step; ++i)
      rows[i] = arith::AddFOp::create(
          b, loc, vector::ShuffleOp::create(b, loc, rows[i], rows[i + step], lo),
          vector::ShuffleOp::create(b, loc, rows[i], rows[i + step], hi));
  }
  return rows[0];
}

Value splat(OpBuilder &b, Location loc, VectorType type, double value) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

Value buildActivation(OpBuilder &b, Location loc, Activation kind, Value x) {
  Type type = x.getType();
  auto cst = [&](double v) -> Value {
    if (auto vt = dyn_cast<VectorType>(type))
      return splat(b, loc, vt, v);
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  };
  auto mul = [&](Value p, Value q) { return arith::MulFOp::create(b, loc, p, q); };
  auto add = [&](Value p, Value q) { return arith::AddFOp::create(b, loc, p, q); };
  switch (kind) {
  case Activation::none:
    return x;
  case Activation::relu:
    return arith::MaximumFOp::create(b, loc, x, cst(0));
  case Activation::silu: {
    // x · σ(x) = x / (1 + e^-x)
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, x, add(cst(1), e));
  }
  case Activation::gelu: {
    Value erf = math::ErfOp::create(b, loc, mul(x, cst(M_SQRT1_2)));
    return mul(mul(x, cst(0.5)), add(cst(1), erf));
  }
  case Activation::gelu_tanh: {
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    Value x3 = mul(mul(x, x), x);
    Value inner = mul(cst(std::sqrt(2 / M_PI)), add(x, mul(cst(0.044715), x3)));
    Value t = math::TanhOp::create(b, loc, inner);
    return mul(mul(x, cst(0.5)), add(cst(1), t));
  }
  }
  llvm_unreachable("unknown activation");
}

} // namespace mlir::attn
