//===- LowerAttentionToLoops.cpp - attn.sdpa to flash loops ---------------===//
//
// Input: attn.sdpa ops on static tensors, each carrying #attn.schedule.
// Output: per op, one scf.parallel over (batch, query head or head group,
// query tile, kv chunk) on buffers, whose body is FlashTiling's tile
// iteration (which kv tiles run, full or boundary) around the CPU tile
// computation (passes/cpu/); with kv_splits > 1, a second scf.parallel
// merges the chunks. Nothing of size Sq × Skv exists at any stage. See
// passes/README.md.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/FlashTiling.h"
#include "passes/Passes.h"
#include "passes/cpu/FlashTileCpu.h"

#define DEBUG_TYPE "attn-lower-attention-to-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_LOWERATTENTIONTOLOOPSPASS
#include "passes/Passes.h.inc"

namespace {
struct LowerAttentionToLoopsPass final
    : impl::LowerAttentionToLoopsPassBase<LowerAttentionToLoopsPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// One scf.parallel over the tiling's iterations, each asking `tile`.
static void buildParallelLoop(OpBuilder &b, Location loc, FlashTiling &tiling,
                              FlashTileComputation &tile) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value iterations =
      arith::ConstantIndexOp::create(b, loc, tiling.getNumIterations());
  scf::ParallelOp::create(
      b, loc, ValueRange{zero}, ValueRange{iterations}, ValueRange{one},
      [&](OpBuilder &nested, Location, ValueRange ivs) {
        tiling.buildIteration(nested, ivs[0], tile);
      });
}

/// Emits the loop nest of `op` at the builder's insertion point and replaces
/// the uses of its results.
static void lowerToLoops(OpBuilder &b, SdpaOp op) {
  Location loc = op.getLoc();
  FlashBuffers buffers = bufferSdpa(b, op);
  AttentionShape s = op.getShape();
  int64_t splits = op.getScheduleAttr().getKvSplits();
  if (splits > 1) {
    // Split-KV: the chunks write partial outputs and lse, merged after.
    auto alloc = [&](ArrayRef<int64_t> shape) {
      return memref::AllocOp::create(
          b, loc, MemRefType::get(shape, b.getF32Type()), ValueRange{},
          b.getI64IntegerAttr(64));
    };
    buffers.partialOut =
        alloc({splits, s.batch, s.queryHeads, s.querySeq, s.valueDim});
    buffers.partialLse = alloc({splits, s.batch, s.queryHeads, s.querySeq});
  }
  FlashTiling tiling(op, buffers);
  std::unique_ptr<FlashTileComputation> tile =
      createCpuFlashTile(op, buffers, tiling);
  buildParallelLoop(b, loc, tiling, *tile);
  if (splits > 1)
    buildCpuSplitMerge(b, op, buffers);
  replaceResultWithBuffer(b, loc, op.getResult(), buffers.out);
  if (op.getLse())
    replaceResultWithBuffer(b, loc, op.getLse(), buffers.lse);
}

/// The probabilities: one parallel iteration per (batch, query tile), which
/// runs the mapped heads in turn (so that an average accumulates without
/// races).
static void lowerToLoops(OpBuilder &b, SdpaProbsOp op) {
  Location loc = op.getLoc();
  FlashBuffers buffers = bufferAttentionInputs(b, op);
  buffers.lse = bufferOfTensor(b, loc, op.getLse());
  buffers.out = allocResultBuffer(b, loc, op.getResult());
  SmallVector<int64_t> heads = op.getMappedHeads();
  FlashTiling tiling(op, buffers, heads);
  std::unique_ptr<FlashTileComputation> tile = createCpuProbsTile(
      op, buffers, tiling, op.isAverage(), static_cast<int64_t>(heads.size()));
  buildParallelLoop(b, loc, tiling, *tile);
  replaceResultWithBuffer(b, loc, op.getResult(), buffers.out);
}

void LowerAttentionToLoopsPass::runOnOperation() {
  WalkResult walk = getOperation().walk([&](Operation *raw) {
    auto op = dyn_cast<AttentionOpInterface>(raw);
    if (!op)
      return WalkResult::advance();
    if (!op.getFlashSchedule()) {
      op->emitOpError("has no #attn.schedule; run --attn-select-schedule "
                      "first");
      return WalkResult::interrupt();
    }
    OpBuilder b(op);
    if (auto sdpa = dyn_cast<SdpaOp>(raw))
      lowerToLoops(b, sdpa);
    else
      lowerToLoops(b, cast<SdpaProbsOp>(raw));
    op->erase();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace mlir::attn
