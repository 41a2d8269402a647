//===- LowerAttentionToGpu.cpp - attn.sdpa to a GPU kernel launch ---------===//
//
// Input: attn.sdpa ops on static tensors, each scheduled for a GPU.
// Output: per op, on one stream (async tokens, in order):
//
//   gpu.alloc + gpu.memcpy host -> device   per operand
//   gpu.alloc                               out (and lse); with kv_splits,
//                                           the f32 partial out and lse
//   gpu.launch  blocks(FlashTiling iterations)
//               threads(gpuThreadsPerBlock: tile_q, or 2 tile_q on tensor
//               cores), dynamic shared memory (gpuSharedLayout),
//               private(acc, stats: GpuTileMemory)
//     FlashTiling::buildIteration(block id) around the GPU tile computation
//     (passes/gpu/: tensor cores for f16/bf16 inputs, else f32 SIMT)
//   gpu.launch  (kv_splits > 1)             the chunks' merge, a thread per
//                                           element of out
//   gpu.memcpy device -> host               out (and lse)
//   gpu.dealloc                             every device buffer
//   gpu.wait                                the host waits for the stream
//
// in a private function of the op's buffers (marked `attn.gpu_host`), called
// where the op was: the buffer deallocation pass, which cannot analyse GPU
// host code, skips these functions (attn-deallocate-buffers), and they own
// no host buffer.
//
// The launch is outlined into a gpu.module kernel by gpu-kernel-outlining
// (passes/Pipelines.cpp). See passes/README.md.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/FlashMerge.h"
#include "passes/FlashTiling.h"
#include "passes/Passes.h"
#include "passes/gpu/FlashTileGpu.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

#define DEBUG_TYPE "attn-lower-attention-to-gpu"

namespace mlir::attn {
#define GEN_PASS_DEF_LOWERATTENTIONTOGPUPASS
#include "passes/Passes.h.inc"

/// The gpu.module that gpu-kernel-outlining puts every kernel in (one PTX
/// module per program).
static constexpr llvm::StringLiteral kKernelModuleName = "attn_kernels";

namespace {
struct LowerAttentionToGpuPass final
    : impl::LowerAttentionToGpuPassBase<LowerAttentionToGpuPass> {
  using Base::Base;
  void runOnOperation() override;
};

/// The stream of one op: each operation waits for the one before.
class Stream {
public:
  Stream(OpBuilder &b, Location loc)
      : b(b), loc(loc), tokenType(gpu::AsyncTokenType::get(b.getContext())),
        token(gpu::WaitOp::create(b, loc, tokenType, ValueRange{})
                  .getAsyncToken()) {}

  /// A device buffer like `host`, with `host`'s contents if `copyIn`.
  Value toDevice(Value host, bool copyIn) {
    if (!host)
      return {};
    Value device = alloc(cast<MemRefType>(host.getType()));
    if (copyIn)
      copy(device, host);
    return device;
  }
  /// A new device buffer (freed by finish()).
  Value alloc(MemRefType type) {
    auto op = gpu::AllocOp::create(b, loc, type, tokenType, ValueRange{token},
                                   ValueRange{}, ValueRange{});
    token = op.getAsyncToken();
    deviceBuffers.push_back(op.getMemref());
    return op.getMemref();
  }
  /// A kernel launch of `blocks` × `threads` on the stream, with `sharedBytes`
  /// of dynamic shared memory (none for 0) and `privates` attributions; its
  /// body is empty (the builder is not moved).
  gpu::LaunchOp launch(int64_t blocks, int64_t threads, int64_t sharedBytes,
                       TypeRange privates, StringRef kernel) {
    auto index = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v).getResult();
    };
    Value one = index(1);
    Value shared;
    if (sharedBytes)
      shared = arith::ConstantIntOp::create(b, loc, b.getI32Type(), sharedBytes);
    auto op = gpu::LaunchOp::create(
        b, loc, index(blocks), one, one, index(threads), one, one, shared,
        tokenType, ValueRange{token}, TypeRange{}, privates, Value(), Value(),
        Value(), SymbolRefAttr::get(b.getContext(), kKernelModuleName),
        SymbolRefAttr::get(b.getContext(), kernel));
    token = op.getAsyncToken();
    return op;
  }
  void copy(Value dst, Value src) {
    if (dst)
      token = gpu::MemcpyOp::create(b, loc, tokenType, ValueRange{token}, dst,
                                    src)
                  .getAsyncToken();
  }
  /// Frees the device buffers and waits for everything on the stream.
  void finish() {
    for (Value device : deviceBuffers)
      token = gpu::DeallocOp::create(b, loc, tokenType, ValueRange{token},
                                     device)
                  .getAsyncToken();
    gpu::WaitOp::create(b, loc, Type(), ValueRange{token});
  }

  OpBuilder &b;
  Location loc;
  Type tokenType;
  Value token;
  SmallVector<Value> deviceBuffers;
};
} // namespace

/// A shared-memory view of `shape` `element`s at byte `offset` of `dynamic`.
static Value sharedView(OpBuilder &b, Location loc, Value dynamic,
                        int64_t offset, ArrayRef<int64_t> shape, Type element) {
  auto type = MemRefType::get(
      shape, element, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(),
                                 gpu::AddressSpace::Workgroup));
  return memref::ViewOp::create(
      b, loc, type, dynamic, arith::ConstantIndexOp::create(b, loc, offset),
      ValueRange{});
}

/// The buffers of an op that cross into its GPU host function, in order
/// (absent ones are null; qSegments is null without q_segments).
static SmallVector<Value *> hostFields(FlashBuffers &f) {
  return {&f.query,     &f.key,      &f.value,    &f.kvSegments, &f.qSegments,
          &f.kvLengths, &f.qLengths, &f.bias,     &f.out,        &f.lse};
}

/// The launch that merges the kv chunks of `op` into out and lse: a thread
/// per element of out (buildGpuSplitMerge), on 1-D views of the buffers.
static void buildMergeLaunch(OpBuilder &b, Stream &stream, SdpaOp op,
                             FlashBuffers buffers, StringRef kernel) {
  Location loc = op.getLoc();
  for (Value *field :
       {&buffers.out, &buffers.lse, &buffers.partialOut, &buffers.partialLse})
    if (*field)
      *field = flattenBuffer(b, loc, *field);
  constexpr int64_t kThreads = 128;
  int64_t elements = cast<MemRefType>(buffers.out.getType()).getNumElements();
  gpu::LaunchOp launch = stream.launch(llvm::divideCeil(elements, kThreads),
                                       kThreads, 0, {}, kernel);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value linear = arith::AddIOp::create(
      b, loc, launch.getThreadIds().x,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                            arith::ConstantIndexOp::create(b, loc, kThreads)));
  buildGpuSplitMerge(b, op, buffers, linear);
  gpu::TerminatorOp::create(b, loc);
}

/// The body of the GPU host function of `op` (its arguments `host`): the
/// stream of copies, the launches (kernels `name`_kernel and `name`_merge)
/// and the copies back.
static void buildDeviceCall(OpBuilder &b, SdpaOp op, const FlashBuffers &host,
                            StringRef name) {
  Location loc = op.getLoc();
  Stream stream(b, loc);
  FlashBuffers device = host;
  for (Value *field : hostFields(device))
    *field = stream.toDevice(*field, /*copyIn=*/field != &device.out &&
                                         field != &device.lse);
  // Without q_segments, the queries' ids are kv_segments.
  if (!device.qSegments)
    device.qSegments = device.kvSegments;

  AttentionShape s = op.getShape();
  ScheduleAttr schedule = op.getScheduleAttr();
  int64_t tq = schedule.getTileQ(), tk = schedule.getTileKv();
  AttentionProblem problem = getAttentionProblem(op);
  bool tensorCores = usesGpuTensorCores(problem);
  GpuSharedLayout layout = gpuSharedLayout(problem, tq, tk);
  if (int64_t splits = schedule.getKvSplits(); splits > 1) {
    // Split-KV: the chunks write f32 partial outputs and lse, merged by a
    // second kernel.
    Type f32 = b.getF32Type();
    device.partialOut = stream.alloc(MemRefType::get(
        {splits, s.batch, s.queryHeads, s.querySeq, s.valueDim}, f32));
    device.partialLse = stream.alloc(
        MemRefType::get({splits, s.batch, s.queryHeads, s.querySeq}, f32));
  }
  FlashTiling tiling(op, device);
  auto privateType = [&](int64_t n, Type element) {
    return MemRefType::get(
        {n}, element, MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Private));
  };
  int64_t threads = gpuThreadsPerBlock(problem, tq);
  // See GpuTileMemory.
  SmallVector<Type, 3> privates{
      privateType(tensorCores ? s.valueDim / 2 : s.valueDim, b.getF32Type()),
      privateType(tensorCores ? 4 : 2, b.getF32Type())};
  if (tensorCores)
    privates.push_back(privateType(1, b.getI32Type()));
  gpu::LaunchOp launch = stream.launch(tiling.getNumIterations(), threads,
                                       layout.total, privates,
                                       (name + "_kernel").str());
  {
    OpBuilder::InsertionGuard guard(b);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    auto dynamic = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                        MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(
                            b.getContext(), gpu::AddressSpace::Workgroup)));
    GpuTileMemory memory;
    memory.thread = launch.getThreadIds().x;
    memory.threads = threads;
    memory.acc = launch.getPrivateAttributions()[0];
    memory.stats = launch.getPrivateAttributions()[1];
    std::unique_ptr<FlashTileComputation> tile;
    if (tensorCores) {
      Type element = getElementTypeOrSelf(op.getKey().getType());
      memory.query = sharedView(b, loc, dynamic, layout.query,
                                {tq, s.headDim + 8}, element);
      memory.key = sharedView(b, loc, dynamic, layout.key, {tk, s.headDim + 8},
                              element);
      memory.value = sharedView(b, loc, dynamic, layout.value,
                                {tk, s.valueDim + 8}, element);
      memory.prefetched = launch.getPrivateAttributions()[2];
      tile = createMmaFlashTile(op, device, tiling, memory);
    } else {
      Type f32 = b.getF32Type();
      memory.query = sharedView(b, loc, dynamic, layout.query,
                                {tq, s.headDim + 1}, f32);
      memory.key = sharedView(b, loc, dynamic, layout.key, {tk, s.headDim}, f32);
      memory.value =
          sharedView(b, loc, dynamic, layout.value, {tk, s.valueDim}, f32);
      memory.scores =
          sharedView(b, loc, dynamic, layout.scores, {tq, tk + 1}, f32);
      memory.keyScale = sharedView(b, loc, dynamic, layout.keyScale, {tk}, f32);
      tile = createGpuFlashTile(op, device, tiling, memory);
    }
    tiling.buildIteration(b, launch.getBlockIds().x, *tile);
    gpu::TerminatorOp::create(b, loc);
  }
  if (device.partialOut)
    buildMergeLaunch(b, stream, op, device, (name + "_merge").str());
  stream.copy(host.out, device.out);
  stream.copy(host.lse, device.lse);
  stream.finish();
}

/// Replaces `op` by its host buffers and a call of a new private function
/// `name` (marked kGpuHostAttrName) that runs it on the GPU.
static void lowerToGpu(SdpaOp op, StringRef name) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  FlashBuffers host = bufferSdpa(b, op);
  if (!op.getQSegments() && host.qSegments) {
    // bufferAttentionInputs made it kv_segments again: passed once.
    host.qSegments.getDefiningOp()->erase();
    host.qSegments = {};
  }
  SmallVector<Value> operands;
  SmallVector<Type> types;
  for (Value *field : hostFields(host))
    if (*field) {
      operands.push_back(*field);
      types.push_back(field->getType());
    }
  auto parent = op->getParentOfType<func::FuncOp>();
  OpBuilder mb(parent);
  auto func = func::FuncOp::create(mb, loc, name,
                                   mb.getFunctionType(types, TypeRange{}));
  func.setPrivate();
  func->setAttr(kGpuHostAttrName, mb.getUnitAttr());
  func::CallOp::create(b, loc, func, operands);
  {
    OpBuilder fb = OpBuilder::atBlockBegin(func.addEntryBlock());
    FlashBuffers args = host;
    unsigned next = 0;
    for (Value *field : hostFields(args))
      if (*field)
        *field = func.getArgument(next++);
    buildDeviceCall(fb, op, args, name);
    func::ReturnOp::create(fb, loc);
  }
  replaceResultWithBuffer(b, loc, op.getResult(), host.out);
  if (op.getLse())
    replaceResultWithBuffer(b, loc, op.getLse(), host.lse);
}

void LowerAttentionToGpuPass::runOnOperation() {
  SmallVector<SdpaOp> ops;
  getOperation().walk([&](SdpaOp op) { ops.push_back(op); });
  SymbolTable symbols(getOperation());
  for (auto [i, op] : llvm::enumerate(ops)) {
    if (!op.getScheduleAttr()) {
      op->emitOpError("has no #attn.schedule; run --attn-select-schedule "
                      "first");
      return signalPassFailure();
    }
    std::string name = (op->getParentOfType<func::FuncOp>().getName() +
                        "_sdpa_gpu" + llvm::Twine(i))
                           .str();
    if (symbols.lookup(name)) {
      op->emitOpError("cannot name its GPU host function: '")
          << name << "' exists";
      return signalPassFailure();
    }
    lowerToGpu(op, name);
    op->erase();
  }
}

} // namespace mlir::attn
