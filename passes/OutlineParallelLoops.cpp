//===- OutlineParallelLoops.cpp - scf.parallel to runtime parallel_for ----===//
//
// Input: functions on buffers whose outermost scf.parallel loops are 1-D,
// start at 0 and step by 1 (what --attn-lower-attention-to-loops emits).
// Output: each such loop is replaced by
//
//   func.call @attnrt_parallel_for(%n, %body_fn, %ctx)
//
// where %ctx is a stack struct holding the loop's captured buffers (as LLVM
// memref descriptors) and index values, and
//
//   func.func private @<fn>_parallel_<i>(%begin: i64, %end: i64, %ctx: !llvm.ptr)
//
// unpacks them and runs iterations [begin, end) sequentially. This is the
// C callback `attnrt_task_fn` of runtime/AttnRuntime.h; the runtime's thread
// pool decides how iterations are spread over threads. Buffers allocated
// inside the loop body stay inside the outlined function, so each thread
// has its own scratch memory.
//
// The descriptor structs cross the memref/LLVM boundary through
// unrealized_conversion_cast pairs that reconcile-unrealized-casts removes
// after the LLVM conversion.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "attn-outline-parallel-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPSPASS
#include "passes/Passes.h.inc"

static constexpr llvm::StringLiteral kParallelFor = "attnrt_parallel_for";
static constexpr llvm::StringLiteral kCooperativeFor =
    "attnrt_cooperative_for";

namespace {
struct OutlineParallelLoopsPass final
    : impl::OutlineParallelLoopsPassBase<OutlineParallelLoopsPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// The LLVM type a captured value is stored as in the context struct: the
/// memref descriptor for buffers, i64 for indices.
static Type contextFieldType(Value value) {
  MLIRContext *ctx = value.getContext();
  auto i64 = IntegerType::get(ctx, 64);
  auto memref = dyn_cast<MemRefType>(value.getType());
  if (!memref)
    return value.getType().isIndex() ? i64 : Type();
  if (!memref.getLayout().isIdentity())
    return Type();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto dims = LLVM::LLVMArrayType::get(i64, memref.getRank());
  return LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64, dims, dims});
}

/// Moves a captured value between its own type and its context field type:
/// index <-> i64 by index_cast, memref <-> descriptor by an unrealized cast.
static Value convertField(OpBuilder &b, Location loc, Value value, Type to) {
  if (value.getType().isIndex() || to.isIndex())
    return arith::IndexCastOp::create(b, loc, to, value);
  return UnrealizedConversionCastOp::create(b, loc, to, value).getResult(0);
}

static bool isConstantInt(Value v, int64_t expected) {
  APInt value;
  return matchPattern(v, m_ConstantInt(&value)) && value == expected;
}

/// Outlines one loop; returns failure (with an error) if it cannot.
static LogicalResult outline(scf::ParallelOp loop, func::FuncOp parent,
                             unsigned index, func::FuncOp parallelFor) {
  Location loc = loop.getLoc();
  MLIRContext *ctx = loop.getContext();
  if (loop.getNumLoops() != 1 || !loop.getInitVals().empty() ||
      !isConstantInt(loop.getLowerBound()[0], 0) ||
      !isConstantInt(loop.getStep()[0], 1))
    return loop.emitOpError("cannot be outlined: expected a 1-D loop from 0 "
                            "with step 1 and no reductions");

  // Captures: constants are cloned into the body, the rest goes through the
  // context struct.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(loop.getRegion(), used);
  SmallVector<Value> captures, constants;
  SmallVector<Type> fields;
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>()) {
      constants.push_back(v);
      continue;
    }
    Type field = contextFieldType(v);
    if (!field)
      return loop.emitOpError("cannot be outlined: captures a value of type ")
             << v.getType();
    captures.push_back(v);
    fields.push_back(field);
  }
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto ctxType = LLVM::LLVMStructType::getLiteral(ctx, fields);
  auto slotOf = [&](OpBuilder &b, Value context, unsigned i) -> Value {
    return LLVM::GEPOp::create(
        b, loc, ptrType, ctxType, context,
        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
  };

  // The outlined body: void(i64 begin, i64 end, ptr ctx).
  OpBuilder b(parent);
  auto bodyType = b.getFunctionType({i64, i64, ptrType}, {});
  auto body = func::FuncOp::create(
      b, loc, (parent.getSymName() + "_parallel_" + Twine(index)).str(),
      bodyType);
  body.setPrivate();
  Block *entry = body.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping mapping;
  for (Value c : constants)
    mapping.map(c, b.clone(*c.getDefiningOp())->getResult(0));
  for (auto [i, value] : llvm::enumerate(captures)) {
    Value field = LLVM::LoadOp::create(b, loc, fields[i],
                                       slotOf(b, entry->getArgument(2), i));
    mapping.map(value, convertField(b, loc, field, value.getType()));
  }
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto forOp = scf::ForOp::create(
      b, loc, convertField(b, loc, entry->getArgument(0), b.getIndexType()),
      convertField(b, loc, entry->getArgument(1), b.getIndexType()), one);
  mapping.map(loop.getInductionVars()[0], forOp.getInductionVar());
  b.setInsertionPoint(forOp.getBody()->getTerminator());
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);

  // The call site: pack the context on the stack and call the runtime.
  b.setInsertionPoint(loop);
  Value oneI64 = arith::ConstantIntOp::create(b, loc, i64, 1);
  Value context = LLVM::AllocaOp::create(b, loc, ptrType, ctxType, oneI64);
  for (auto [i, value] : llvm::enumerate(captures))
    LLVM::StoreOp::create(b, loc, convertField(b, loc, value, fields[i]),
                          slotOf(b, context, i));
  Value fn = func::ConstantOp::create(b, loc, bodyType, body.getSymName());
  Value fnPtr =
      UnrealizedConversionCastOp::create(b, loc, ptrType, fn).getResult(0);
  Value count = convertField(b, loc, loop.getUpperBound()[0], i64);
  func::CallOp::create(b, loc, parallelFor, ValueRange{count, fnPtr, context});
  loop.erase();
  return success();
}

void OutlineParallelLoopsPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<std::pair<scf::ParallelOp, func::FuncOp>> loops;
  for (auto func : module.getOps<func::FuncOp>())
    func.walk<WalkOrder::PreOrder>([&](scf::ParallelOp loop) {
      loops.push_back({loop, func});
      return WalkResult::skip(); // only outermost loops
    });
  if (loops.empty())
    return;

  // attnrt_parallel_for, or attnrt_cooperative_for for kCooperativeAttrName
  // loops: both void(i64 n, ptr fn, ptr ctx).
  auto runtimeFunction = [&](StringRef name) {
    if (auto fn = module.lookupSymbol<func::FuncOp>(name))
      return fn;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(&getContext());
    auto fn = func::FuncOp::create(
        b, module.getLoc(), name,
        b.getFunctionType({b.getI64Type(), ptr, ptr}, {}));
    fn.setPrivate();
    return fn;
  };
  DenseMap<Operation *, unsigned> counts;
  for (auto [loop, func] : loops)
    if (failed(outline(loop, func, counts[func]++,
                       runtimeFunction(loop->hasAttr(kCooperativeAttrName)
                                           ? kCooperativeFor
                                           : kParallelFor))))
      return signalPassFailure();
}

} // namespace mlir::attn
