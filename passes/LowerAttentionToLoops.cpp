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

static Value bufferOf(OpBuilder &b, Location loc, Value tensor) {
  if (!tensor)
    return {};
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                           /*read_only=*/true);
}

static Value allocResult(OpBuilder &b, Location loc, Value result) {
  if (!result)
    return {};
  auto type = cast<RankedTensorType>(result.getType());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      ValueRange{}, b.getI64IntegerAttr(64));
}

/// The input buffers both ops share.
template <typename OpT>
static FlashBuffers bufferInputs(OpBuilder &b, OpT op) {
  Location loc = op.getLoc();
  FlashBuffers buffers;
  buffers.query = bufferOf(b, loc, op.getQuery());
  buffers.key = bufferOf(b, loc, op.getKey());
  buffers.kvSegments = bufferOf(b, loc, op.getKvSegments());
  buffers.qSegments = bufferOf(b, loc, op.getQuerySegments());
  buffers.kvLengths = bufferOf(b, loc, op.getKvLengths());
  buffers.qLengths = bufferOf(b, loc, op.getQLengths());
  buffers.bias = bufferOf(b, loc, op.getBias());
  return buffers;
}

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

static void replaceWithBuffer(OpBuilder &b, Location loc, Value result,
                              Value buffer) {
  result.replaceAllUsesWith(bufferization::ToTensorOp::create(
      b, loc, result.getType(), buffer, /*restrict=*/true, /*writable=*/true));
}

/// Emits the loop nest of `op` at the builder's insertion point and replaces
/// the uses of its results.
static void lowerToLoops(OpBuilder &b, SdpaOp op) {
  Location loc = op.getLoc();
  FlashBuffers buffers = bufferInputs(b, op);
  buffers.value = bufferOf(b, loc, op.getValue());
  buffers.out = allocResult(b, loc, op.getResult());
  buffers.lse = allocResult(b, loc, op.getLse());
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
  replaceWithBuffer(b, loc, op.getResult(), buffers.out);
  if (op.getLse())
    replaceWithBuffer(b, loc, op.getLse(), buffers.lse);
}

/// The probabilities: one parallel iteration per (batch, query tile), which
/// runs the mapped heads in turn (so that an average accumulates without
/// races).
static void lowerToLoops(OpBuilder &b, SdpaProbsOp op) {
  Location loc = op.getLoc();
  FlashBuffers buffers = bufferInputs(b, op);
  buffers.lse = bufferOf(b, loc, op.getLse());
  buffers.out = allocResult(b, loc, op.getResult());
  SmallVector<int64_t> heads = op.getMappedHeads();
  FlashTiling tiling(op, buffers, heads);
  std::unique_ptr<FlashTileComputation> tile = createCpuProbsTile(
      op, buffers, tiling, op.isAverage(), static_cast<int64_t>(heads.size()));
  buildParallelLoop(b, loc, tiling, *tile);
  replaceWithBuffer(b, loc, op.getResult(), buffers.out);
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
