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

#include <cmath>

namespace mlir::attn {

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

FailureOr<Value> buildAttention(OpCall &call) {
  Value query = call.getOperand(0), key = call.getOperand(1),
        value = call.getOperand(2);
  auto q = cast<RankedTensorType>(query.getType());
  auto k = cast<RankedTensorType>(key.getType());
  auto v = cast<RankedTensorType>(value.getType());

  const ArgValue &maskArg = call.getKeyword("mask");
  MaskKind kind = MaskKind::none;
  if (maskArg.isPresent())
    kind = *symbolizeMaskKind(maskArg.choice);

  FloatAttr scale;
  if (const ArgValue &arg = call.getKeyword("scale"); arg.isPresent()) {
    if (arg.number == 0 || !std::isfinite(static_cast<float>(arg.number)))
      return call.emitError(arg.getLoc())
             << "expected scale to be a finite, non-zero number";
    scale = call.getBuilder().getF32FloatAttr(arg.number);
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

  MaskAttr mask;
  if (maskArg.isPresent() || windowArg.isPresent() || globalArg.isPresent()) {
    // The attribute's own checks (e.g. window sizes past 2^40), at the window.
    auto emit = [&]() -> InFlightDiagnostic {
      return windowArg.isPresent() ? call.emitError(windowArg.getLoc())
                                   : mlir::emitError(call.getLoc());
    };
    if (failed(MaskAttr::verify(emit, kind, window->first, window->second,
                                global)))
      return failure();
    mask = MaskAttr::get(call.getContext(), kind, window->first,
                         window->second, global);
  }

  const ArgValue &kvSegments = call.getKeyword("segments");
  const ArgValue &qSegments = call.getKeyword("q_segments");
  if (qSegments.isPresent() && !kvSegments.isPresent())
    return call.emitError(qSegments.getLoc())
           << "'q_segments' needs 'segments' (the segment ids of the keys)";

  // The result shape is [B, Hq, Sq, Dv]; when ranks are wrong, build with the
  // query's type and let the verifier explain.
  RankedTensorType resultType = q;
  if (q.getRank() == 4 && v.getRank() == 4)
    resultType = RankedTensorType::get(
        {q.getDimSize(0), q.getDimSize(1), q.getDimSize(2), v.getDimSize(3)},
        q.getElementType());
  auto op = SdpaOp::create(call.getBuilder(), call.getLoc(), resultType, query,
                           key, value, kvSegments.tensor, qSegments.tensor,
                           call.getKeyword("kv_lengths").tensor,
                           call.getKeyword("q_lengths").tensor, mask, scale,
                           /*schedule=*/nullptr);
  if (failed(verify(op)))
    return failure();
  return op.getResult();
}

} // namespace mlir::attn
