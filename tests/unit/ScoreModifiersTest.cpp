// The scalar semantics of the score modifiers (ScoreModifierAttrInterface::
// evaluate), their costs, and the standard ALiBi slopes, against the
// formulas of the dialect docs written out here.
#include "dialect/AttnOps.h"

#include "mlir/IR/MLIRContext.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
struct Context {
  MLIRContext context;
  Context() { context.loadDialect<AttnDialect>(); }
};
} // namespace

TEST_CASE("standard ALiBi slopes follow the paper", "[modifiers]") {
  // A power of two: 2^(-8k/n), k = 1..n.
  SmallVector<float> eight = getStandardAlibiSlopes(8);
  REQUIRE(eight.size() == 8);
  for (int k = 0; k < 8; ++k)
    CHECK(eight[k] == Approx(std::pow(0.5, k + 1)));
  // 6 heads: the 4-head sequence 2^-2, 2^-4, 2^-6, 2^-8, then the odd terms
  // of the 8-head one, 2^-1 and 2^-3.
  SmallVector<float> six = getStandardAlibiSlopes(6);
  std::vector<double> expected = {0.25, 0.0625, 0.015625, 0.00390625, 0.5,
                                  0.125};
  REQUIRE(six.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(six[i] == Approx(expected[i]));
  CHECK(getStandardAlibiSlopes(1) == SmallVector<float>{0.00390625f});
}

TEST_CASE("score modifiers' scalar semantics", "[modifiers]") {
  Context c;
  MLIRContext *ctx = &c.context;
  ScoreSite site;
  site.head = 1;
  site.row = 3;
  site.key = 10;
  site.position = 7; // pos(row) on the key axis
  site.bias = -0.75;
  site.queryNorm = 2;
  site.keyNorm = 4;

  auto bias = cast<ScoreModifierAttrInterface>(BiasAttr::get(ctx));
  CHECK(bias.evaluate(1.5, site) == Approx(0.75));
  CHECK(bias.readsBias());
  CHECK(bias.getFlopsPerScore() == 1);

  auto alibi = cast<ScoreModifierAttrInterface>(
      AlibiAttr::get(ctx, DenseF32ArrayAttr::get(ctx, {0.5f, 0.25f})));
  // s + slope[1] * (key - position) = 1 + 0.25 * 3
  CHECK(alibi.evaluate(1.0, site) == Approx(1.75));

  auto softcap = cast<ScoreModifierAttrInterface>(
      SoftcapAttr::get(ctx, APFloat(30.0f)));
  CHECK(softcap.evaluate(15.0, site) == Approx(30 * std::tanh(0.5)));
  CHECK(softcap.evaluate(1e4, site) == Approx(30.0));
  CHECK(softcap.evaluate(-1e4, site) == Approx(-30.0));

  auto cosine = cast<ScoreModifierAttrInterface>(CosineAttr::get(ctx));
  CHECK(cosine.evaluate(8.0, site) == Approx(1.0));
  CHECK(cosine.normalizesRows());
  CHECK_FALSE(softcap.normalizesRows());
  CHECK(softcap.describe() == "softcap 30");
}

TEST_CASE("score modifiers check the op that carries them", "[modifiers]") {
  Context c;
  MLIRContext *ctx = &c.context;
  std::string message;
  auto emit = [&] {
    return mlir::emitError(UnknownLoc::get(ctx));
  };
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  auto alibi = cast<ScoreModifierAttrInterface>(
      AlibiAttr::get(ctx, DenseF32ArrayAttr::get(ctx, {0.5f, 0.25f})));
  CHECK(succeeded(alibi.verifyFor(emit, ScoreProblem{2, false})));
  CHECK(failed(alibi.verifyFor(emit, ScoreProblem{4, false})));
  CHECK(message == "expected one ALiBi slope per query head (4), got 2");
  auto bias = cast<ScoreModifierAttrInterface>(BiasAttr::get(ctx));
  CHECK(failed(bias.verifyFor(emit, ScoreProblem{2, false})));
  CHECK(message == "#attn.bias needs the op's bias operand");
  CHECK(succeeded(bias.verifyFor(emit, ScoreProblem{2, true})));
}
