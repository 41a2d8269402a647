//===- FlashMergeCpu.cpp - merge the kv chunks of split-KV attention ------===//
//
// With kv_splits = n, chunk c of a query row wrote a partial output O_c
// (normalized over its keys) and its log-sum-exp L_c (-inf when the chunk
// saw no key). The row's attention over all keys is their softmax-weighted
// sum, in one scf.parallel over rows (flash-decoding's reduction):
//
//   M = max_c L_c;   w_c = exp(L_c - M);   W = Σ_c w_c
//   out = Σ_c (w_c / W) · O_c;   lse = M + log W
//
// A row no chunk saw (M = -inf) gets out = 0 and lse = -inf, as the unsplit
// loop gives. M is a NaN-propagating max, so a NaN in any chunk reaches the
// output. Vectors of `vector_width` along the value dim.
//
//===----------------------------------------------------------------------===//
#include "passes/cpu/FlashTileCpu.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

namespace mlir::attn {

/// `mem` as a 1-D memref.
static Value flatten(OpBuilder &b, Location loc, Value mem) {
  auto type = cast<MemRefType>(mem.getType());
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
  return memref::CollapseShapeOp::create(b, loc, mem,
                                         ArrayRef<ReassociationIndices>{all});
}

/// `for c in [0, n)` carrying `init`: `step(b, c, acc)` gives the next value.
static Value reduceChunks(OpBuilder &b, Location loc, int64_t n, Value init,
                          function_ref<Value(OpBuilder &, Value, Value)> step) {
  IndexMath m{b, loc};
  auto forOp = scf::ForOp::create(
      b, loc, m.c(0), m.c(n), m.c(1), ValueRange{init},
      [&](OpBuilder &nb, Location l, Value c, ValueRange acc) {
        scf::YieldOp::create(nb, l, step(nb, c, acc[0]));
      });
  return forOp.getResult(0);
}

void buildCpuSplitMerge(OpBuilder &b, SdpaOp op, const FlashBuffers &buffers) {
  Location loc = op.getLoc();
  AttentionShape s = op.getShape();
  ScheduleAttr schedule = op.getFlashSchedule();
  int64_t splits = schedule.getKvSplits(), vw = schedule.getVectorWidth();
  int64_t rows = s.batch * s.queryHeads * s.querySeq, dv = s.valueDim;
  Value partialOut = flatten(b, loc, buffers.partialOut);
  Value partialLse = flatten(b, loc, buffers.partialLse);
  Value out = flatten(b, loc, buffers.out);
  Value lse = buffers.lse ? flatten(b, loc, buffers.lse) : Value();
  Type f32 = b.getF32Type();
  auto vecType = VectorType::get({vw}, f32);
  Type outElement = cast<MemRefType>(out.getType()).getElementType();
  const float inf = std::numeric_limits<float>::infinity();

  parallelRows(b, loc, rows, splits * dv, [&](OpBuilder &rb, Value row) {
    IndexMath m{rb, loc};
    auto cst = [&](OpBuilder &nb, float v) -> Value {
      return arith::ConstantFloatOp::create(nb, loc, nb.getF32Type(),
                                            APFloat(v));
    };
    auto chunkLse = [&](OpBuilder &nb, Value c) -> Value {
      IndexMath n{nb, loc};
      return memref::LoadOp::create(nb, loc, partialLse,
                                    n.add(n.mul(c, rows), row));
    };
    Value max = reduceChunks(
        rb, loc, splits, cst(rb, -inf), [&](OpBuilder &nb, Value c, Value acc) {
          return arith::MaximumFOp::create(nb, loc, acc, chunkLse(nb, c));
        });
    Value empty = arith::CmpFOp::create(rb, loc, arith::CmpFPredicate::OEQ,
                                        max, cst(rb, -inf));
    Value safeMax = arith::SelectOp::create(rb, loc, empty, cst(rb, 0), max);
    auto weight = [&](OpBuilder &nb, Value c) -> Value {
      return math::ExpOp::create(
          nb, loc, arith::SubFOp::create(nb, loc, chunkLse(nb, c), safeMax));
    };
    Value total = reduceChunks(rb, loc, splits, cst(rb, 0),
                               [&](OpBuilder &nb, Value c, Value acc) {
                                 return arith::AddFOp::create(
                                     nb, loc, acc, weight(nb, c));
                               });
    Value inv = arith::SelectOp::create(
        rb, loc, empty, cst(rb, 0),
        arith::DivFOp::create(rb, loc, cst(rb, 1), total));
    forLoop(rb, loc, m.c(0), m.c(dv), vw, [&](OpBuilder &db, Value d) {
      Value sum = reduceChunks(
          db, loc, splits, splat(db, loc, vecType, 0),
          [&](OpBuilder &nb, Value c, Value acc) {
            IndexMath n{nb, loc};
            Value w = arith::MulFOp::create(nb, loc, weight(nb, c), inv);
            Value at = n.add(n.mul(n.add(n.mul(c, rows), row), dv), d);
            Value o = loadVector(nb, loc, vecType, partialOut, at);
            return vector::FMAOp::create(
                nb, loc, vector::BroadcastOp::create(nb, loc, vecType, w), o,
                acc);
          });
      if (!outElement.isF32())
        sum = arith::TruncFOp::create(
            db, loc, VectorType::get({vw}, outElement), sum);
      IndexMath n{db, loc};
      storeVector(db, loc, sum, out, n.add(n.mul(row, dv), d));
    });
    if (lse) {
      Value value = arith::AddFOp::create(rb, loc, safeMax,
                                          math::LogOp::create(rb, loc, total));
      value = arith::SelectOp::create(rb, loc, empty, cst(rb, -inf), value);
      memref::StoreOp::create(rb, loc, value, lse, row);
    }
  });
}

} // namespace mlir::attn
