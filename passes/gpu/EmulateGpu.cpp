//===- EmulateGpu.cpp - GPU kernels run by CPU threads, for testing -------===//
//
// Tests the GPU lowering's numerics on machines without a GPU: the host
// code of attn-lower-attention-to-gpu becomes plain host memory operations,
// and each gpu.launch becomes one cooperative scf.parallel over the block's
// threads (a fiber each, attnrt_cooperative_for), every thread walking
// the blocks in turn:
//
//   gpu.alloc / memcpy / dealloc / wait   ->  memref.alloc / copy / dealloc / -
//   gpu.launch blocks(B) threads(T)       ->  shared = alloc(dynamic bytes)
//                                             scf.parallel t < T {attn.cooperative}
//                                               private attributions: allocas
//                                               scf.for b < B { body; barrier }
//   gpu.barrier                           ->  call @attnrt_cooperative_barrier
//   gpu.dynamic_shared_memory             ->  shared
//
// The warp collectives of the tensor-core kernel exchange values through a
// host buffer of every thread's operands (two slots, used in turn, so one
// barrier per collective suffices: a thread writes a slot again only after
// all have passed the next collective's barrier):
//
//   gpu.shuffle xor                       ->  the partner lane's value
//   nvgpu.ldmatrix (x1/x2/x4, .trans)     ->  what PTX says lane l gets of
//                                             the rows other lanes address
//   nvgpu.mma.sync m16n8k16               ->  its 4 outputs from the warp's
//                                             A and B fragments, f32 sums
//   nvgpu.device_async_copy               ->  a synchronous copy (groups and
//                                             waits vanish)
//
// The kernel body is the same IR the GPU compiles (the same FlashTiling and
// GpuFlashTile), with the same barriers between its threads; only the math
// functions are the CPU's. Memory spaces are dropped.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::attn {
#define GEN_PASS_DEF_EMULATEGPUPASS
#include "passes/Passes.h.inc"

namespace {
struct EmulateGpuPass final : impl::EmulateGpuPassBase<EmulateGpuPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// `type` without its memory space.
static Type hostType(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.getMemorySpace())
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

static bool isConstant(Value v, int64_t expected) {
  auto c = v.getDefiningOp<arith::ConstantIndexOp>();
  return c && c.value() == expected;
}

namespace {
/// Rewrites the warp collectives of one emulated launch body.
class CollectiveEmulator {
public:
  CollectiveEmulator(OpBuilder &b, Location loc, Value threads,
                     func::FuncOp barrier)
      : b(b), loc(loc), barrier(barrier) {
    auto dynamic = [&](int64_t inner, Type element) {
      return memref::AllocaOp::create(
          b, loc,
          MemRefType::get({2, ShapedType::kDynamic, inner}, element),
          ValueRange{threads});
    };
    // Allocated before the threads start, so shared by them.
    values = dynamic(kValueSlots, b.getF32Type());
    addresses = dynamic(kAddressSlots, b.getIndexType());
  }
  /// At the start of each thread's body.
  void beginThread(Value threadId) {
    thread = threadId;
    counter = memref::AllocaOp::create(b, loc,
                                       MemRefType::get({1}, b.getIndexType()));
    memref::StoreOp::create(b, loc, c(0), counter, c(0));
  }
  LogicalResult rewrite(Operation *op);

private:
  static constexpr int64_t kValueSlots = 12, kAddressSlots = 4;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value addc(Value x, int64_t v) { return v ? add(x, c(v)) : x; }
  Value mulc(Value x, int64_t v) {
    return arith::MulIOp::create(b, loc, x, c(v));
  }
  Value divc(Value x, int64_t v) {
    return arith::DivUIOp::create(b, loc, x, c(v));
  }
  Value remc(Value x, int64_t v) {
    return arith::RemUIOp::create(b, loc, x, c(v));
  }
  Value lane() { return remc(thread, 32); }
  Value warpBase() { return arith::SubIOp::create(b, loc, thread, lane()); }
  /// The exchange slot of the next collective (0, 1, 0, ...).
  Value nextSlot() {
    Value n = memref::LoadOp::create(b, loc, counter, c(0));
    memref::StoreOp::create(b, loc, addc(n, 1), counter, c(0));
    return remc(n, 2);
  }
  void sync() { func::CallOp::create(b, loc, barrier, ValueRange{}); }
  Value widen(Value x) {
    return x.getType().isF32() ? x
                               : arith::ExtFOp::create(b, loc, b.getF32Type(), x)
                                     .getResult();
  }
  Value element(Value vec, int64_t i, int64_t j) {
    return vector::ExtractOp::create(b, loc, vec, ArrayRef<int64_t>{i, j});
  }

  OpBuilder &b;
  Location loc;
  Value thread;
  func::FuncOp barrier;
  Value values, addresses, counter;
};
} // namespace

LogicalResult CollectiveEmulator::rewrite(Operation *op) {
  b.setInsertionPoint(op);
  if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
    if (shuffle.getMode() != gpu::ShuffleMode::XOR ||
        !shuffle.getValue().getType().isF32())
      return op->emitOpError("cannot be emulated: only f32 xor shuffles");
    Value slot = nextSlot();
    memref::StoreOp::create(b, loc, shuffle.getValue(), values,
                            ValueRange{slot, thread, c(0)});
    sync();
    Value offset = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                              shuffle.getOffset());
    Value partner = arith::XOrIOp::create(b, loc, thread, offset);
    shuffle.getShuffleResult().replaceAllUsesWith(memref::LoadOp::create(
        b, loc, values, ValueRange{slot, partner, c(0)}));
    shuffle.getValid().replaceAllUsesWith(
        arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
    op->erase();
    return success();
  }
  if (auto ld = dyn_cast<nvgpu::LdMatrixOp>(op)) {
    // Lane l addresses row l % 8 of matrix l / 8; of matrix m, lane l gets
    // row l / 4, columns 2 (l % 4) + {0, 1} (transposed: column l / 4 of
    // rows 2 (l % 4) + {0, 1}).
    SmallVector<Value> indices(ld.getIndices());
    if (indices.size() > kAddressSlots)
      return op->emitOpError("cannot be emulated: memref rank above 4");
    Value slot = nextSlot();
    for (auto [d, index] : llvm::enumerate(indices))
      memref::StoreOp::create(b, loc, index, addresses,
                              ValueRange{slot, thread, c(d)});
    sync();
    auto type = cast<VectorType>(ld.getRes().getType());
    Value result = arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
    Value l = lane(), base = warpBase();
    for (int64_t m = 0; m < ld.getNumTiles(); ++m)
      for (int64_t h = 0; h < 2; ++h) {
        Value source, offset;
        if (ld.getTranspose()) {
          source = addc(add(base, mulc(remc(l, 4), 2)), 8 * m + h);
          offset = divc(l, 4);
        } else {
          source = addc(add(base, divc(l, 4)), 8 * m);
          offset = addc(mulc(remc(l, 4), 2), h);
        }
        SmallVector<Value> at;
        for (size_t d = 0; d < indices.size(); ++d)
          at.push_back(memref::LoadOp::create(b, loc, addresses,
                                              ValueRange{slot, source, c(d)}));
        at.back() = add(at.back(), offset);
        Value x = memref::LoadOp::create(b, loc, ld.getSrcMemref(), at);
        result = vector::InsertOp::create(b, loc, x, result,
                                          ArrayRef<int64_t>{m, h});
      }
    ld.getRes().replaceAllUsesWith(result);
    op->erase();
    return success();
  }
  if (auto mma = dyn_cast<nvgpu::MmaSyncOp>(op)) {
    auto aType = cast<VectorType>(mma.getMatrixA().getType());
    if (mma.getMmaShapeAsArray() != std::array<int64_t, 3>{16, 8, 16} ||
        aType.getShape() != ArrayRef<int64_t>{4, 2} ||
        !getElementTypeOrSelf(mma.getMatrixC().getType()).isF32())
      return op->emitOpError(
          "cannot be emulated: only m16n8k16 with f32 accumulators");
    // Slots 0-7: A[r][h] at 2r + h; 8-11: B[r][h] at 8 + 2r + h.
    Value slot = nextSlot();
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t h = 0; h < 2; ++h)
        memref::StoreOp::create(b, loc, widen(element(mma.getMatrixA(), r, h)),
                                values, ValueRange{slot, thread, c(2 * r + h)});
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t h = 0; h < 2; ++h)
        memref::StoreOp::create(
            b, loc, widen(element(mma.getMatrixB(), r, h)), values,
            ValueRange{slot, thread, c(8 + 2 * r + h)});
    sync();
    // D[g + 8i][2q + h] = C + sum over k of A[g + 8i][k] B[k][2q + h]: A's
    // (row, k) is lane 4 (row % 8) + (k % 8) / 2, register row / 8 +
    // 2 (k / 8), half k % 2; B's (k, n) lane 4n + (k % 8) / 2, register
    // k / 8, half k % 2.
    Value l = lane(), base = warpBase();
    Value g = divc(l, 4), q = remc(l, 4);
    Value result = mma.getMatrixC();
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        Value n = addc(mulc(q, 2), h);
        auto loop = scf::ForOp::create(
            b, loc, c(0), c(16), c(1),
            ValueRange{element(mma.getMatrixC(), i, h)},
            [&](OpBuilder &nb, Location, Value k, ValueRange acc) {
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(nb.getInsertionBlock(),
                                  nb.getInsertionPoint());
              Value pairLane = divc(remc(k, 8), 2);
              Value upper = divc(k, 8), half = remc(k, 2);
              Value aLane = add(add(base, mulc(g, 4)), pairLane);
              Value aSlot = add(mulc(addc(mulc(upper, 2), i), 2), half);
              Value bLane = add(add(base, mulc(n, 4)), pairLane);
              Value bSlot = addc(add(mulc(upper, 2), half), 8);
              Value x = memref::LoadOp::create(b, loc, values,
                                               ValueRange{slot, aLane, aSlot});
              Value y = memref::LoadOp::create(b, loc, values,
                                               ValueRange{slot, bLane, bSlot});
              scf::YieldOp::create(
                  b, loc, ValueRange{math::FmaOp::create(b, loc, x, y, acc[0])});
            });
        result = vector::InsertOp::create(b, loc, loop.getResult(0), result,
                                          ArrayRef<int64_t>{i, h});
      }
    mma.getRes().replaceAllUsesWith(result);
    op->erase();
    return success();
  }
  if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(op)) {
    if (copy.getSrcElements())
      return op->emitOpError("cannot be emulated: partial copies");
    SmallVector<Value> from(copy.getSrcIndices()), to(copy.getDstIndices());
    Value srcLast = from.back(), dstLast = to.back();
    for (int64_t e = 0; e < copy.getDstElements().getSExtValue(); ++e) {
      from.back() = addc(srcLast, e);
      to.back() = addc(dstLast, e);
      memref::StoreOp::create(
          b, loc, memref::LoadOp::create(b, loc, copy.getSrc(), from),
          copy.getDst(), to);
    }
    // Its token feeds only groups and waits, erased after it.
    copy.getAsyncToken().dropAllUses();
    op->erase();
    return success();
  }
  if (isa<nvgpu::DeviceAsyncCreateGroupOp, nvgpu::DeviceAsyncWaitOp>(op)) {
    for (Value token : op->getResults())
      token.dropAllUses();
    op->erase();
    return success();
  }
  return success();
}

/// What CollectiveEmulator rewrites (or rejects).
static bool isWarpCollective(Operation *op) {
  return isa<gpu::ShuffleOp>(op) ||
         isa<nvgpu::NVGPUDialect>(op->getDialect());
}

static LogicalResult emulateLaunch(gpu::LaunchOp launch, func::FuncOp barrier) {
  Location loc = launch.getLoc();
  if (!launch.getWorkgroupAttributions().empty() ||
      !isConstant(launch.getGridSizeY(), 1) ||
      !isConstant(launch.getGridSizeZ(), 1) ||
      !isConstant(launch.getBlockSizeY(), 1) ||
      !isConstant(launch.getBlockSizeZ(), 1) ||
      launch.getBody().getBlocks().size() != 1)
    return launch.emitOpError("cannot be emulated: expected 1-D blocks and "
                              "grid, one region block, dynamic shared "
                              "memory only");
  OpBuilder b(launch);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value shared;
  if (Value bytes = launch.getDynamicSharedMemorySize()) {
    Value size = arith::IndexCastOp::create(b, loc, b.getIndexType(), bytes);
    shared = memref::AllocOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
        ValueRange{size}, b.getI64IntegerAttr(64));
  }
  Value blocks = launch.getGridSizeX(), threads = launch.getBlockSizeX();
  bool collectives = false;
  launch.walk([&](Operation *op) {
    collectives |= isWarpCollective(op);
  });
  std::optional<CollectiveEmulator> emulator;
  if (collectives)
    emulator.emplace(b, loc, threads, barrier);
  auto parallel = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                          ValueRange{threads}, ValueRange{one});
  parallel->setAttr(kCooperativeAttrName, b.getUnitAttr());
  b.setInsertionPointToStart(parallel.getBody());
  IRMapping mapping;
  Value thread = parallel.getInductionVars()[0];
  if (emulator)
    emulator->beginThread(thread);
  gpu::KernelDim3 threadIds = launch.getThreadIds();
  gpu::KernelDim3 blockIds = launch.getBlockIds();
  gpu::KernelDim3 gridSize = launch.getGridSize();
  gpu::KernelDim3 blockSize = launch.getBlockSize();
  mapping.map(threadIds.x, thread);
  mapping.map(threadIds.y, zero);
  mapping.map(threadIds.z, zero);
  mapping.map(blockIds.y, zero);
  mapping.map(blockIds.z, zero);
  mapping.map(gridSize.x, blocks);
  mapping.map(gridSize.y, one);
  mapping.map(gridSize.z, one);
  mapping.map(blockSize.x, threads);
  mapping.map(blockSize.y, one);
  mapping.map(blockSize.z, one);
  for (BlockArgument attribution : launch.getPrivateAttributions())
    mapping.map(attribution,
                memref::AllocaOp::create(
                    b, loc, cast<MemRefType>(hostType(attribution.getType()))));
  auto forOp = scf::ForOp::create(b, loc, zero, blocks, one);
  mapping.map(blockIds.x, forOp.getInductionVar());
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  for (Operation &op : launch.getBody().front().without_terminator()) {
    if (auto dynamic = dyn_cast<gpu::DynamicSharedMemoryOp>(op)) {
      mapping.map(dynamic.getResult(), shared);
      continue;
    }
    b.clone(op, mapping);
  }
  // The next block reuses the shared memory.
  func::CallOp::create(b, loc, barrier, ValueRange{});
  forOp.walk([&](Operation *op) {
    if (isa<gpu::BarrierOp>(op)) {
      OpBuilder at(op);
      func::CallOp::create(at, op->getLoc(), barrier, ValueRange{});
      op->erase();
      return;
    }
    for (Value result : op->getResults())
      result.setType(hostType(result.getType()));
  });
  if (emulator) {
    SmallVector<Operation *> ops;
    forOp.walk([&](Operation *op) {
      if (isWarpCollective(op))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (failed(emulator->rewrite(op)))
        return failure();
  }
  b.setInsertionPointAfter(parallel);
  if (shared)
    memref::DeallocOp::create(b, loc, shared);
  return success();
}

void EmulateGpuPass::runOnOperation() {
  ModuleOp module = getOperation();
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto barrier = module.lookupSymbol<func::FuncOp>(kCooperativeBarrier);
  if (!barrier) {
    barrier = func::FuncOp::create(mb, module.getLoc(), kCooperativeBarrier,
                                   mb.getFunctionType({}, {}));
    barrier.setPrivate();
  }
  SmallVector<Operation *> gpuOps;
  module.walk([&](Operation *op) {
    if (isa<gpu::GPUDialect>(op->getDialect()) &&
        !op->getParentOfType<gpu::LaunchOp>())
      gpuOps.push_back(op);
  });
  for (Operation *op : gpuOps) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    LogicalResult result = success();
    if (auto alloc = dyn_cast<gpu::AllocOp>(op))
      alloc.getMemref().replaceAllUsesWith(memref::AllocOp::create(
          b, loc, alloc.getMemref().getType(), ValueRange{},
          b.getI64IntegerAttr(64)));
    else if (auto copy = dyn_cast<gpu::MemcpyOp>(op))
      memref::CopyOp::create(b, loc, copy.getSrc(), copy.getDst());
    else if (auto dealloc = dyn_cast<gpu::DeallocOp>(op))
      memref::DeallocOp::create(b, loc, dealloc.getMemref());
    else if (auto launch = dyn_cast<gpu::LaunchOp>(op))
      result = emulateLaunch(launch, barrier);
    else if (!isa<gpu::WaitOp>(op))
      result = op->emitOpError("cannot be emulated");
    if (failed(result))
      return signalPassFailure();
  }
  // Users (async tokens) come after their producers: erase backwards.
  for (Operation *op : llvm::reverse(gpuOps)) {
    for (Value token : op->getResults())
      if (isa<gpu::AsyncTokenType>(token.getType()))
        token.dropAllUses();
    op->erase();
  }
}

} // namespace mlir::attn
