//===- BlockOpsCpu.cpp - CPU loops for transformer-block ops --------------===//
//
// Each lowering reads its operands as flat buffers, writes a new buffer in
// one scf.parallel over rows (the last dimension, or the unit that is
// copied), vectorized along the row with a scalar tail, and returns it as a
// tensor. RoPE's cos/sin values depend only on the op's attributes, so they
// are computed here, at compile time, into a constant table.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/BlockOpsCpu.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::attn {
namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// A row-wise op: result rows of `rowSize` elements, `rows` of them.
struct Rows {
  int64_t rows, rowSize;
  static Rows of(RankedTensorType type) {
    int64_t size = type.getRank() ? type.getShape().back() : 1;
    return {type.getNumElements() / size, size};
  }
};

Value lowerActivation(OpBuilder &b, ActivationOp op, int64_t width) {
  Location loc = op.getLoc();
  RankedTensorType type = op.getResult().getType();
  Value in = flatBuffer(b, loc, op.getInput());
  Value out, flat;
  std::tie(out, flat) = allocResult(b, loc, type);
  Rows r = Rows::of(type);
  Activation kind = op.getKind();
  parallelRows(b, loc, r.rows, r.rowSize, [&](OpBuilder &pb, Value row) {
    Value base = IndexMath{pb, loc}.mul(row, r.rowSize);
    forEachVector(pb, loc, base, r.rowSize, width,
                  [&](OpBuilder &vb, Value i, VectorType vt) {
                    Value x = loadVector(vb, loc, vt, in, i);
                    storeVector(vb, loc, buildActivation(vb, loc, kind, x),
                                flat, i);
                  });
  });
  return resultTensor(b, loc, type, out);
}

/// add/mul: `rhs` is broadcast onto `lhs` (each of its dims equals the
/// matching trailing dim of `lhs` or is 1).
template <typename ArithOp>
Value lowerBinary(OpBuilder &b, Operation *op, int64_t width) {
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(op->getResult(0));
  RankedTensorType rhsType = tensorType(op->getOperand(1));
  Value lhs = flatBuffer(b, loc, op->getOperand(0));
  Value rhs = flatBuffer(b, loc, op->getOperand(1));
  Value out, flat;
  std::tie(out, flat) = allocResult(b, loc, type);
  Rows r = Rows::of(type);
  ArrayRef<int64_t> shape = type.getShape();
  // Right-aligned rhs dims, 1 where rhs has no such dim; strides of rhs.
  int64_t rank = type.getRank(), extra = rank - rhsType.getRank();
  SmallVector<int64_t> rhsDims(rank, 1), rhsStrides(rank, 0);
  for (int64_t i = 0; i < rhsType.getRank(); ++i)
    rhsDims[extra + i] = rhsType.getShape()[i];
  for (int64_t i = rank - 1, stride = 1; i >= 0; --i) {
    rhsStrides[i] = rhsDims[i] == 1 ? 0 : stride;
    stride *= rhsDims[i];
  }
  bool rowBroadcast = rank == 0 || rhsDims.back() == 1;
  parallelRows(b, loc, r.rows, r.rowSize, [&](OpBuilder &pb, Value row) {
    IndexMath im{pb, loc};
    // The rhs row of this lhs row: its leading indices, broadcast dims at 0.
    Value rhsBase = im.c(0), rest = row;
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (rhsStrides[d] != 0)
        rhsBase = im.add(rhsBase, im.mul(im.rem(rest, shape[d]), rhsStrides[d]));
      rest = im.div(rest, shape[d]);
    }
    Value base = im.mul(row, r.rowSize);
    Value scalar;
    if (rowBroadcast)
      scalar = memref::LoadOp::create(pb, loc, rhs, ValueRange{rhsBase});
    forEachVector(pb, loc, im.c(0), r.rowSize, width,
                  [&](OpBuilder &vb, Value i, VectorType vt) {
                    IndexMath vm{vb, loc};
                    Value x = loadVector(vb, loc, vt, lhs, vm.add(base, i));
                    Value y = rowBroadcast
                                  ? vector::BroadcastOp::create(vb, loc, vt,
                                                                scalar)
                                  : loadVector(vb, loc, vt, rhs,
                                               vm.add(rhsBase, i));
                    storeVector(vb, loc, ArithOp::create(vb, loc, x, y), flat,
                                vm.add(base, i));
                  });
  });
  return resultTensor(b, loc, type, out);
}

/// RMS norm (`bias` null) or layer norm, over rows of the last dimension.
Value lowerNorm(OpBuilder &b, Operation *op, Value input, Value weight,
                Value bias, float epsilon, int64_t width) {
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(op->getResult(0));
  Value in = flatBuffer(b, loc, input);
  Value w = flatBuffer(b, loc, weight);
  Value bb = bias ? flatBuffer(b, loc, bias) : Value();
  Value out, flat;
  std::tie(out, flat) = allocResult(b, loc, type);
  Rows r = Rows::of(type);
  parallelRows(b, loc, r.rows, r.rowSize, [&](OpBuilder &pb, Value row) {
    IndexMath im{pb, loc};
    Value base = im.mul(row, r.rowSize);
    Value n = arith::ConstantOp::create(
        pb, loc, pb.getF32FloatAttr(static_cast<float>(r.rowSize)));
    Value mean;
    if (bias) {
      Value sum = sumVectors(pb, loc, base, r.rowSize, width,
                             [&](OpBuilder &vb, Value i, VectorType vt,
                                 Value acc) -> Value {
                               return arith::AddFOp::create(
                                   vb, loc, acc, loadVector(vb, loc, vt, in, i));
                             });
      mean = arith::DivFOp::create(pb, loc, sum, n);
    }
    // Σ (x - mean)² (layer norm) or Σ x² (RMS norm).
    Value squares = sumVectors(
        pb, loc, base, r.rowSize, width,
        [&](OpBuilder &vb, Value i, VectorType vt, Value acc) -> Value {
          Value x = loadVector(vb, loc, vt, in, i);
          if (mean)
            x = arith::SubFOp::create(
                vb, loc, x, vector::BroadcastOp::create(vb, loc, vt, mean));
          return math::FmaOp::create(vb, loc, x, x, acc);
        });
    Value eps = arith::ConstantOp::create(pb, loc, pb.getF32FloatAttr(epsilon));
    Value var = arith::AddFOp::create(
        pb, loc, arith::DivFOp::create(pb, loc, squares, n), eps);
    Value one = arith::ConstantOp::create(pb, loc, pb.getF32FloatAttr(1));
    Value inv = arith::DivFOp::create(pb, loc, one,
                                      math::SqrtOp::create(pb, loc, var));
    forEachVector(pb, loc, im.c(0), r.rowSize, width,
                  [&](OpBuilder &vb, Value i, VectorType vt) {
                    IndexMath vm{vb, loc};
                    Value x = loadVector(vb, loc, vt, in, vm.add(base, i));
                    if (mean)
                      x = arith::SubFOp::create(
                          vb, loc, x,
                          vector::BroadcastOp::create(vb, loc, vt, mean));
                    x = arith::MulFOp::create(
                        vb, loc, x, vector::BroadcastOp::create(vb, loc, vt, inv));
                    x = arith::MulFOp::create(vb, loc, x,
                                              loadVector(vb, loc, vt, w, i));
                    if (bias)
                      x = arith::AddFOp::create(vb, loc, x,
                                                loadVector(vb, loc, vt, bb, i));
                    storeVector(vb, loc, x, flat, vm.add(base, i));
                  });
  });
  return resultTensor(b, loc, type, out);
}

/// The constant [2, S, D/2] table of cos and sin for `op`, shared by every
/// rope op with the same parameters.
Value getRopeTable(OpBuilder &b, RopeOp op, ModuleOp module) {
  ArrayRef<int64_t> shape = op.getInput().getType().getShape();
  int64_t seq = shape[2], half = shape[3] / 2;
  SmallVector<float> inv = op.getInverseFrequencies();
  SmallVector<float> table(2 * seq * half);
  uint64_t hash = llvm::hash_combine(seq, half, op.getOffset());
  for (int64_t s = 0; s < seq; ++s) {
    // Hugging Face: the angle is an f32 product, cos and sin of it in f32.
    float position = static_cast<float>(op.getOffset() + s);
    for (int64_t j = 0; j < half; ++j) {
      float angle = position * inv[j];
      table[s * half + j] = static_cast<float>(std::cos(double(angle)));
      table[(seq + s) * half + j] = static_cast<float>(std::sin(double(angle)));
    }
  }
  for (float f : inv)
    hash = llvm::hash_combine(hash, llvm::bit_cast<uint32_t>(f));
  std::string name = "attn_rope_" + llvm::utohexstr(hash);
  auto type = MemRefType::get({2, seq, half}, b.getF32Type());
  if (!module.lookupSymbol(name)) {
    OpBuilder mb(module.getBodyRegion());
    auto values = DenseElementsAttr::get(
        RankedTensorType::get(type.getShape(), b.getF32Type()),
        ArrayRef<float>(table));
    memref::GlobalOp::create(mb, op.getLoc(), name, mb.getStringAttr("private"),
                             type, values, /*constant=*/true,
                             mb.getI64IntegerAttr(64));
  }
  Value global = memref::GetGlobalOp::create(b, op.getLoc(), type, name);
  return memref::CollapseShapeOp::create(
      b, op.getLoc(), global, SmallVector<ReassociationIndices>{{0, 1, 2}});
}

Value lowerRope(OpBuilder &b, RopeOp op, const BlockLoweringContext &ctx) {
  Location loc = op.getLoc();
  RankedTensorType type = op.getResult().getType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t seq = shape[2], dim = shape[3], half = dim / 2;
  Value table = getRopeTable(b, op, ctx.module);
  Value in = flatBuffer(b, loc, op.getInput());
  Value out, flat;
  std::tie(out, flat) = allocResult(b, loc, type);
  parallelRows(b, loc, type.getNumElements() / dim, dim,
               [&](OpBuilder &pb, Value row) {
    IndexMath im{pb, loc};
    Value base = im.mul(row, dim);
    Value cosBase = im.mul(im.rem(row, seq), half);
    forEachVector(pb, loc, im.c(0), half, ctx.vectorWidth,
                  [&](OpBuilder &vb, Value j, VectorType vt) {
      IndexMath vm{vb, loc};
      Value lo = vm.add(base, j), hi = vm.add(lo, half);
      Value x1 = loadVector(vb, loc, vt, in, lo);
      Value x2 = loadVector(vb, loc, vt, in, hi);
      Value c = loadVector(vb, loc, vt, table, vm.add(cosBase, j));
      Value s = loadVector(vb, loc, vt, table,
                           vm.add(vm.add(cosBase, j), seq * half));
      auto mul = [&](Value p, Value q) {
        return arith::MulFOp::create(vb, loc, p, q);
      };
      storeVector(vb, loc,
                  arith::SubFOp::create(vb, loc, mul(x1, c), mul(x2, s)), flat,
                  lo);
      storeVector(vb, loc,
                  arith::AddFOp::create(vb, loc, mul(x2, c), mul(x1, s)), flat,
                  hi);
    });
  });
  return resultTensor(b, loc, type, out);
}

/// A copy of `units` runs of `size` elements: run `u` goes from
/// `srcOffset(u)` to `dstOffset(u)`.
Value lowerCopy(OpBuilder &b, Operation *op, Value source, int64_t units,
                int64_t size, int64_t width,
                const std::function<Value(IndexMath &, Value)> &srcOffset,
                const std::function<Value(IndexMath &, Value)> &dstOffset) {
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(op->getResult(0));
  Value in = flatBuffer(b, loc, source);
  Value out, flat;
  std::tie(out, flat) = allocResult(b, loc, type);
  parallelRows(b, loc, units, size, [&](OpBuilder &pb, Value unit) {
    IndexMath im{pb, loc};
    Value src = srcOffset(im, unit), dst = dstOffset(im, unit);
    forEachVector(pb, loc, im.c(0), size, width,
                  [&](OpBuilder &vb, Value i, VectorType vt) {
                    IndexMath vm{vb, loc};
                    storeVector(vb, loc,
                                loadVector(vb, loc, vt, in, vm.add(src, i)),
                                flat, vm.add(dst, i));
                  });
  });
  return resultTensor(b, loc, type, out);
}

/// Where row `u` of a `[B, H, S, D]` tensor (u = (b·H + h)·S + s) starts in
/// its `[B, S, H·D]` form.
Value mergedRowOffset(IndexMath &im, Value u, int64_t heads, int64_t seq,
                      int64_t dim) {
  Value s = im.rem(u, seq), h = im.rem(im.div(u, seq), heads);
  Value bt = im.div(u, seq * heads);
  return im.add(im.mul(im.add(im.mul(bt, seq), s), heads * dim),
                im.mul(h, dim));
}

Value lowerEmbedding(OpBuilder &b, EmbeddingOp op, int64_t width) {
  Location loc = op.getLoc();
  ArrayRef<int64_t> table = op.getTable().getType().getShape();
  int64_t vocab = table[0], hidden = table[1];
  Value ids = flatBuffer(b, loc, op.getIds());
  return lowerCopy(
      b, op, op.getTable(), op.getIds().getType().getNumElements(), hidden,
      width,
      [&](IndexMath &im, Value token) {
        // `run` rejects ids outside [0, V); the clamp keeps loads in bounds
        // even when the checks are bypassed.
        Value id = memref::LoadOp::create(im.b, loc, ids, ValueRange{token});
        unsigned bits = id.getType().getIntOrFloatBitWidth();
        Value zero = arith::ConstantIntOp::create(im.b, loc, 0, bits);
        Value last = arith::ConstantIntOp::create(im.b, loc, vocab - 1, bits);
        id = arith::MinSIOp::create(im.b, loc,
                                    arith::MaxSIOp::create(im.b, loc, id, zero),
                                    last);
        Value index =
            arith::IndexCastOp::create(im.b, loc, im.b.getIndexType(), id);
        return im.mul(index, hidden);
      },
      [&](IndexMath &im, Value token) { return im.mul(token, hidden); });
}

} // namespace

Value lowerBlockOpToLoops(OpBuilder &b, Operation *op,
                          const BlockLoweringContext &ctx) {
  int64_t width = ctx.vectorWidth;
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ActivationOp op) { return lowerActivation(b, op, width); })
      .Case([&](AddOp op) { return lowerBinary<arith::AddFOp>(b, op, width); })
      .Case([&](MulOp op) { return lowerBinary<arith::MulFOp>(b, op, width); })
      .Case([&](RmsNormOp op) {
        return lowerNorm(b, op, op.getInput(), op.getWeight(), Value(),
                         op.getEpsilon().convertToFloat(), width);
      })
      .Case([&](LayerNormOp op) {
        return lowerNorm(b, op, op.getInput(), op.getWeight(), op.getBias(),
                         op.getEpsilon().convertToFloat(), width);
      })
      .Case([&](RopeOp op) { return lowerRope(b, op, ctx); })
      .Case([&](SplitHeadsOp op) {
        // in [B, S, H·D] -> out [B, H, S, D]; one unit = one (b, h, s) row.
        ArrayRef<int64_t> r = op.getResult().getType().getShape();
        int64_t heads = r[1], seq = r[2], dim = r[3];
        return lowerCopy(
            b, op, op.getInput(), r[0] * heads * seq, dim, width,
            [=](IndexMath &im, Value u) {
              return mergedRowOffset(im, u, heads, seq, dim);
            },
            [=](IndexMath &im, Value u) { return im.mul(u, dim); });
      })
      .Case([&](MergeHeadsOp op) {
        ArrayRef<int64_t> x = op.getInput().getType().getShape();
        int64_t heads = x[1], seq = x[2], dim = x[3];
        return lowerCopy(
            b, op, op.getInput(), x[0] * heads * seq, dim, width,
            [=](IndexMath &im, Value u) { return im.mul(u, dim); },
            [=](IndexMath &im, Value u) {
              return mergedRowOffset(im, u, heads, seq, dim);
            });
      })
      .Case([&](ChunkOp op) {
        int64_t n = op.getInput().getType().getShape().back();
        int64_t part = n / static_cast<int64_t>(op.getParts());
        int64_t first = part * static_cast<int64_t>(op.getIndex());
        return lowerCopy(
            b, op, op.getInput(), op.getInput().getType().getNumElements() / n,
            part, width,
            [=](IndexMath &im, Value u) { return im.add(im.mul(u, n), first); },
            [=](IndexMath &im, Value u) { return im.mul(u, part); });
      })
      .Case([&](EmbeddingOp op) { return lowerEmbedding(b, op, width); })
      .Case([&](RowsOp op) {
        ArrayRef<int64_t> r = op.getResult().getType().getShape();
        int64_t first = static_cast<int64_t>(op.getOffset()) * r[1];
        return lowerCopy(
            b, op, op.getTable(), r[0], r[1], width,
            [=](IndexMath &im, Value u) {
              return im.add(im.mul(u, r[1]), first);
            },
            [=](IndexMath &im, Value u) { return im.mul(u, r[1]); });
      })
      .Default([](Operation *) { return Value(); });
}

} // namespace mlir::attn
