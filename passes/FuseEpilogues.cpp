//===- FuseEpilogues.cpp - fold elementwise ops into attn.linear ----------===//
//
// Three patterns, one per epilogue stage (activation, gate, residual). A
// stage can be filled only while the later ones are empty, which keeps the
// epilogue's order act(x·Wᵀ + b) · gate + residual equal to the order of the
// original ops. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "attn-fuse-epilogues"

namespace mlir::attn {
#define GEN_PASS_DEF_FUSEEPILOGUESPASS
#include "passes/Passes.h.inc"

namespace {

/// The linear producing `v`, if its only use is the op being fused into it.
LinearOp fusable(Value v) {
  auto linear = v.getDefiningOp<LinearOp>();
  if (!linear || !linear->hasOneUse())
    return nullptr;
  return linear;
}

struct FuseActivation final : OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    LinearOp linear = fusable(op.getInput());
    if (!linear || linear.getActivation() || linear.getGate() ||
        linear.getResidual())
      return failure();
    rewriter.modifyOpInPlace(linear,
                             [&] { linear.setActivationAttr(op.getKindAttr()); });
    rewriter.replaceOp(op, linear.getResult());
    return success();
  }
};

/// mul (gate) or add (residual): either operand may be the linear, the
/// other must have the result's shape (no broadcasting in the epilogue).
template <typename BinaryOp, bool isGate>
struct FuseBinary final : OpRewritePattern<BinaryOp> {
  using OpRewritePattern<BinaryOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(BinaryOp op,
                                PatternRewriter &rewriter) const override {
    for (std::pair<Value, Value> operands :
         {std::pair(op.getLhs(), op.getRhs()),
          std::pair(op.getRhs(), op.getLhs())}) {
      Value mine = operands.first, other = operands.second;
      LinearOp linear = fusable(mine);
      if (!linear || other.getType() != linear.getType() ||
          linear.getResidual() || (isGate && linear.getGate()))
        continue;
      // The other operand must already exist where the linear runs.
      if (Operation *def = other.getDefiningOp())
        if (def->getBlock() != linear->getBlock() ||
            !def->isBeforeInBlock(linear))
          continue;
      rewriter.modifyOpInPlace(linear, [&] {
        if (isGate)
          linear.getGateMutable().assign(other);
        else
          linear.getResidualMutable().assign(other);
      });
      rewriter.replaceOp(op, linear.getResult());
      return success();
    }
    return failure();
  }
};

struct FuseEpiloguesPass final
    : impl::FuseEpiloguesPassBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseActivation, FuseBinary<MulOp, true>,
                 FuseBinary<AddOp, false>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace mlir::attn
