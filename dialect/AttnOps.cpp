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

/// Visible (query, key) pairs of one head of `op`.
static int64_t visiblePairs(AttentionOpInterface op) {
  AttentionShape s = op.getShape();
  return countVisiblePairs(op.getMaskOrDefault(), s.querySeq, s.kvSeq);
}

/// FLOPs of one visible pair's score: the dot product and the modifiers.
static int64_t scoreFlopsPerPair(AttentionOpInterface op) {
  int64_t flops = 2 * op.getShape().headDim;
  for (ScoreModifierAttrInterface modifier : op.getScoreModifiers())
    flops += modifier.getFlopsPerScore();
  return flops;
}

int64_t SdpaOp::getFlops() {
  Shape s = getShape();
  return checkedProduct({s.batch, s.queryHeads, visiblePairs(*this),
                         scoreFlopsPerPair(*this) + 2 * s.valueDim});
}

/// Checks the bias operand and the modifiers of `op` (attn.sdpa or
/// attn.sdpa_probs).
template <typename OpT> static LogicalResult verifyModifiers(OpT op) {
  AttentionShape s = op.getShape();
  auto emitOpError = [&] { return op.emitOpError(); };
  if (Value bias = op.getBias()) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(bias.getType()).getShape();
    bool ok = shape.size() == 4 && (shape[0] == s.batch || shape[0] == 1) &&
              (shape[1] == s.queryHeads || shape[1] == 1) &&
              shape[2] == s.querySeq && shape[3] == s.kvSeq;
    if (!ok) {
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
  ArrayAttr modifiers = op.getModifiersAttr();
  ScoreProblem problem{s.queryHeads, op.getBias() != nullptr};
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
  if (op.getBias() && !readsBias)
    return emitOpError() << "has a bias operand but no #attn.bias modifier "
                            "to read it";
  return success();
}

/// Checks that `lse` has the shape [batch, query heads, query seq].
static LogicalResult verifyLse(Operation *op, Value lse,
                               const AttentionShape &s) {
  SmallVector<int64_t> expected = {s.batch, s.queryHeads, s.querySeq};
  ArrayRef<int64_t> shape = cast<RankedTensorType>(lse.getType()).getShape();
  if (shape != ArrayRef<int64_t>(expected))
    return op->emitOpError() << "expected lse shape " << formatShape(expected)
                             << " ([batch, query heads, query seq]), got "
                             << formatShape(shape);
  return success();
}

/// What an operand of `op` (attn.sdpa or attn.sdpa_probs) holds.
template <typename OpT>
static TensorContent operandContent(OpT op, OpOperand &operand,
                                    int64_t &bound) {
  AttentionShape s = op.getShape();
  Value v = operand.get();
  bound = 0;
  if (v == op.getKvLengths() || v == op.getQLengths()) {
    bound = v == op.getKvLengths() ? s.kvSeq : s.querySeq;
    return TensorContent::Lengths;
  }
  if (v == op.getKvSegments() || v == op.getQSegments())
    return TensorContent::Segments;
  return TensorContent::Data;
}

TensorContent SdpaOp::getOperandContent(OpOperand &operand, int64_t &bound) {
  return operandContent(*this, operand, bound);
}

TensorContent SdpaProbsOp::getOperandContent(OpOperand &operand,
                                             int64_t &bound) {
  return operandContent(*this, operand, bound);
}

/// Checks the segment/length operands and global positions of `op`.
template <typename OpT> static LogicalResult verifyMaskOperands(OpT op) {
  AttentionShape s = op.getShape();
  struct Expected {
    const char *name;
    Value value;
    SmallVector<int64_t> shape;
    const char *dims;
  };
  Expected operands[] = {
      {"kv_segments", op.getKvSegments(), {s.batch, s.kvSeq},
       "[batch, kv seq]"},
      {"q_segments", op.getQSegments(), {s.batch, s.querySeq},
       "[batch, query seq]"},
      {"kv_lengths", op.getKvLengths(), {s.batch}, "[batch]"},
      {"q_lengths", op.getQLengths(), {s.batch}, "[batch]"}};
  for (const Expected &e : operands) {
    if (!e.value)
      continue;
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(e.value.getType()).getShape();
    if (shape != ArrayRef<int64_t>(e.shape))
      return op.emitOpError() << "expected " << e.name << " to have shape "
                              << formatShape(e.shape) << " " << e.dims
                              << ", got " << formatShape(shape);
  }
  if (op.getQSegments() && !op.getKvSegments())
    return op.emitOpError(
        "q_segments needs kv_segments (the keys' segment ids)");
  if (op.getKvSegments() && !op.getQSegments() && s.querySeq != s.kvSeq)
    return op.emitOpError() << "expected q_segments: query seq len ("
                            << s.querySeq << ") differs from key seq len ("
                            << s.kvSeq << "), so the queries' segment ids "
                               "cannot default to the keys'";
  ArrayRef<int64_t> global = op.getMaskOrDefault().getGlobal();
  if (!global.empty() && global.back() >= s.kvSeq)
    return op.emitOpError() << "expected global positions to be below the "
                               "key seq len ("
                            << s.kvSeq << "), got " << global.back();
  return success();
}

/// Checks that each of `tensors` (name, type) has static shape and `rank`.
static LogicalResult
verifyRanks(Operation *op,
            ArrayRef<std::pair<StringRef, RankedTensorType>> tensors) {
  for (auto [name, type] : tensors) {
    int64_t rank = name == "lse" ? 3 : 4;
    if (type.getRank() != rank)
      return op->emitOpError()
             << "expected " << name << " to have rank " << rank
             << (rank == 4 ? " [batch, heads, seq, head_dim]"
                           : " [batch, heads, seq]")
             << ", got rank " << type.getRank();
    if (!type.hasStaticShape())
      return op->emitOpError() << "expected " << name
                               << " to have a static shape, got "
                               << formatShape(type.getShape());
  }
  return success();
}

/// One dimension that must equal another: (what, found, expected,
/// description of expected).
struct DimCheck {
  const char *what;
  int64_t found;
  int64_t expected;
  const char *against;
};

/// Emits the first failing check.
static LogicalResult verifyDims(Operation *op, ArrayRef<DimCheck> checks) {
  for (const DimCheck &c : checks)
    if (c.found != c.expected)
      return op->emitOpError() << "expected " << c.what << " (" << c.found
                               << ") to equal " << c.against << " ("
                               << c.expected << ")";
  return success();
}

/// The checks `op` (attn.sdpa or attn.sdpa_probs) shares after its
/// dimension checks: query heads against key heads, scale, mask operands,
/// bias and modifiers. Ranks are checked first.
template <typename OpT> static LogicalResult verifyScores(OpT op) {
  ArrayRef<int64_t> q = op.getQuery().getType().getShape();
  ArrayRef<int64_t> k = op.getKey().getType().getShape();
  if (q[1] % k[1] != 0)
    return op.emitOpError() << "expected query heads (" << q[1]
                            << ") to be a multiple of key/value heads ("
                            << k[1] << ")";
  for (auto [what, length] : {std::pair{"query", q[2]}, {"key", k[2]}})
    if (length > kMaxSequenceLength)
      return op.emitOpError()
             << what << " sequence length " << length
             << " exceeds the maximum of " << kMaxSequenceLength << " (2^24)";
  if (std::optional<APFloat> scale = op.getScale())
    if (!scale->isFinite() || scale->isZero())
      return op.emitOpError() << "expected a finite, non-zero scale, got "
                              << scale->convertToFloat();
  return failure(failed(verifyMaskOperands(op)) ||
                 failed(verifyModifiers(op)));
}

/// Checks `op`'s schedule, if it has one, against its shape: the value
/// head dim against the value block, GQA packing against the head groups
/// and the modifiers, the kv splits against the kv tiles. Attention maps
/// neither pack nor split.
template <typename OpT> static LogicalResult verifySchedule(OpT op) {
  ScheduleAttr schedule = op.getScheduleAttr();
  if (!schedule)
    return success();
  AttentionShape s = op.getShape();
  int64_t block = schedule.getPvVecs() * schedule.getVectorWidth();
  if (s.valueDim % block != 0)
    return op.emitOpError() << "schedule expects the value head dim ("
                            << s.valueDim
                            << ") to be a multiple of pv_vecs * vector_width ("
                            << block << ")";
  if (schedule.getQkDot() && s.headDim % schedule.getVectorWidth() != 0)
    return op.emitOpError() << "schedule's qk_dot = 1 expects the head dim ("
                            << s.headDim
                            << ") to be a multiple of vector_width ("
                            << schedule.getVectorWidth() << ")";
  int64_t packed = schedule.getHeadsPerTile(), splits = schedule.getKvSplits();
  if (std::is_same_v<OpT, SdpaProbsOp> && (packed != 1 || splits != 1))
    return op.emitOpError() << "expects heads_per_tile = 1 and kv_splits = 1 "
                               "(attention maps neither pack heads nor split "
                               "the keys), got "
                            << packed << " and " << splits;
  int64_t group = s.queryHeads / s.kvHeads;
  if (group % packed != 0)
    return op.emitOpError() << "schedule's heads_per_tile (" << packed
                            << ") must divide the query heads per key/value "
                               "head ("
                            << group << ")";
  if (packed > 1)
    for (ScoreModifierAttrInterface modifier : op.getScoreModifiers())
      if (modifier.readsHead())
        return op.emitOpError()
               << "schedule packs " << packed << " heads per tile, which "
               << modifier.describe()
               << " does not support (it reads the head of each row); use "
                  "heads_per_tile = 1";
  int64_t kvTiles = llvm::divideCeil(s.kvSeq, schedule.getTileKv());
  if (splits > kvTiles)
    return op.emitOpError() << "schedule's kv_splits (" << splits
                            << ") exceeds the kv tiles (" << kvTiles << ")";
  return success();
}

LogicalResult SdpaOp::verify() {
  if (failed(verifyRanks(*this, {{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"result", getResult().getType()}})))
    return failure();
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  ArrayRef<int64_t> v = getValue().getType().getShape();

  if (failed(verifyDims(*this, {{"key batch", k[0], q[0], "query batch"},
                                {"value batch", v[0], q[0], "query batch"},
                                {"value heads", v[1], k[1], "key heads"},
                                {"key head dim", k[3], q[3], "query head dim"},
                                {"value seq len", v[2], k[2],
                                 "key seq len"}})) ||
      failed(verifyScores(*this)))
    return failure();
  SmallVector<int64_t> expected = {q[0], q[1], q[2], v[3]};
  ArrayRef<int64_t> result = getResult().getType().getShape();
  if (result != ArrayRef<int64_t>(expected))
    return emitOpError() << "expected result shape " << formatShape(expected)
                         << " ([batch, query heads, query seq, value head "
                            "dim]), got "
                         << formatShape(result);
  if (getResult().getType().getElementType() !=
      getQuery().getType().getElementType())
    return emitOpError() << "expected the result's element type to be the "
                            "query's ("
                         << getQuery().getType().getElementType() << "), got "
                         << getResult().getType().getElementType();
  if (getLse() && failed(verifyLse(*this, getLse(), getShape())))
    return failure();

  return verifySchedule(*this);
}

//===----------------------------------------------------------------------===//
// SdpaProbsOp
//===----------------------------------------------------------------------===//

AttentionShape SdpaProbsOp::getShape() {
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  // No values: the value dim is the head dim, which the schedule's value
  // fields (unused here) must fit.
  return {q[0], q[1], k[1], q[2], k[2], q[3], q[3]};
}

SmallVector<int64_t> SdpaProbsOp::getMappedHeads() {
  if (std::optional<ArrayRef<int64_t>> heads = getHeads())
    return llvm::to_vector(*heads);
  return llvm::to_vector(llvm::seq<int64_t>(0, getShape().queryHeads));
}

int64_t SdpaProbsOp::getFlops() {
  return checkedProduct({getShape().batch,
                         static_cast<int64_t>(getMappedHeads().size()),
                         visiblePairs(*this), scoreFlopsPerPair(*this)});
}

LogicalResult SdpaProbsOp::verify() {
  if (failed(verifyRanks(*this, {{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"lse", getLse().getType()},
                                 {"result", getResult().getType()}})))
    return failure();
  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  if (failed(verifyDims(*this, {{"key batch", k[0], q[0], "query batch"},
                                {"key head dim", k[3], q[3],
                                 "query head dim"}})) ||
      failed(verifyScores(*this)) ||
      failed(verifyLse(*this, getLse(), getShape())))
    return failure();
  AttentionShape s = getShape();
  if (std::optional<ArrayRef<int64_t>> heads = getHeads()) {
    if (heads->empty())
      return emitOpError("expected at least one head in 'heads' (or none "
                         "for the average over heads)");
    for (int64_t h : *heads)
      if (h < 0 || h >= s.queryHeads)
        return emitOpError() << "expected heads in [0, " << s.queryHeads
                             << ") (the query heads), got " << h;
  }
  SmallVector<int64_t> expected = {
      s.batch, isAverage() ? 1 : static_cast<int64_t>(getHeads()->size()),
      s.querySeq, s.kvSeq};
  ArrayRef<int64_t> result = getResult().getType().getShape();
  if (result != ArrayRef<int64_t>(expected))
    return emitOpError() << "expected result shape " << formatShape(expected)
                         << " ([batch, heads mapped or 1 for the average, "
                            "query seq, key seq]), got "
                         << formatShape(result);
  return verifySchedule(*this);
}
