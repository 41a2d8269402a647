//===- LowerAttentionToLoops.cpp - attn.sdpa to flash loops ---------------===//
//
// Input: attn.sdpa ops on static tensors, each carrying #attn.schedule.
// Output: per op, one scf.parallel over (batch, query head, query tile) on
// buffers, whose body is FlashTiling's tile iteration (which kv tiles run,
// full or boundary) around the CPU tile computation (passes/cpu/). Nothing
// of size Sq × Skv exists at any stage. See passes/README.md.
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

/// Emits the loop nest of `op` at the builder's insertion point and replaces
/// the uses of its results.
static void lowerToLoops(OpBuilder &b, SdpaOp op) {
  Location loc = op.getLoc();
  auto bufferOf = [&](Value tensor) -> Value {
    if (!tensor)
      return {};
    auto type = cast<RankedTensorType>(tensor.getType());
    auto memType = MemRefType::get(type.getShape(), type.getElementType());
    return bufferization::ToBufferOp::create(b, loc, memType, tensor,
                                             /*read_only=*/true);
  };
  FlashBuffers buffers;
  buffers.query = bufferOf(op.getQuery());
  buffers.key = bufferOf(op.getKey());
  buffers.value = bufferOf(op.getValue());
  buffers.kvSegments = bufferOf(op.getKvSegments());
  buffers.qSegments = bufferOf(op.getQuerySegments());
  buffers.kvLengths = bufferOf(op.getKvLengths());
  buffers.qLengths = bufferOf(op.getQLengths());
  buffers.bias = bufferOf(op.getBias());
  auto allocResult = [&](Value result) -> Value {
    if (!result)
      return {};
    auto type = cast<RankedTensorType>(result.getType());
    return memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()),
        ValueRange{}, b.getI64IntegerAttr(64));
  };
  buffers.out = allocResult(op.getResult());
  buffers.lse = allocResult(op.getLse());

  FlashTiling tiling(op, buffers);
  std::unique_ptr<FlashTileComputation> tile =
      createCpuFlashTile(op, buffers, tiling);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value iterations =
      arith::ConstantIndexOp::create(b, loc, tiling.getNumIterations());
  scf::ParallelOp::create(
      b, loc, ValueRange{zero}, ValueRange{iterations}, ValueRange{one},
      [&](OpBuilder &nested, Location, ValueRange ivs) {
        tiling.buildIteration(nested, ivs[0], *tile);
      });
  auto toTensor = [&](Value result, Value buffer) {
    result.replaceAllUsesWith(bufferization::ToTensorOp::create(
        b, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  };
  toTensor(op.getResult(), buffers.out);
  if (op.getLse())
    toTensor(op.getLse(), buffers.lse);
}

void LowerAttentionToLoopsPass::runOnOperation() {
  WalkResult walk = getOperation().walk([&](SdpaOp op) {
    if (!op.getScheduleAttr()) {
      op.emitOpError("has no #attn.schedule; run --attn-select-schedule "
                     "first");
      return WalkResult::interrupt();
    }
    OpBuilder b(op);
    lowerToLoops(b, op);
    op.erase();
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    signalPassFailure();
}

} // namespace mlir::attn
