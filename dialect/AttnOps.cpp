//===- AttnOps.cpp - attn operations ---------------------------------------===//
//
// Verifiers and helpers of the attn ops. Verifier messages name the operand
// and the values involved so that an error on an op built from a model file
// reads well at that file's line and column.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"

#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_OP_CLASSES
#include "dialect/AttnOps.cpp.inc"

static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  return s + "]";
}

SdpaOp::Shape SdpaOp::getShape() {
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  ArrayRef<int64_t> v = getValue().getType().getShape();
  return {q[0], q[1], k[1], q[2], k[2], q[3], v[3]};
}

MaskAttr SdpaOp::getMaskOrDefault() {
  if (MaskAttr mask = getMaskAttr())
    return mask;
  return MaskAttr::get(getContext(), MaskKind::none);
}

float SdpaOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  return 1.0f / std::sqrt(static_cast<float>(getShape().headDim));
}

SmallVector<ScoreModifierAttrInterface> SdpaOp::getScoreModifiers() {
  SmallVector<ScoreModifierAttrInterface> result;
  if (ArrayAttr modifiers = getModifiersAttr())
    for (Attribute attr : modifiers)
      result.push_back(cast<ScoreModifierAttrInterface>(attr));
  return result;
}

bool SdpaOp::normalizesRows() {
  return llvm::any_of(getScoreModifiers(),
                      [](ScoreModifierAttrInterface m) {
                        return m.normalizesRows();
                      });
}

int64_t SdpaOp::getFlops() {
  Shape s = getShape();
  int64_t pairs = countVisiblePairs(getMaskOrDefault(), s.querySeq, s.kvSeq);
  int64_t perPair = 2 * (s.headDim + s.valueDim);
  for (ScoreModifierAttrInterface modifier : getScoreModifiers())
    perPair += modifier.getFlopsPerScore();
  return s.batch * s.queryHeads * pairs * perPair;
}

LogicalResult SdpaOp::verifyModifiers() {
  Shape s = getShape();
  if (Value bias = getBias()) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(bias.getType()).getShape();
    bool ok = shape.size() == 4 && (shape[0] == s.batch || shape[0] == 1) &&
              (shape[1] == s.queryHeads || shape[1] == 1) &&
              shape[2] == s.querySeq && shape[3] == s.kvSeq;
    if (!ok)
    {
      auto orOne = [](int64_t n) {
        return n == 1 ? std::string("1") : std::to_string(n) + " or 1";
      };
      return emitOpError() << "expected bias to have shape ["
                           << orOne(s.batch) << ", " << orOne(s.queryHeads)
                           << ", " << s.querySeq << ", " << s.kvSeq
                           << "] ([batch or 1, query heads or 1, query seq, "
                              "key seq]), got "
                           << formatShape(shape);
    }
    if (s.querySeq * s.kvSeq >= (int64_t(1) << 31))
      return emitOpError() << "expected a bias of fewer than 2^31 elements "
                              "per head, got "
                           << s.querySeq << " x " << s.kvSeq;
  }
  ArrayAttr modifiers = getModifiersAttr();
  ScoreProblem problem{s.queryHeads, getBias() != nullptr};
  bool readsBias = false;
  for (auto [i, attr] : llvm::enumerate(modifiers ? modifiers.getValue()
                                                  : ArrayRef<Attribute>{})) {
    auto modifier = dyn_cast<ScoreModifierAttrInterface>(attr);
    if (!modifier)
      return emitOpError() << "expected score modifiers (#attn.bias, "
                              "#attn.alibi, #attn.softcap, #attn.cosine), got "
                           << attr;
    if (failed(modifier.verifyFor([&] { return emitOpError(); }, problem)))
      return failure();
    if (modifier.normalizesRows() && i != 0)
      return emitOpError() << "expected " << attr
                           << " to be the first modifier (it normalizes the "
                              "rows before any other)";
    readsBias |= modifier.readsBias();
  }
  if (getBias() && !readsBias)
    return emitOpError("has a bias operand but no #attn.bias modifier to "
                       "read it");
  if (Value lse = getLse()) {
    SmallVector<int64_t> expected = {s.batch, s.queryHeads, s.querySeq};
    ArrayRef<int64_t> shape = cast<RankedTensorType>(lse.getType()).getShape();
    if (shape != ArrayRef<int64_t>(expected))
      return emitOpError() << "expected lse shape " << formatShape(expected)
                           << " ([batch, query heads, query seq]), got "
                           << formatShape(shape);
  }
  return success();
}

TensorContent SdpaOp::getOperandContent(OpOperand &operand, int64_t &bound) {
  Shape s = getShape();
  Value v = operand.get();
  bound = 0;
  if (v == getKvLengths() || v == getQLengths()) {
    bound = v == getKvLengths() ? s.kvSeq : s.querySeq;
    return TensorContent::Lengths;
  }
  if (v == getKvSegments() || v == getQSegments())
    return TensorContent::Segments;
  return TensorContent::Data;
}

LogicalResult SdpaOp::verifyMaskOperands() {
  Shape s = getShape();
  struct Expected {
    const char *name;
    Value value;
    SmallVector<int64_t> shape;
    const char *dims;
  };
  Expected operands[] = {
      {"kv_segments", getKvSegments(), {s.batch, s.kvSeq}, "[batch, kv seq]"},
      {"q_segments", getQSegments(), {s.batch, s.querySeq},
       "[batch, query seq]"},
      {"kv_lengths", getKvLengths(), {s.batch}, "[batch]"},
      {"q_lengths", getQLengths(), {s.batch}, "[batch]"}};
  for (const Expected &e : operands) {
    if (!e.value)
      continue;
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(e.value.getType()).getShape();
    if (shape != ArrayRef<int64_t>(e.shape))
      return emitOpError() << "expected " << e.name << " to have shape "
                           << formatShape(e.shape) << " " << e.dims << ", got "
                           << formatShape(shape);
  }
  if (getQSegments() && !getKvSegments())
    return emitOpError("q_segments needs kv_segments (the keys' segment ids)");
  if (getKvSegments() && !getQSegments() && s.querySeq != s.kvSeq)
    return emitOpError() << "expected q_segments: query seq len ("
                         << s.querySeq << ") differs from key seq len ("
                         << s.kvSeq << "), so the queries' segment ids "
                            "cannot default to the keys'";
  ArrayRef<int64_t> global = getMaskOrDefault().getGlobal();
  if (!global.empty() && global.back() >= s.kvSeq)
    return emitOpError() << "expected global positions to be below the key "
                            "seq len ("
                         << s.kvSeq << "), got " << global.back();
  return success();
}

LogicalResult SdpaOp::verify() {
  std::pair<StringRef, RankedTensorType> operands[] = {
      {"query", getQuery().getType()},
      {"key", getKey().getType()},
      {"value", getValue().getType()},
      {"result", getResult().getType()}};
  for (auto [name, type] : operands) {
    if (type.getRank() != 4)
      return emitOpError() << "expected " << name
                           << " to have rank 4 [batch, heads, seq, head_dim], "
                              "got rank "
                           << type.getRank();
    if (!type.hasStaticShape())
      return emitOpError() << "expected " << name
                           << " to have a static shape, got "
                           << formatShape(type.getShape());
  }
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  ArrayRef<int64_t> v = getValue().getType().getShape();

  // Each check: (what, found, expected, description of expected).
  struct Check {
    const char *what;
    int64_t found;
    int64_t expected;
    const char *against;
  };
  Check checks[] = {
      {"key batch", k[0], q[0], "query batch"},
      {"value batch", v[0], q[0], "query batch"},
      {"value heads", v[1], k[1], "key heads"},
      {"key head dim", k[3], q[3], "query head dim"},
      {"value seq len", v[2], k[2], "key seq len"},
  };
  for (const Check &c : checks)
    if (c.found != c.expected)
      return emitOpError() << "expected " << c.what << " (" << c.found
                           << ") to equal " << c.against << " (" << c.expected
                           << ")";
  if (q[1] % k[1] != 0)
    return emitOpError() << "expected query heads (" << q[1]
                         << ") to be a multiple of key/value heads (" << k[1]
                         << ")";
  SmallVector<int64_t> expected = {q[0], q[1], q[2], v[3]};
  ArrayRef<int64_t> result = getResult().getType().getShape();
  if (result != ArrayRef<int64_t>(expected))
    return emitOpError() << "expected result shape " << formatShape(expected)
                         << " ([batch, query heads, query seq, value head "
                            "dim]), got "
                         << formatShape(result);
  if (std::optional<APFloat> scale = getScale())
    if (!scale->isFinite() || scale->isZero())
      return emitOpError() << "expected a finite, non-zero scale, got "
                           << scale->convertToFloat();

  if (failed(verifyMaskOperands()) || failed(verifyModifiers()))
    return failure();

  if (ScheduleAttr schedule = getScheduleAttr()) {
    int64_t block = schedule.getPvVecs() * schedule.getVectorWidth();
    if (v[3] % block != 0)
      return emitOpError() << "schedule expects the value head dim (" << v[3]
                           << ") to be a multiple of pv_vecs * vector_width ("
                           << block << ")";
  }
  return success();
}
