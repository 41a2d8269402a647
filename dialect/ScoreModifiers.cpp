//===- ScoreModifiers.cpp - #attn.bias, alibi, softcap, cosine ------------===//
//
// The score modifiers: syntax, verifiers, scalar semantics, vector
// implementations and costs (the contract is in ScoreModifiers.h).
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

SmallVector<float> mlir::attn::getStandardAlibiSlopes(int64_t heads) {
  SmallVector<float> slopes;
  int64_t n = 1;
  while (n * 2 <= heads)
    n *= 2;
  for (int64_t k = 0; k < n; ++k)
    slopes.push_back(static_cast<float>(std::exp2(-8.0 * (k + 1) / n)));
  for (int64_t k = 0; n + k < heads; ++k)
    slopes.push_back(static_cast<float>(std::exp2(-4.0 * (2 * k + 1) / n)));
  return slopes;
}

/// vector<width x f32> with `value` in every lane.
static Value splat(OpBuilder &b, Location loc, int64_t width, double value) {
  auto type = VectorType::get({width}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getF32FloatAttr(static_cast<float>(value))));
}

//===----------------------------------------------------------------------===//
// #attn.bias
//===----------------------------------------------------------------------===//

double BiasAttr::evaluate(double score, const ScoreSite &site) const {
  return score + site.bias;
}

Value BiasAttr::buildVector(OpBuilder &b, Location loc,
                            const VectorScoreSite &site, Value scores) const {
  return math::FmaOp::create(b, loc, site.bias(),
                             splat(b, loc, site.width, site.domain), scores);
}

int64_t BiasAttr::getFlopsPerScore() const { return 1; }

LogicalResult
BiasAttr::verifyFor(function_ref<InFlightDiagnostic()> emitError,
                    const ScoreProblem &problem) const {
  if (!problem.hasBias)
    return emitError() << "#attn.bias needs the op's bias operand";
  return success();
}

bool BiasAttr::readsBias() const { return true; }

std::string BiasAttr::describe() const { return "bias"; }

//===----------------------------------------------------------------------===//
// #attn.alibi
//===----------------------------------------------------------------------===//

/// `<` `[` float (`,` float)* `]` `>` into `values`.
static ParseResult parseFloatList(AsmParser &parser,
                                  SmallVectorImpl<float> &values) {
  return parser.parseCommaSeparatedList(
      AsmParser::Delimiter::Square, [&]() -> ParseResult {
        double value;
        if (parser.parseFloat(value))
          return failure();
        values.push_back(static_cast<float>(value));
        return success();
      });
}

Attribute AlibiAttr::parse(AsmParser &parser, Type) {
  SmallVector<float> slopes;
  if (parser.parseLess() || parseFloatList(parser, slopes) ||
      parser.parseGreater())
    return {};
  return AlibiAttr::getChecked(
      [&] { return parser.emitError(parser.getNameLoc()); },
      parser.getContext(),
      DenseF32ArrayAttr::get(parser.getContext(), slopes));
}

bool AlibiAttr::readsHead() const { return true; }

void AlibiAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getSlopeValues(), printer,
                        [&](float slope) { printer << slope; });
  printer << "]>";
}

LogicalResult AlibiAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                DenseF32ArrayAttr slopeArray) {
  ArrayRef<float> slopes = slopeArray.asArrayRef();
  if (slopes.empty())
    return emitError() << "expected at least one ALiBi slope";
  for (float slope : slopes)
    if (!std::isfinite(slope))
      return emitError() << "expected finite ALiBi slopes, got " << slope;
  return success();
}

double AlibiAttr::evaluate(double score, const ScoreSite &site) const {
  return score + double(getSlopeValues()[site.head]) * double(site.key - site.position);
}

Value AlibiAttr::buildVector(OpBuilder &b, Location loc,
                             const VectorScoreSite &site, Value scores) const {
  // slope[head] · domain, from a constant table indexed at run time.
  SmallVector<float> scaled;
  for (float slope : getSlopeValues())
    scaled.push_back(static_cast<float>(slope * site.domain));
  auto tableType =
      VectorType::get({static_cast<int64_t>(scaled.size())}, b.getF32Type());
  Value table = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(scaled)));
  Value slope = vector::ExtractOp::create(b, loc, table,
                                          ArrayRef<OpFoldResult>{site.head});
  Value slopes = vector::BroadcastOp::create(
      b, loc, VectorType::get({site.width}, b.getF32Type()), slope);
  return math::FmaOp::create(b, loc, site.relativePosition(), slopes, scores);
}

int64_t AlibiAttr::getFlopsPerScore() const { return 2; }

LogicalResult
AlibiAttr::verifyFor(function_ref<InFlightDiagnostic()> emitError,
                     const ScoreProblem &problem) const {
  if (static_cast<int64_t>(getSlopeValues().size()) != problem.queryHeads)
    return emitError() << "expected one ALiBi slope per query head ("
                       << problem.queryHeads << "), got "
                       << getSlopeValues().size();
  return success();
}

std::string AlibiAttr::describe() const { return "alibi"; }

//===----------------------------------------------------------------------===//
// #attn.softcap
//===----------------------------------------------------------------------===//

Attribute SoftcapAttr::parse(AsmParser &parser, Type) {
  double cap;
  if (parser.parseLess() || parser.parseFloat(cap) || parser.parseGreater())
    return {};
  return SoftcapAttr::getChecked(
      [&] { return parser.emitError(parser.getNameLoc()); },
      parser.getContext(), APFloat(static_cast<float>(cap)));
}

void SoftcapAttr::print(AsmPrinter &printer) const {
  printer << "<" << getCapValue() << ">";
}

LogicalResult SoftcapAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  APFloat capValue) {
  float cap = capValue.convertToFloat();
  if (!(cap > 0) || !std::isfinite(cap))
    return emitError() << "expected a finite softcap > 0, got " << cap;
  return success();
}

double SoftcapAttr::evaluate(double score, const ScoreSite &) const {
  return getCapValue() * std::tanh(score / getCapValue());
}

Value SoftcapAttr::buildVector(OpBuilder &b, Location loc,
                               const VectorScoreSite &site,
                               Value scores) const {
  // domain · c · tanh(s / c) = C · tanh(domain·s / C) with C = domain · c.
  double cap = getCapValue() * site.domain;
  Value x = arith::MulFOp::create(b, loc, scores,
                                  splat(b, loc, site.width, 1.0 / cap));
  return arith::MulFOp::create(b, loc, math::TanhOp::create(b, loc, x),
                               splat(b, loc, site.width, cap));
}

int64_t SoftcapAttr::getFlopsPerScore() const { return 3; }

LogicalResult
SoftcapAttr::verifyFor(function_ref<InFlightDiagnostic()>,
                       const ScoreProblem &) const {
  return success();
}

std::string SoftcapAttr::describe() const {
  std::string text;
  llvm::raw_string_ostream(text)
      << "softcap " << llvm::format("%g", double(getCapValue()));
  return text;
}

//===----------------------------------------------------------------------===//
// #attn.cosine
//===----------------------------------------------------------------------===//

double CosineAttr::evaluate(double score, const ScoreSite &site) const {
  return score / (site.queryNorm * site.keyNorm);
}

Value CosineAttr::buildVector(OpBuilder &b, Location loc,
                              const VectorScoreSite &site,
                              Value scores) const {
  return arith::MulFOp::create(b, loc, scores, site.keyScale());
}

int64_t CosineAttr::getFlopsPerScore() const { return 1; }

LogicalResult
CosineAttr::verifyFor(function_ref<InFlightDiagnostic()>,
                      const ScoreProblem &) const {
  return success();
}

bool CosineAttr::normalizesRows() const { return true; }

std::string CosineAttr::describe() const { return "cosine"; }
