//===- FlashMergeCpu.cpp - merge the kv chunks of split-KV attention ------===//
//
// flash-decoding's reduction (passes/FlashMerge.h) on the CPU: one
// scf.parallel over query rows, each merging its chunks in vectors of
// `vector_width` along the value dim.
//
//===----------------------------------------------------------------------===//
#include "passes/FlashMerge.h"
#include "passes/cpu/FlashTileCpu.h"
#include "passes/cpu/VectorLoops.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {

void buildCpuSplitMerge(OpBuilder &b, SdpaOp op, const FlashBuffers &buffers) {
  Location loc = op.getLoc();
  AttentionShape s = op.getShape();
  ScheduleAttr schedule = op.getFlashSchedule();
  int64_t splits = schedule.getKvSplits(), vw = schedule.getVectorWidth();
  int64_t rows = s.batch * s.queryHeads * s.querySeq, dv = s.valueDim;
  Value partialOut = flattenBuffer(b, loc, buffers.partialOut);
  Value partialLse = flattenBuffer(b, loc, buffers.partialLse);
  Value out = flattenBuffer(b, loc, buffers.out);
  Value lse = buffers.lse ? flattenBuffer(b, loc, buffers.lse) : Value();
  auto vecType = VectorType::get({vw}, b.getF32Type());
  Type outElement = cast<MemRefType>(out.getType()).getElementType();

  parallelRows(b, loc, rows, splits * dv, [&](OpBuilder &rb, Value row) {
    IndexMath m{rb, loc};
    SplitMergeRow merge(rb, loc, partialLse, splits, rows, row);
    forLoop(rb, loc, m.c(0), m.c(dv), vw, [&](OpBuilder &db, Value d) {
      Value sum = reduceChunks(
          db, loc, splits, splat(db, loc, vecType, 0),
          [&](OpBuilder &nb, Value c, Value acc) {
            Value w = merge.weight(nb, c);
            Value o = loadVector(nb, loc, vecType, partialOut,
                                 merge.partialIndex(nb, c, dv, d));
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
    if (lse)
      memref::StoreOp::create(rb, loc, merge.lse(rb), lse, row);
  });
}

} // namespace mlir::attn
