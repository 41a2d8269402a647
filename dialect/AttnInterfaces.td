//===- AttnInterfaces.td - attn interfaces -----------------*- tablegen -*-===//
//
// The extension points of attnc: a new mask, or a new op with a cost and a
// schedule, joins by implementing one of these, not by an edit in every pass.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNINTERFACES_TD
#define ATTN_ATTNINTERFACES_TD

include "mlir/IR/OpBase.td"

def Attn_MaskAttrInterface : AttrInterface<"MaskAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A structured mask. It answers, per query row, which keys are visible, as
    local keys `[begin, end)` below a hard limit plus static global runs,
    both at compile time and as IR, computed from its attributes and from
    run-time values (valid lengths, segment keys). Tile classification
    (full / boundary / skipped), `--report` and FLOP counts are derived from
    these answers by `dialect/MaskTiling.h`, for every mask alike.
  }];
  let methods = [
    InterfaceMethod<[{
        The local keys and limit of query row `row` (`0 <= row < Sq`), for a
        problem of `sq` queries and `skv` keys. `begin`, `end` and `limit`
        must never decrease with the row over the valid rows.
      }], "::mlir::attn::StaticRowKeys", "getRowKeys",
      (ins "int64_t":$row, "int64_t":$sq, "int64_t":$skv,
           "const ::mlir::attn::StaticMaskRuntime &":$runtime)>,
    InterfaceMethod<[{
        The same as IR at the builder's insertion point; `row` is an `index`.
      }], "::mlir::attn::IRRowKeys", "buildRowKeys",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$row, "int64_t":$sq, "int64_t":$skv,
           "const ::mlir::attn::IRMaskRuntime &":$runtime)>,
    InterfaceMethod<[{
        Static runs `[begin, end)` of global positions: keys every row sees
        (below its limit) and rows that see every key (below their limit).
      }], "::llvm::SmallVector<::mlir::attn::KeyRange<int64_t>>",
      "getGlobalRuns", (ins)>,
    InterfaceMethod<[{
        A short description for reports, e.g. `causal, window [256, 0]`.
      }], "std::string", "describe", (ins)>,
  ];
}

def Attn_ScoreModifierAttrInterface
    : AttrInterface<"ScoreModifierAttrInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    A change to the attention score of a (query row, key) pair, applied at
    one point of the tile computation: after the scaled dot product, before
    the mask and the softmax. `attn.sdpa` applies its `modifiers` in order.
    A new modifier is one attribute implementing this interface; the
    lowerings and the FLOP count ask it, never name it
    (`dialect/ScoreModifiers.h`).
  }];
  let methods = [
    InterfaceMethod<[{
        The scalar semantics: the modified score of `site` given `score`,
        in the natural domain (the reference of every implementation).
      }], "double", "evaluate",
      (ins "double":$score, "const ::mlir::attn::ScoreSite &":$site)>,
    InterfaceMethod<[{
        The vector implementation at the builder's insertion point: `scores`
        (vector<width x f32>, multiplied by `site.domain`) modified, still
        multiplied by the domain.
      }], "::mlir::Value", "buildVector",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "const ::mlir::attn::VectorScoreSite &":$site,
           "::mlir::Value":$scores)>,
    InterfaceMethod<"Floating-point operations per visible score.",
      "int64_t", "getFlopsPerScore", (ins)>,
    InterfaceMethod<[{
        Checks the modifier against the op that carries it.
      }], "::llvm::LogicalResult", "verifyFor",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "const ::mlir::attn::ScoreProblem &":$problem)>,
    InterfaceMethod<[{
        Whether the lowering must normalize query and key rows (and provide
        `VectorScoreSite::keyScale`): cosine similarity.
      }], "bool", "normalizesRows", (ins), [{}], [{ return false; }]>,
    InterfaceMethod<[{
        Whether the modifier reads the op's `bias` operand.
      }], "bool", "readsBias", (ins), [{}], [{ return false; }]>,
    InterfaceMethod<[{
        Whether buildVector reads `VectorScoreSite::head`, which is only set
        when all lanes of a vector belong to one query head (not with GQA
        packing, `heads_per_tile` > 1).
      }], "bool", "readsHead", (ins), [{}], [{ return false; }]>,
    InterfaceMethod<"A short description for reports, e.g. `softcap 50`.",
      "std::string", "describe", (ins)>,
  ];
}

def Attn_AttentionOpInterface : OpInterface<"AttentionOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op that computes attention scores the way `attn.sdpa` does (`query`,
    `key`, the mask operands and attributes, `bias`, `scale`, `modifiers`,
    `schedule`): the flash tiling and the score kernel read it through this
    interface, so `attn.sdpa` and `attn.sdpa_probs` share them.
  }];
  let methods = [
    InterfaceMethod<"The problem sizes.", "::mlir::attn::AttentionShape",
      "getShape", (ins)>,
    InterfaceMethod<"The mask (`#attn.mask<none>` when absent).",
      "::mlir::attn::MaskAttr", "getMaskOrDefault", (ins), [{}], [{
        if (::mlir::attn::MaskAttr mask = $_op.getMaskAttr())
          return mask;
        return ::mlir::attn::MaskAttr::get($_op.getContext(),
                                           ::mlir::attn::MaskKind::none);
      }]>,
    InterfaceMethod<"The scale (`1/sqrt(D)` when absent).", "float",
      "getScaleOrDefault", (ins), [{}], [{
        if (std::optional<::llvm::APFloat> scale = $_op.getScale())
          return scale->convertToFloat();
        return 1.0f / std::sqrt(static_cast<float>(
                          $_op.getQuery().getType().getShape()[3]));
      }]>,
    InterfaceMethod<"The score modifiers in order (empty when absent).",
      "::llvm::SmallVector<::mlir::attn::ScoreModifierAttrInterface>",
      "getScoreModifiers", (ins), [{}], [{
        ::llvm::SmallVector<::mlir::attn::ScoreModifierAttrInterface> result;
        if (::mlir::ArrayAttr modifiers = $_op.getModifiersAttr())
          for (::mlir::Attribute attr : modifiers)
            result.push_back(
                ::llvm::cast<::mlir::attn::ScoreModifierAttrInterface>(attr));
        return result;
      }]>,
    InterfaceMethod<"Whether Q and K rows are normalized (a modifier asks).",
      "bool", "normalizesRows", (ins), [{}], [{
        for (::mlir::attn::ScoreModifierAttrInterface m :
             $_op.getScoreModifiers())
          if (m.normalizesRows())
            return true;
        return false;
      }]>,
    InterfaceMethod<"The schedule, or null before selection.",
      "::mlir::attn::ScheduleAttr", "getFlashSchedule", (ins), [{}], [{
        return $_op.getScheduleAttr();
      }]>,
    InterfaceMethod<"The segment ids of the queries: q_segments, else "
                    "kv_segments.", "::mlir::Value", "getQuerySegments", (ins),
      [{}], [{
        return $_op.getQSegments() ? $_op.getQSegments()
                                   : $_op.getKvSegments();
      }]>,
  ];
}

def Attn_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op whose useful work is known: signature export sums it over the
    entry function and every function it calls.
  }];
  let methods = [
    InterfaceMethod<"Useful floating-point operations of one execution; "
      "-1 when the count does not fit in int64 (checkedProduct).",
      "int64_t", "getFlops", (ins)>,
  ];
}

def Attn_TensorContentOpInterface : OpInterface<"TensorContentOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op some of whose operands are not plain data (valid lengths, segment
    ids). Signature export asks it what an entry argument feeding such an
    operand holds, so that callers can make valid inputs and the generated
    program can reject invalid ones.
  }];
  let methods = [
    InterfaceMethod<[{
        What `operand` (one of this op's) holds; for `Lengths`, `bound` is
        the largest valid value.
      }], "::mlir::attn::TensorContent", "getOperandContent",
      (ins "::mlir::OpOperand &":$operand, "int64_t &":$bound)>,
  ];
}

def Attn_ScheduledOpInterface : OpInterface<"ScheduledOpInterface"> {
  let cppNamespace = "::mlir::attn";
  let description = [{
    An op that carries a schedule attribute chosen by `--attn-select-schedule`
    and read by its lowering. The heuristic for each op kind and target is
    attached as an external model by the passes library, so the dialect does
    not depend on it.
  }];
  let methods = [
    InterfaceMethod<"The schedule, or null before selection.",
      "::mlir::Attribute", "getSchedule", (ins)>,
    InterfaceMethod<[{
        Chooses and attaches a schedule for `target` with `overrides` applied
        (the user's `--schedule` text); emits an error at the op and fails
        when the result does not fit.
      }], "::llvm::LogicalResult", "selectSchedule",
      (ins "const ::mlir::attn::ScheduleTarget &":$target,
           "const ::mlir::attn::ScheduleOverride &":$overrides)>,
    InterfaceMethod<[{
        Appends the op's schedule report (`--report`) for `target`, the
        target its schedule was selected for.
      }], "void", "describeSchedule",
      (ins "const ::mlir::attn::ScheduleTarget &":$target,
           "::llvm::raw_ostream &":$os)>,
    InterfaceMethod<[{
        What identifies the op's problem in a tuning file (shape, mask,
        modifiers, element types), or "" when its schedule is not tuned.
      }], "std::string", "getTuningKey", (ins), [{}], [{ return ""; }]>,
  ];
}

#endif // ATTN_ATTNINTERFACES_TD
