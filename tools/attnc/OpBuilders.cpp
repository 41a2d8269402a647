//===- OpBuilders.cpp - IR builders of the model ops ----------------------===//
//
// One builder per entry of the op table (OpTable.cpp). A builder gets a call
// whose operands and keywords already have the declared kinds and element
// types; it checks what the values mean for its op (each error located at
// the offending value), builds the op and runs its verifier, whose errors
// point at the op name in the model file. Shape rules belong to the
// verifiers, not here.
//
//===----------------------------------------------------------------------===//
#include "tools/attnc/OpTable.h"

#include "dialect/AttnOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::attn {

/// Verifies `op` (its messages point at the op name) and returns its result.
template <typename OpT>
static FailureOr<Value> verified(OpT op) {
  if (failed(verify(op)))
    return failure();
  return op.getResult();
}

/// The window's [left, right] from `window = W` or `window = [L, R]`, or
/// {-1, -1} without a window (MaskAttr's encoding).
static FailureOr<std::pair<int64_t, int64_t>>
getWindow(const OpCall &call, const ArgValue &window, bool causal) {
  if (!window.isPresent())
    return std::make_pair<int64_t, int64_t>(-1, -1);
  if (!window.isList) {
    if (window.integer < 0)
      return call.emitError(window.getLoc())
             << "expected the window size to be non-negative, got "
             << window.integer;
    return std::make_pair(window.integer, causal ? 0 : window.integer);
  }
  if (window.list.size() != 2)
    return call.emitError(window.getLoc())
           << "expected 'window' to be W or [left, right], got a list of "
           << window.list.size() << " value"
           << (window.list.size() == 1 ? "" : "s");
  for (auto [i, size] : llvm::enumerate(window.list))
    if (size < 0)
      return call.emitError(window.getElementLoc(i))
             << "expected the window's " << (i == 0 ? "left" : "right")
             << " size to be non-negative, got " << size;
  if (causal && window.list[1] != 0)
    return call.emitError(window.getElementLoc(1))
           << "expected the window's right size to be 0 with mask = causal "
              "(no key after the query is visible), got "
           << window.list[1];
  return std::make_pair(window.list[0], window.list[1]);
}

/// The global positions, sorted, from `global = N` or `global = [p, ...]`
/// (empty without `global`). `kvSeq` bounds N when known (else -1); the
/// verifier checks the listed positions against it.
static LogicalResult getGlobal(const OpCall &call, const ArgValue &global,
                               int64_t kvSeq,
                               SmallVectorImpl<int64_t> &positions) {
  if (!global.isPresent())
    return success();
  if (!global.isList) {
    if (global.integer < 1)
      return call.emitError(global.getLoc())
             << "expected 'global' to be at least 1 (the number of leading "
                "global positions), got "
             << global.integer;
    if (kvSeq >= 0 && global.integer > kvSeq)
      return call.emitError(global.getLoc())
             << "expected 'global' (" << global.integer
             << ") to be at most the number of keys (" << kvSeq << ")";
    for (int64_t p = 0; p < global.integer; ++p)
      positions.push_back(p);
    return success();
  }
  if (global.list.empty())
    return call.emitError(global.getLoc())
           << "expected at least one position in 'global'";
  // Sort the indices, so that a duplicate is reported at its second mention
  // with a note at the first.
  SmallVector<size_t> order =
      llvm::to_vector(llvm::seq<size_t>(0, global.list.size()));
  llvm::sort(order, [&](size_t a, size_t b) {
    return std::make_pair(global.list[a], a) <
           std::make_pair(global.list[b], b);
  });
  for (auto [i, index] : llvm::enumerate(order)) {
    int64_t p = global.list[index];
    if (p < 0)
      return call.emitError(global.getElementLoc(index))
             << "expected global positions to be non-negative, got " << p;
    if (i > 0 && global.list[order[i - 1]] == p) {
      InFlightDiagnostic diag = call.emitError(global.getElementLoc(index))
                                << "global position " << p
                                << " is listed twice";
      diag.attachNote(call.getLoc(global.getElementLoc(order[i - 1])))
          << "first listed here";
      return diag;
    }
    positions.push_back(p);
  }
  return success();
}

/// A keyword number that must be finite and > 0 (`softcap`, `temperature`).
static FailureOr<float> getPositive(OpCall &call, const ArgValue &arg,
                                    llvm::StringRef name) {
  float value = static_cast<float>(arg.number);
  if (!(value > 0) || !std::isfinite(value)) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%g", arg.number);
    return call.emitError(arg.getLoc())
           << "expected '" << name << "' to be a finite number > 0, got "
           << text;
  }
  return value;
}

/// The score modifiers of an attention call, in the order they apply:
/// cosine similarity, bias, ALiBi, softcap. Cosine similarity's temperature
/// becomes `scale`.
static LogicalResult getScoreModifiers(OpCall &call, RankedTensorType q,
                                       FloatAttr &scale,
                                       SmallVectorImpl<Attribute> &modifiers) {
  MLIRContext *ctx = call.getContext();
  const ArgValue &similarity = call.getKeyword("similarity");
  const ArgValue &temperature = call.getKeyword("temperature");
  bool cosine = similarity.isPresent() && similarity.choice == "cosine";
  if (temperature.isPresent() && !cosine)
    return call.emitError(temperature.getLoc())
           << "'temperature' needs 'similarity = cosine'";
  if (cosine) {
    if (const ArgValue &s = call.getKeyword("scale"); s.isPresent())
      return call.emitError(s.getLoc())
             << "with 'similarity = cosine' the factor is 'temperature', "
                "not 'scale'";
    float tau = 1.0f;
    if (temperature.isPresent()) {
      FailureOr<float> value = getPositive(call, temperature, "temperature");
      if (failed(value))
        return failure();
      tau = *value;
    }
    scale = call.getBuilder().getF32FloatAttr(tau);
    modifiers.push_back(CosineAttr::get(ctx));
  }
  if (call.getKeyword("bias").isPresent())
    modifiers.push_back(BiasAttr::get(ctx));
  if (const ArgValue &alibi = call.getKeyword("alibi"); alibi.isPresent()) {
    int64_t heads = q.getRank() == 4 ? q.getDimSize(1) : 0;
    SmallVector<float> slopes;
    if (!alibi.isList && alibi.flag)
      slopes = getStandardAlibiSlopes(heads);
    for (auto [i, slope] : llvm::enumerate(alibi.numbers)) {
      if (!std::isfinite(static_cast<float>(slope)))
        return call.emitError(alibi.getElementLoc(i))
               << "expected a finite ALiBi slope, got " << slope;
      slopes.push_back(static_cast<float>(slope));
    }
    if (alibi.isList && static_cast<int64_t>(slopes.size()) != heads)
      return call.emitError(alibi.getLoc())
             << "expected one ALiBi slope per query head (" << heads
             << "), got " << slopes.size();
    if (!slopes.empty())
      modifiers.push_back(
          AlibiAttr::get(ctx, DenseF32ArrayAttr::get(ctx, slopes)));
  }
  if (const ArgValue &cap = call.getKeyword("softcap"); cap.isPresent()) {
    FailureOr<float> value = getPositive(call, cap, "softcap");
    if (failed(value))
      return failure();
    modifiers.push_back(SoftcapAttr::get(ctx, APFloat(*value)));
  }
  return success();
}

/// What attention and attention_probs share: the mask, scale and score
/// modifiers from the keywords, checked.
struct ScoreArgs {
  MaskAttr mask;
  FloatAttr scale;
  ArrayAttr modifiers;
};

static FailureOr<ScoreArgs> getScoreArgs(OpCall &call) {
  auto q = cast<RankedTensorType>(call.getOperand(0).getType());
  auto k = cast<RankedTensorType>(call.getOperand(1).getType());
  ScoreArgs args;
  const ArgValue &maskArg = call.getKeyword("mask");
  MaskKind kind = MaskKind::none;
  if (maskArg.isPresent())
    kind = *symbolizeMaskKind(maskArg.choice);

  if (const ArgValue &arg = call.getKeyword("scale"); arg.isPresent()) {
    if (arg.number == 0 || !std::isfinite(static_cast<float>(arg.number)))
      return call.emitError(arg.getLoc())
             << "expected scale to be a finite, non-zero number";
    args.scale = call.getBuilder().getF32FloatAttr(arg.number);
  }

  const ArgValue &windowArg = call.getKeyword("window");
  FailureOr<std::pair<int64_t, int64_t>> window =
      getWindow(call, windowArg, kind == MaskKind::causal);
  if (failed(window))
    return failure();

  const ArgValue &globalArg = call.getKeyword("global");
  SmallVector<int64_t> global;
  if (failed(getGlobal(call, globalArg, k.getRank() == 4 ? k.getDimSize(2) : -1,
                       global)))
    return failure();

  if (maskArg.isPresent() || windowArg.isPresent() || globalArg.isPresent()) {
    // The attribute's own checks (e.g. window sizes past 2^40), at the window.
    auto emit = [&]() -> InFlightDiagnostic {
      return windowArg.isPresent() ? call.emitError(windowArg.getLoc())
                                   : mlir::emitError(call.getLoc());
    };
    if (failed(MaskAttr::verify(emit, kind, window->first, window->second,
                                global)))
      return failure();
    args.mask = MaskAttr::get(call.getContext(), kind, window->first,
                              window->second, global);
  }

  const ArgValue &qSegments = call.getKeyword("q_segments");
  if (qSegments.isPresent() && !call.getKeyword("segments").isPresent())
    return call.emitError(qSegments.getLoc())
           << "'q_segments' needs 'segments' (the segment ids of the keys)";

  SmallVector<Attribute> modifiers;
  if (failed(getScoreModifiers(call, q, args.scale, modifiers)))
    return failure();
  if (!modifiers.empty())
    args.modifiers = call.getBuilder().getArrayAttr(modifiers);
  return args;
}

FailureOr<Value> buildAttention(OpCall &call) {
  Value query = call.getOperand(0), key = call.getOperand(1),
        value = call.getOperand(2);
  auto q = cast<RankedTensorType>(query.getType());
  auto v = cast<RankedTensorType>(value.getType());
  FailureOr<ScoreArgs> args = getScoreArgs(call);
  if (failed(args))
    return failure();

  // The result shape is [B, Hq, Sq, Dv]; when ranks are wrong, build with the
  // query's type and let the verifier explain.
  RankedTensorType resultType = q;
  Type lseType;
  if (q.getRank() == 4 && v.getRank() == 4) {
    resultType = RankedTensorType::get(
        {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), v.getDimSize(3)},
        q.getElementType());
    if (call.getNumResults() == 2)
      lseType = RankedTensorType::get(
          {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2)},
          call.getBuilder().getF32Type());
  }
  return verified(SdpaOp::create(
      call.getBuilder(), call.getLoc(), resultType, lseType, query, key, value,
      call.getKeyword("segments").tensor, call.getKeyword("q_segments").tensor,
      call.getKeyword("kv_lengths").tensor, call.getKeyword("q_lengths").tensor,
      call.getKeyword("bias").tensor, args->mask, args->scale, args->modifiers,
      /*schedule=*/nullptr));
}

FailureOr<Value> buildAttentionProbs(OpCall &call) {
  Value query = call.getOperand(0), key = call.getOperand(1),
        lse = call.getOperand(2);
  auto q = cast<RankedTensorType>(query.getType());
  auto k = cast<RankedTensorType>(key.getType());
  FailureOr<ScoreArgs> args = getScoreArgs(call);
  if (failed(args))
    return failure();
  DenseI64ArrayAttr heads;
  int64_t mapped = 1;
  if (const ArgValue &arg = call.getKeyword("heads"); arg.isPresent()) {
    SmallVector<int64_t> list =
        arg.isList ? arg.list : SmallVector<int64_t>{arg.integer};
    int64_t queryHeads = q.getRank() == 4 ? q.getDimSize(1) : 0;
    for (auto [i, h] : llvm::enumerate(list))
      if (h < 0 || h >= queryHeads)
        return call.emitError(arg.isList ? arg.getElementLoc(i) : arg.getLoc())
               << "head " << h << " does not exist: the query has "
               << queryHeads << " heads (0 to " << queryHeads - 1 << ")";
    if (list.empty())
      return call.emitError(arg.getLoc())
             << "expected at least one head in 'heads'";
    heads = call.getBuilder().getDenseI64ArrayAttr(list);
    mapped = static_cast<int64_t>(list.size());
  }
  RankedTensorType resultType = q;
  if (q.getRank() == 4 && k.getRank() == 4)
    resultType = RankedTensorType::get(
        {q.getDimSize(0), mapped, q.getDimSize(2), k.getDimSize(2)},
        call.getBuilder().getF32Type());
  Value segments = call.getKeyword("segments").tensor,
        qSegments = call.getKeyword("q_segments").tensor,
        kvLengths = call.getKeyword("kv_lengths").tensor,
        qLengths = call.getKeyword("q_lengths").tensor,
        bias = call.getKeyword("bias").tensor;
  // The weights are exp(score - lse): scores of another problem than the one
  // the lse came from would not sum to 1. When the lse is an attention
  // result here, every input of the scores must be the same.
  if (auto producer = lse.getDefiningOp<SdpaOp>()) {
    std::pair<const char *, bool> same[] = {
        {"query", producer.getQuery() == query},
        {"key", producer.getKey() == key},
        {"segments", producer.getKvSegments() == segments},
        {"q_segments", producer.getQSegments() == qSegments},
        {"kv_lengths", producer.getKvLengths() == kvLengths},
        {"q_lengths", producer.getQLengths() == qLengths},
        {"bias", producer.getBias() == bias},
        {"mask, window and global",
         producer.getMaskOrDefault() ==
             (args->mask ? args->mask
                         : MaskAttr::get(call.getContext(), MaskKind::none))},
        {"scale or temperature", producer.getScaleAttr() == args->scale},
        {"score modifiers", producer.getModifiersAttr() == args->modifiers}};
    for (auto [what, equal] : same)
      if (!equal) {
        InFlightDiagnostic diag =
            mlir::emitError(call.getLoc())
            << "attention_probs must compute the scores of the attention "
               "call that produced its lse, but differs in its "
            << what;
        diag.attachNote(producer.getLoc()) << "the lse comes from here";
        return diag;
      }
  }
  return verified(SdpaProbsOp::create(
      call.getBuilder(), call.getLoc(), resultType, query, key, lse, segments,
      qSegments, kvLengths, qLengths, bias, args->mask, args->scale,
      args->modifiers, heads, /*schedule=*/nullptr));
}

//===----------------------------------------------------------------------===//
// Transformer blocks
//===----------------------------------------------------------------------===//

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

static RankedTensorType f32Tensor(ArrayRef<int64_t> shape, OpCall &call) {
  return RankedTensorType::get(shape, call.getBuilder().getF32Type());
}

/// A keyword number that must be finite and >= 0 (`eps`), or `fallback`.
static FailureOr<FloatAttr> getEpsilon(OpCall &call, double fallback) {
  const ArgValue &eps = call.getKeyword("eps");
  double value = eps.isPresent() ? eps.number : fallback;
  if (!(value >= 0) || !std::isfinite(static_cast<float>(value)))
    return call.emitError(eps.getLoc())
           << "expected 'eps' to be a finite number >= 0, got " << value;
  return call.getBuilder().getF32FloatAttr(value);
}

FailureOr<Value> buildLinear(OpCall &call) {
  Value input = call.getOperand(0), weight = call.getOperand(1);
  const ArgValue &layoutArg = call.getKeyword("layout");
  WeightLayout layout = layoutArg.isPresent()
                            ? *symbolizeWeightLayout(layoutArg.choice)
                            : WeightLayout::out_in;
  SmallVector<int64_t> result(shapeOf(input));
  ArrayRef<int64_t> w = shapeOf(weight);
  if (!result.empty() && w.size() == 2)
    result.back() = layout == WeightLayout::in_out ? w[1] : w[0];
  WeightLayoutAttr layoutAttr;
  if (layoutArg.isPresent())
    layoutAttr = WeightLayoutAttr::get(call.getContext(), layout);
  return verified(LinearOp::create(
      call.getBuilder(), call.getLoc(), f32Tensor(result, call), input, weight,
      call.getKeyword("bias").tensor, /*gate=*/Value(), /*residual=*/Value(),
      layoutAttr, /*activation=*/nullptr, /*schedule=*/nullptr));
}

FailureOr<Value> buildRmsNorm(OpCall &call) {
  FailureOr<FloatAttr> eps = getEpsilon(call, 1e-6);
  if (failed(eps))
    return failure();
  return verified(RmsNormOp::create(
      call.getBuilder(), call.getLoc(), call.getOperand(0).getType(),
      call.getOperand(0), call.getOperand(1), *eps));
}

FailureOr<Value> buildLayerNorm(OpCall &call) {
  FailureOr<FloatAttr> eps = getEpsilon(call, 1e-5);
  if (failed(eps))
    return failure();
  return verified(LayerNormOp::create(
      call.getBuilder(), call.getLoc(), call.getOperand(0).getType(),
      call.getOperand(0), call.getOperand(1), call.getOperand(2), *eps));
}

FailureOr<Value> buildRope(OpCall &call) {
  OpBuilder &b = call.getBuilder();
  const ArgValue &theta = call.getKeyword("theta");
  const ArgValue &offset = call.getKeyword("offset");
  const ArgValue &scalingArg = call.getKeyword("scaling");
  RopeScaling scaling = scalingArg.isPresent()
                            ? *symbolizeRopeScaling(scalingArg.choice)
                            : RopeScaling::none;
  // Which parameters each scaling kind takes; the verifier checks values.
  auto number = [&](StringRef name, bool wanted) -> FailureOr<FloatAttr> {
    const ArgValue &arg = call.getKeyword(name);
    if (!arg.isPresent()) {
      if (wanted)
        return call.emitError(scalingArg.getLoc())
               << "scaling = " << scalingArg.choice << " needs '" << name
               << "'";
      return FloatAttr();
    }
    if (!wanted)
      return call.emitError(arg.getLoc())
             << "'" << name << "' needs "
             << (name == "factor" ? "scaling = linear or llama3"
                                  : "scaling = llama3");
    return b.getF64FloatAttr(arg.number);
  };
  bool any = scaling != RopeScaling::none;
  bool llama3 = scaling == RopeScaling::llama3;
  FailureOr<FloatAttr> factor = number("factor", any);
  if (failed(factor))
    return failure();
  FailureOr<FloatAttr> low = number("low_freq_factor", llama3);
  if (failed(low))
    return failure();
  FailureOr<FloatAttr> high = number("high_freq_factor", llama3);
  if (failed(high))
    return failure();
  const ArgValue &original = call.getKeyword("original_max_positions");
  if (original.isPresent() != llama3)
    return original.isPresent()
               ? call.emitError(original.getLoc())
                     << "'original_max_positions' needs scaling = llama3"
               : call.emitError(scalingArg.getLoc())
                     << "scaling = llama3 needs 'original_max_positions'";
  if (offset.isPresent() && offset.integer < 0)
    return call.emitError(offset.getLoc())
           << "expected 'offset' to be non-negative, got " << offset.integer;
  auto op = RopeOp::create(
      b, call.getLoc(), call.getOperand(0).getType(), call.getOperand(0),
      b.getF64FloatAttr(theta.isPresent() ? theta.number : 10000.0),
      b.getI64IntegerAttr(offset.isPresent() ? offset.integer : 0),
      any ? RopeScalingAttr::get(call.getContext(), scaling) : nullptr,
      *factor, *low, *high,
      llama3 ? b.getI64IntegerAttr(original.integer) : nullptr);
  return verified(op);
}

FailureOr<Value> buildActivation(OpCall &call) {
  StringRef name = call.getDecl().name;
  Activation kind = name == "silu"   ? Activation::silu
                    : name == "relu" ? Activation::relu
                                     : Activation::gelu;
  if (kind == Activation::gelu &&
      call.getKeyword("approximate").choice == "tanh")
    kind = Activation::gelu_tanh;
  return verified(ActivationOp::create(
      call.getBuilder(), call.getLoc(), call.getOperand(0).getType(),
      call.getOperand(0), ActivationAttr::get(call.getContext(), kind)));
}

FailureOr<Value> buildBinary(OpCall &call) {
  Value lhs = call.getOperand(0), rhs = call.getOperand(1);
  if (StringRef(call.getDecl().name) == "add")
    return verified(
        AddOp::create(call.getBuilder(), call.getLoc(), lhs.getType(), lhs, rhs));
  return verified(
      MulOp::create(call.getBuilder(), call.getLoc(), lhs.getType(), lhs, rhs));
}

/// A required (OpCall::check ensures it is given) positive integer keyword.
static FailureOr<int64_t> getPositive(OpCall &call, StringRef name) {
  const ArgValue &arg = call.getKeyword(name);
  if (arg.integer <= 0)
    return call.emitError(arg.getLoc())
           << "expected '" << name << "' to be positive, got " << arg.integer;
  return arg.integer;
}

FailureOr<Value> buildSplitHeads(OpCall &call) {
  FailureOr<int64_t> heads = getPositive(call, "heads");
  if (failed(heads))
    return failure();
  Value input = call.getOperand(0);
  ArrayRef<int64_t> x = shapeOf(input);
  if (x.size() == 3 && x[2] % *heads != 0)
    return call.emitError(call.getKeyword("heads").getLoc())
           << "expected 'heads' (" << *heads
           << ") to divide the last dimension (" << x[2] << ")";
  SmallVector<int64_t> result(x);
  if (x.size() == 3)
    result = {x[0], *heads, x[1], x[2] / *heads};
  return verified(SplitHeadsOp::create(call.getBuilder(), call.getLoc(),
                                       f32Tensor(result, call), input));
}

FailureOr<Value> buildMergeHeads(OpCall &call) {
  Value input = call.getOperand(0);
  ArrayRef<int64_t> x = shapeOf(input);
  SmallVector<int64_t> result(x);
  if (x.size() == 4)
    result = {x[0], x[2], x[1] * x[3]};
  return verified(MergeHeadsOp::create(call.getBuilder(), call.getLoc(),
                                       f32Tensor(result, call), input));
}

FailureOr<Value> buildChunk(OpCall &call) {
  FailureOr<int64_t> parts = getPositive(call, "parts");
  if (failed(parts))
    return failure();
  const ArgValue &index = call.getKeyword("index");
  Value input = call.getOperand(0);
  SmallVector<int64_t> result(shapeOf(input));
  if (!result.empty() && result.back() % *parts != 0)
    return call.emitError(call.getKeyword("parts").getLoc())
           << "expected 'parts' (" << *parts
           << ") to divide the last dimension (" << result.back() << ")";
  if (index.integer < 0 || index.integer >= *parts)
    return call.emitError(index.getLoc())
           << "expected 'index' in [0, " << *parts << "), got "
           << index.integer;
  if (!result.empty())
    result.back() /= *parts;
  OpBuilder &b = call.getBuilder();
  return verified(ChunkOp::create(b, call.getLoc(), f32Tensor(result, call),
                                  input, b.getI64IntegerAttr(*parts),
                                  b.getI64IntegerAttr(index.integer)));
}

FailureOr<Value> buildEmbedding(OpCall &call) {
  Value ids = call.getOperand(0), table = call.getOperand(1);
  ArrayRef<int64_t> i = shapeOf(ids), t = shapeOf(table);
  SmallVector<int64_t> result(i);
  if (t.size() == 2)
    result.push_back(t[1]);
  return verified(EmbeddingOp::create(call.getBuilder(), call.getLoc(),
                                      f32Tensor(result, call), ids, table));
}

FailureOr<Value> buildRows(OpCall &call) {
  FailureOr<int64_t> count = getPositive(call, "count");
  if (failed(count))
    return failure();
  const ArgValue &offset = call.getKeyword("offset");
  if (offset.isPresent() && offset.integer < 0)
    return call.emitError(offset.getLoc())
           << "expected 'offset' to be non-negative, got " << offset.integer;
  Value table = call.getOperand(0);
  ArrayRef<int64_t> t = shapeOf(table);
  SmallVector<int64_t> result = {*count, t.size() == 2 ? t[1] : 1};
  OpBuilder &b = call.getBuilder();
  return verified(RowsOp::create(
      b, call.getLoc(), f32Tensor(result, call), table,
      b.getI64IntegerAttr(offset.isPresent() ? offset.integer : 0)));
}

} // namespace mlir::attn
