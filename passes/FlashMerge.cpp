//===- FlashMerge.cpp - merge the kv chunks of split-KV attention ---------===//
//
// See FlashMerge.h.
//
//===----------------------------------------------------------------------===//
#include "passes/FlashMerge.h"

#include "dialect/MaskTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace mlir::attn {

Value flattenBuffer(OpBuilder &b, Location loc, Value mem) {
  auto type = cast<MemRefType>(mem.getType());
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
  return memref::CollapseShapeOp::create(b, loc, mem,
                                         ArrayRef<ReassociationIndices>{all});
}

Value reduceChunks(OpBuilder &b, Location loc, int64_t n, Value init,
                   function_ref<Value(OpBuilder &, Value, Value)> step) {
  IRArith a{b, loc};
  auto forOp = scf::ForOp::create(
      b, loc, a.c(0), a.c(n), a.c(1), ValueRange{init},
      [&](OpBuilder &nb, Location l, Value c, ValueRange acc) {
        scf::YieldOp::create(nb, l, step(nb, c, acc[0]));
      });
  return forOp.getResult(0);
}

SplitMergeRow::SplitMergeRow(OpBuilder &b, Location loc, Value partialLse,
                             int64_t splits, int64_t rows, Value row)
    : loc(loc), partialLse(partialLse), row(row), rows(rows) {
  const float inf = std::numeric_limits<float>::infinity();
  Value max = reduceChunks(b, loc, splits, constant(b, -inf),
                           [&](OpBuilder &nb, Value c, Value acc) {
                             return arith::MaximumFOp::create(
                                 nb, loc, acc, chunkLse(nb, c));
                           });
  empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, max,
                                constant(b, -inf));
  safeMax = arith::SelectOp::create(b, loc, empty, constant(b, 0), max);
  total = reduceChunks(
      b, loc, splits, constant(b, 0), [&](OpBuilder &nb, Value c, Value acc) {
        Value w = math::ExpOp::create(
            nb, loc, arith::SubFOp::create(nb, loc, chunkLse(nb, c), safeMax));
        return arith::AddFOp::create(nb, loc, acc, w);
      });
  inverse = arith::SelectOp::create(
      b, loc, empty, constant(b, 0),
      arith::DivFOp::create(b, loc, constant(b, 1), total));
}

Value SplitMergeRow::constant(OpBuilder &b, float v) const {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v));
}

Value SplitMergeRow::chunkRow(OpBuilder &b, Value c) const {
  IRArith a{b, loc};
  return a.add(a.mul(c, a.c(rows)), row);
}

Value SplitMergeRow::chunkLse(OpBuilder &b, Value c) const {
  return memref::LoadOp::create(b, loc, partialLse, chunkRow(b, c));
}

Value SplitMergeRow::weight(OpBuilder &b, Value c) const {
  Value w = math::ExpOp::create(
      b, loc, arith::SubFOp::create(b, loc, chunkLse(b, c), safeMax));
  return arith::MulFOp::create(b, loc, w, inverse);
}

Value SplitMergeRow::lse(OpBuilder &b) const {
  Value value = arith::AddFOp::create(b, loc, safeMax,
                                      math::LogOp::create(b, loc, total));
  return arith::SelectOp::create(
      b, loc, empty, constant(b, -std::numeric_limits<float>::infinity()),
      value);
}

Value SplitMergeRow::partialIndex(OpBuilder &b, Value c, int64_t dv,
                                  Value d) const {
  IRArith a{b, loc};
  return a.add(a.mul(chunkRow(b, c), a.c(dv)), d);
}

} // namespace mlir::attn
