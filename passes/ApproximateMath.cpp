//===- ApproximateMath.cpp - polynomial math approximations ---------------===//
//
// Input: math dialect ops (notably math.exp2 and math.exp on f32 vectors).
// Output: the same math expressed with arith ops (FMAs, bit casts), so no
// libm call is left in vector loops.
//
// math.exp2 gets a short lowering of our own (the softmax of the flash loops
// computes in the log2 domain and is dominated by it):
//
//   k = round(x), f = x - k in [-1/2, 1/2], 2^x = p(f) · 2^k
//
// with p a degree-6 polynomial (relative error < 2e-7 on the interval) and
// 2^k built from exponent bits; x is clamped to [-126, 127.99], x < -126
// (including -inf, the masked scores) gives exactly 0 and NaN stays NaN.
// That is about 16 vector instructions against ~24 for MLIR's generic exp.
// Everything else goes through MLIR's polynomial approximation patterns.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "attn-approximate-math"

namespace mlir::attn {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "passes/Passes.h.inc"

namespace {

/// math.exp2 on f32 (scalar or vector) as described in the file header.
struct Exp2Approximation final : OpRewritePattern<math::Exp2Op> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::Exp2Op op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return rewriter.notifyMatchFailure(op, "only f32 is approximated");
    Location loc = op.getLoc();
    auto vecType = dyn_cast<VectorType>(type);
    Type intType = rewriter.getI32Type();
    if (vecType)
      intType = VectorType::get(vecType.getShape(), intType);
    auto constant = [&](Type t, Attribute scalar) -> Value {
      if (auto shaped = dyn_cast<ShapedType>(t))
        return arith::ConstantOp::create(
            rewriter, loc, DenseElementsAttr::get(shaped, scalar));
      return arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(scalar));
    };
    auto f32 = [&](float v) {
      return constant(type, rewriter.getF32FloatAttr(v));
    };
    auto i32 = [&](int32_t v) {
      return constant(intType, rewriter.getI32IntegerAttr(v));
    };

    // The clamps need not propagate NaN (the last select does), which lets
    // them be single min/max instructions.
    Value x = op.getOperand();
    auto nnan = arith::FastMathFlags::nnan;
    Value clamped = arith::MinimumFOp::create(
        rewriter, loc,
        arith::MaximumFOp::create(rewriter, loc, x, f32(-126), nnan),
        f32(127.99f), nnan);
    Value k = math::RoundEvenOp::create(rewriter, loc, clamped);
    Value f = arith::SubFOp::create(rewriter, loc, clamped, k);
    // Minimax coefficients of 2^f on [-1/2, 1/2] (Cephes exp2f).
    const float coefficients[] = {1.535336188319500e-4f, 1.339887440266574e-3f,
                                  9.618437357674640e-3f, 5.550332471162809e-2f,
                                  2.402264791363012e-1f, 6.931472028550421e-1f,
                                  1.0f};
    Value p = f32(coefficients[0]);
    for (float c : ArrayRef<float>(coefficients).drop_front())
      p = math::FmaOp::create(rewriter, loc, p, f, f32(c));
    // 2^k from the exponent field: (k + 127) << 23.
    Value bits = arith::ShLIOp::create(
        rewriter, loc,
        arith::AddIOp::create(
            rewriter, loc, arith::FPToSIOp::create(rewriter, loc, intType, k),
            i32(127)),
        i32(23));
    Value scaled = arith::MulFOp::create(
        rewriter, loc, p, arith::BitcastOp::create(rewriter, loc, type, bits));
    Value underflow = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OLT, x, f32(-126));
    Value result =
        arith::SelectOp::create(rewriter, loc, underflow, f32(0), scaled);
    Value isNaN =
        arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::UNO, x, x);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, isNaN, x, result);
    return success();
  }
};

struct ApproximateMathPass final
    : impl::ApproximateMathPassBase<ApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<Exp2Approximation>(&getContext(), /*benefit=*/2);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

} // namespace mlir::attn
