//===- LowerBlocksToLoops.cpp - block ops to loops ------------------------===//
//
// Input: the transformer-block ops on static tensors (attn.linear with its
// #attn.gemm_schedule). Output: loops on buffers, one scf.parallel per op
// (two per linear), from passes/cpu/. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"
#include "passes/cpu/BlockOpsCpu.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#define DEBUG_TYPE "attn-lower-blocks-to-loops"

namespace mlir::attn {
#define GEN_PASS_DEF_LOWERBLOCKSTOLOOPSPASS
#include "passes/Passes.h.inc"

namespace {
struct LowerBlocksToLoopsPass final
    : impl::LowerBlocksToLoopsPassBase<LowerBlocksToLoopsPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// Whether `v` holds a model weight: an entry argument marked as a weight,
/// or a parameter of a private function (a layer) that every call passes a
/// model weight.
static bool isModelWeight(Value v, ModuleOp module, unsigned depth = 0) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto func =
      arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()) : nullptr;
  if (!func || depth > 8)
    return false;
  if (func->hasAttr(kEntryAttrName))
    return static_cast<bool>(
        func.getArgAttr(arg.getArgNumber(), kWeightAttrName));
  std::optional<SymbolTable::UseRange> uses = func.getSymbolUses(module);
  if (!func.isPrivate() || !uses || uses->empty())
    return false;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto call = dyn_cast<func::CallOp>(use.getUser());
    if (!call ||
        !isModelWeight(call.getOperand(arg.getArgNumber()), module, depth + 1))
      return false;
  }
  return true;
}

void LowerBlocksToLoopsPass::runOnOperation() {
  BlockLoweringContext ctx{getOperation(), vectorWidth};
  SmallVector<Operation *> ops;
  getOperation().walk([&](Operation *op) {
    if (isa<AttnDialect>(op->getDialect()) && !isa<AttentionOpInterface>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Value result;
    if (auto linear = dyn_cast<LinearOp>(op)) {
      if (!linear.getScheduleAttr()) {
        op->emitOpError("has no #attn.gemm_schedule; run "
                        "--attn-select-schedule first");
        return signalPassFailure();
      }
      result = lowerLinearToLoops(
          b, linear, getOperation(),
          isModelWeight(linear.getWeight(), getOperation()));
    } else {
      result = lowerBlockOpToLoops(b, op, ctx);
    }
    if (!result) {
      op->emitOpError("has no CPU lowering");
      return signalPassFailure();
    }
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
  }
}

} // namespace mlir::attn
