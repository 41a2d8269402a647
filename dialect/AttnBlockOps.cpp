//===- AttnBlockOps.cpp - transformer-block ops ---------------------------===//
//
// Verifiers, FLOP counts and helpers of the ops in AttnBlockOps.td. Messages
// name the operand and the values, so that an error on an op built from a
// model file reads well at that file's line and column.
//
//===----------------------------------------------------------------------===//
#include "dialect/AttnOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

static std::string shapeOf(Value v) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(cast<RankedTensorType>(v.getType()).getShape(), os);
  return s + "]";
}

static ArrayRef<int64_t> dims(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

static int64_t numElements(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

/// Every operand and the result have static shapes.
static LogicalResult verifyStatic(Operation *op) {
  for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
      return op->emitOpError() << "expected static shapes, got "
                               << v.getType();
  return success();
}

/// Static shapes and an input of rank 4 `[batch, heads, seq, head_dim]`.
static LogicalResult verifyHeadLayout(Operation *op, Value input) {
  if (failed(verifyStatic(op)))
    return failure();
  if (dims(input).size() != 4)
    return op->emitOpError() << "expected the input to have rank 4 [batch, "
                                "heads, seq, head_dim], got "
                             << shapeOf(input);
  return success();
}

/// `v` has shape `expected`; `what` names it in the message.
static LogicalResult expectShape(Operation *op, StringRef what, Value v,
                                 ArrayRef<int64_t> expected) {
  if (dims(v) == expected)
    return success();
  std::string want = "[";
  llvm::raw_string_ostream os(want);
  llvm::interleaveComma(expected, os);
  return op->emitOpError() << "expected " << what << " to have shape " << want
                           << "], got " << shapeOf(v);
}

//===----------------------------------------------------------------------===//
// attn.linear
//===----------------------------------------------------------------------===//

LinearOp::Shape LinearOp::getShape() {
  ArrayRef<int64_t> x = dims(getInput());
  ArrayRef<int64_t> w = dims(getWeight());
  int64_t m = 1;
  for (int64_t d : x.drop_back())
    m *= d;
  return {m, x.back(), isWeightInOut() ? w[1] : w[0]};
}

LogicalResult LinearOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  if (dims(getInput()).empty())
    return emitOpError("expected the input to have rank >= 1");
  if (dims(getWeight()).size() != 2)
    return emitOpError() << "expected the weight to have rank 2, got shape "
                         << shapeOf(getWeight());
  Shape s = getShape();
  int64_t weightK = dims(getWeight())[isWeightInOut() ? 0 : 1];
  if (weightK != s.k)
    return emitOpError() << "expected the weight's input dimension ("
                         << weightK << ", of " << shapeOf(getWeight())
                         << (isWeightInOut() ? " [in, out]" : " [out, in]")
                         << ") to equal the input's last dimension (" << s.k
                         << ")";
  SmallVector<int64_t> result(dims(getInput()));
  result.back() = s.n;
  if (failed(expectShape(*this, "the result", getResult(), result)))
    return failure();
  if (getBias() && failed(expectShape(*this, "the bias", getBias(), {s.n})))
    return failure();
  if (getGate() && failed(expectShape(*this, "the gate", getGate(), result)))
    return failure();
  if (getResidual() &&
      failed(expectShape(*this, "the residual", getResidual(), result)))
    return failure();
  return success();
}

int64_t LinearOp::getFlops() {
  Shape s = getShape();
  return checkedProduct({2, s.m, s.n, s.k});
}

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

/// `weight` (and `bias`) are `[E]` for `input` `[..., E]`.
static LogicalResult verifyNorm(Operation *op, Value input,
                                ArrayRef<std::pair<StringRef, Value>> params,
                                float epsilon) {
  if (failed(verifyStatic(op)))
    return failure();
  if (dims(input).empty())
    return op->emitOpError("expected the input to have rank >= 1");
  for (auto [what, v] : params)
    if (failed(expectShape(op, what, v, {dims(input).back()})))
      return failure();
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    return op->emitOpError() << "expected epsilon to be finite and >= 0, got "
                             << epsilon;
  return success();
}

LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, getInput(), {{"the weight", getWeight()}},
                    getEpsilon().convertToFloat());
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput(),
                    {{"the weight", getWeight()}, {"the bias", getBias()}},
                    getEpsilon().convertToFloat());
}

// Per element: square and add, scale twice (RMS); subtract, square, add,
// scale and shift (layer norm).
int64_t RmsNormOp::getFlops() { return 4 * numElements(getInput()); }
int64_t LayerNormOp::getFlops() { return 7 * numElements(getInput()); }

//===----------------------------------------------------------------------===//
// attn.rope
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  if (failed(verifyHeadLayout(*this, getInput())))
    return failure();
  ArrayRef<int64_t> x = dims(getInput());
  if (x[3] % 2 != 0)
    return emitOpError() << "expected an even head_dim, got " << x[3];
  double theta = getTheta().convertToDouble();
  if (!(theta > 1) || !std::isfinite(theta))
    return emitOpError() << "expected theta to be finite and > 1, got "
                         << theta;
  int64_t offset = static_cast<int64_t>(getOffset());
  if (offset < 0 || offset > (int64_t(1) << 40))
    return emitOpError() << "expected offset in [0, 2^40], got " << offset;
  RopeScaling scaling = getScaling() ? *getScaling() : RopeScaling::none;
  auto positive = [&](StringRef name, std::optional<APFloat> value)
      -> LogicalResult {
    if (!value)
      return emitOpError() << "scaling " << stringifyRopeScaling(scaling)
                           << " needs " << name;
    double v = value->convertToDouble();
    if (!(v > 0) || !std::isfinite(v))
      return emitOpError() << "expected " << name
                           << " to be finite and > 0, got " << v;
    return success();
  };
  if (scaling == RopeScaling::none) {
    if (getFactor() || getLowFreqFactor() || getHighFreqFactor() ||
        getOriginalMaxPositions())
      return emitOpError("scaling parameters need a scaling kind (linear or "
                         "llama3)");
    return success();
  }
  if (failed(positive("factor", getFactor())))
    return failure();
  if (scaling == RopeScaling::linear) {
    if (getLowFreqFactor() || getHighFreqFactor() || getOriginalMaxPositions())
      return emitOpError("linear scaling takes only factor");
    return success();
  }
  if (failed(positive("low_freq_factor", getLowFreqFactor())) ||
      failed(positive("high_freq_factor", getHighFreqFactor())))
    return failure();
  if (!getOriginalMaxPositions() || *getOriginalMaxPositions() <= 0)
    return emitOpError("llama3 scaling needs a positive "
                       "original_max_positions");
  if (getHighFreqFactor()->convertToDouble() <=
      getLowFreqFactor()->convertToDouble())
    return emitOpError() << "expected high_freq_factor ("
                         << getHighFreqFactor()->convertToDouble()
                         << ") to be above low_freq_factor ("
                         << getLowFreqFactor()->convertToDouble() << ")";
  return success();
}

SmallVector<float> RopeOp::getInverseFrequencies() {
  // Hugging Face (modeling_rope_utils): every step in f32.
  int64_t dim = dims(getInput())[3];
  float theta = static_cast<float>(getTheta().convertToDouble());
  SmallVector<float> inv;
  for (int64_t i = 0; i < dim; i += 2)
    inv.push_back(1.0f /
                  std::pow(theta, static_cast<float>(i) /
                                      static_cast<float>(dim)));
  RopeScaling scaling = getScaling() ? *getScaling() : RopeScaling::none;
  if (scaling == RopeScaling::none)
    return inv;
  float factor = static_cast<float>(getFactor()->convertToDouble());
  if (scaling == RopeScaling::linear) {
    for (float &f : inv)
      f /= factor;
    return inv;
  }
  float low = static_cast<float>(getLowFreqFactor()->convertToDouble());
  float high = static_cast<float>(getHighFreqFactor()->convertToDouble());
  float context = static_cast<float>(*getOriginalMaxPositions());
  float lowWavelen = context / low, highWavelen = context / high;
  for (float &f : inv) {
    float wavelen = static_cast<float>(2 * M_PI) / f;
    float scaled = wavelen > lowWavelen ? f / factor : f;
    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
      float smooth = (context / wavelen - low) / (high - low);
      scaled = (1 - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
  return inv;
}

// Per element: two products and a sum.
int64_t RopeOp::getFlops() { return 3 * numElements(getInput()); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

int64_t ActivationOp::getFlops() { return numElements(getInput()); }

/// NumPy broadcasting of `rhs` onto `lhs`.
static LogicalResult verifyBroadcast(Operation *op, Value lhs, Value rhs) {
  if (failed(verifyStatic(op)))
    return failure();
  ArrayRef<int64_t> l = dims(lhs), r = dims(rhs);
  bool ok = r.size() <= l.size();
  for (size_t i = 0; ok && i < r.size(); ++i) {
    int64_t rd = r[r.size() - 1 - i], ld = l[l.size() - 1 - i];
    ok = rd == ld || rd == 1;
  }
  if (!ok)
    return op->emitOpError() << "cannot broadcast the right operand "
                             << shapeOf(rhs) << " onto the left operand "
                             << shapeOf(lhs)
                             << " (each dimension must match the left's "
                                "trailing one or be 1)";
  return success();
}

LogicalResult AddOp::verify() { return verifyBroadcast(*this, getLhs(), getRhs()); }
LogicalResult MulOp::verify() { return verifyBroadcast(*this, getLhs(), getRhs()); }
int64_t AddOp::getFlops() { return numElements(getLhs()); }
int64_t MulOp::getFlops() { return numElements(getLhs()); }

//===----------------------------------------------------------------------===//
// Layout changes and lookups (no arithmetic)
//===----------------------------------------------------------------------===//

LogicalResult SplitHeadsOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  ArrayRef<int64_t> x = dims(getInput()), r = dims(getResult());
  if (x.size() != 3 || r.size() != 4)
    return emitOpError() << "expected [batch, seq, heads·head_dim] to [batch, "
                            "heads, seq, head_dim], got "
                         << shapeOf(getInput()) << " to "
                         << shapeOf(getResult());
  if (r[1] * r[3] != x[2])
    return emitOpError() << "expected heads·head_dim (" << r[1] << "·" << r[3]
                         << ") to equal the input's last dimension (" << x[2]
                         << ")";
  return expectShape(*this, "the result", getResult(),
                     {x[0], r[1], x[1], r[3]});
}

LogicalResult MergeHeadsOp::verify() {
  if (failed(verifyHeadLayout(*this, getInput())))
    return failure();
  ArrayRef<int64_t> x = dims(getInput());
  return expectShape(*this, "the result", getResult(),
                     {x[0], x[2], x[1] * x[3]});
}

LogicalResult ChunkOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  ArrayRef<int64_t> x = dims(getInput());
  if (x.empty())
    return emitOpError("expected the input to have rank >= 1");
  auto parts = static_cast<int64_t>(getParts());
  auto index = static_cast<int64_t>(getIndex());
  if (parts <= 0 || x.back() % parts != 0)
    return emitOpError() << "expected parts (" << parts
                         << ") to be positive and divide the last dimension ("
                         << x.back() << ")";
  if (index < 0 || index >= parts)
    return emitOpError() << "expected index in [0, " << parts << "), got "
                         << index;
  SmallVector<int64_t> result(x);
  result.back() /= parts;
  return expectShape(*this, "the result", getResult(), result);
}

LogicalResult EmbeddingOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  ArrayRef<int64_t> ids = dims(getIds()), table = dims(getTable());
  if (ids.size() != 2 || table.size() != 2)
    return emitOpError() << "expected ids [batch, seq] and table [vocab, "
                            "hidden], got "
                         << shapeOf(getIds()) << " and " << shapeOf(getTable());
  return expectShape(*this, "the result", getResult(),
                     {ids[0], ids[1], table[1]});
}

TensorContent EmbeddingOp::getOperandContent(OpOperand &operand,
                                             int64_t &bound) {
  bound = 0;
  if (operand.get() != getIds())
    return TensorContent::Data;
  bound = dims(getTable())[0];
  return TensorContent::Tokens;
}

LogicalResult RowsOp::verify() {
  if (failed(verifyStatic(*this)))
    return failure();
  ArrayRef<int64_t> table = dims(getTable()), r = dims(getResult());
  if (table.size() != 2 || r.size() != 2 || r[1] != table[1])
    return emitOpError() << "expected table [rows, hidden] and result "
                            "[count, hidden], got "
                         << shapeOf(getTable()) << " and "
                         << shapeOf(getResult());
  int64_t offset = static_cast<int64_t>(getOffset());
  if (offset < 0 || offset > table[0] - r[0])
    return emitOpError() << "rows " << offset << " to " << offset + r[0] - 1
                         << " are outside the table "
                         << shapeOf(getTable());
  return success();
}

int64_t SplitHeadsOp::getFlops() { return 0; }
int64_t MergeHeadsOp::getFlops() { return 0; }
int64_t ChunkOp::getFlops() { return 0; }
int64_t EmbeddingOp::getFlops() { return 0; }
int64_t RowsOp::getFlops() { return 0; }
