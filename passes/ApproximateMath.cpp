//===- ApproximateMath.cpp - polynomial math approximations ---------------===//
//
// Input: math dialect ops (notably math.exp2 and math.exp on f32 vectors).
// Output: the same math expressed with arith ops (FMAs, bit casts), so no
// libm call is left in vector loops.
//
// math.exp2 gets a short lowering of our own (the softmax of the flash loops
// computes in the log2 domain and is dominated by it):
//
//   c = clamp(x, -127, 127)                 NaN stays NaN, -inf becomes -127
//   t = c + (1.5 · 2^23 + 127)              rounds: t's low bits hold k + 127
//   k = t - (1.5 · 2^23 + 127),  f = c - k  k = round(c), f in [-1/2, 1/2]
//   2^x = p(f) · bitcast(bits(t) << 23)     the shift builds 2^k directly
//
// with p a degree-5 polynomial (relative error < 2e-7 on the interval). The
// clamps are NaN-propagating min/max with a constant operand, which x86
// lowers to one vminps/vmaxps each; k = -127 gives an exponent field of 0,
// so x <= -127 (including -inf, the masked scores) gives exactly 0, and a
// NaN flows through f into p and the product. No float-to-int conversion is
// needed. That is 12 vector instructions against ~24 for MLIR's generic exp.
// x > 127 saturates near 2^127 instead of overflowing to +inf.
// Everything else goes through MLIR's polynomial approximation patterns.
//
// bf16 conversions are expanded here too (arith's bf16 patterns: a shift
// to widen, a rounding add and shift to narrow), because x86 without
// AVX512-BF16 has no instruction for f32 -> bf16 and LLVM would call
// __truncsfbf2, which the runtime does not link.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
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

    // nsz only (not nnan): maximumf/minimumf keep NaN, and against a
    // constant that still lowers to a single instruction.
    Value x = op.getOperand();
    auto nsz = arith::FastMathFlags::nsz;
    Value clamped = arith::MinimumFOp::create(
        rewriter, loc,
        arith::MaximumFOp::create(rewriter, loc, x, f32(-127), nsz),
        f32(127), nsz);
    // Adding 1.5 · 2^23 leaves round(c) in the low mantissa bits (round to
    // nearest even, exact for |c| < 2^22); the extra 127 is the exponent bias.
    const float magic = 12582912.0f + 127.0f;
    Value t = arith::AddFOp::create(rewriter, loc, clamped, f32(magic));
    Value k = arith::SubFOp::create(rewriter, loc, t, f32(magic));
    Value f = arith::SubFOp::create(rewriter, loc, clamped, k);
    // Near-minimax coefficients of 2^f on [-1/2, 1/2] with p(0) = 1 exactly
    // (fitted for f32 Horner evaluation; max relative error 1.9e-7).
    const float coefficients[] = {1.32647064e-3f, 9.67150647e-3f,
                                  5.55073358e-2f, 2.40222424e-1f,
                                  6.93147004e-1f, 1.0f};
    Value p = f32(coefficients[0]);
    for (float c : ArrayRef<float>(coefficients).drop_front())
      p = math::FmaOp::create(rewriter, loc, p, f, f32(c));
    // bits(t) = bits(1.5 · 2^23) + k + 127, and bits(1.5 · 2^23) << 23
    // vanishes mod 2^32, so the shift leaves exactly (k + 127) << 23.
    Value bits = arith::ShLIOp::create(
        rewriter, loc, arith::BitcastOp::create(rewriter, loc, intType, t),
        i32(23));
    rewriter.replaceOpWithNewOp<arith::MulFOp>(
        op, p, arith::BitcastOp::create(rewriter, loc, type, bits));
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
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

} // namespace mlir::attn
