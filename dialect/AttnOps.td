//===- AttnOps.td - attn operations ------------------------*- tablegen -*-===//
//
// Operations of the attn dialect.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNOPS_TD
#define ATTN_ATTNOPS_TD

include "dialect/AttnBase.td"
include "dialect/AttnAttrs.td"
include "dialect/AttnInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Attention data: f32, or f16 / bf16 (converted to f32 where it is loaded;
// every sum is f32).
def Attn_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;

def Attn_SdpaOp : Attn_Op<"sdpa", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Attn_AttentionOpInterface>,
    DeclareOpInterfaceMethods<Attn_CostOpInterface>,
    DeclareOpInterfaceMethods<Attn_TensorContentOpInterface>]> {
  let summary = "scaled dot-product attention";
  let description = [{
    Computes `softmax(scale · Q·Kᵀ + mask) · V` per batch and query head.

    | operand | shape |
    | --- | --- |
    | `query` | `[B, Hq, Sq, D]` |
    | `key` | `[B, Hkv, Skv, D]` |
    | `value` | `[B, Hkv, Skv, Dv]` |
    | result | `[B, Hq, Sq, Dv]` |

    - **GQA / MQA** are implied by the head counts: `Hq` must be a multiple
      of `Hkv`, and query head `h` reads key/value head `h / (Hq / Hkv)`.
      K and V are never replicated.
    - **Cross-attention** is implied by `Sq != Skv`.
    - `scale` defaults to `1/sqrt(D)`; `mask` defaults to `#attn.mask<none>`
      (see `#attn.mask` for the causal alignment when `Sq != Skv`).
    - Rows whose mask hides every key produce zeros, never NaN.
    - Optional i32 operands carry the run-time part of the mask (see
      `#attn.mask` for the exact rule): `kv_segments` `[B, Skv]` and
      `q_segments` `[B, Sq]` (non-decreasing segment ids; `q_segments`
      defaults to `kv_segments`, which needs `Sq == Skv`): a query sees only
      keys of its own segment; `kv_lengths` and `q_lengths` `[B]`: valid
      lengths per batch entry (keys past `kv_len` are hidden, query rows past
      `q_len` give zeros, and causal/window masks align to the valid
      lengths). Lengths are clamped to `[0, S]` by the lowering.
    - `modifiers` lists score modifiers (`ScoreModifierAttrInterface`:
      `#attn.cosine`, `#attn.bias`, `#attn.alibi`, `#attn.softcap`), applied
      in order to `scale · Q·Kᵀ` before the mask: the score of a visible pair
      is `f_n(... f_1(scale · q·k))`. `#attn.bias` reads the `bias` operand,
      `[B or 1, Hq or 1, Sq, Skv]`, which needs it; `#attn.cosine` must come
      first.
    - The optional second result `lse` `[B, Hq, Sq]` is each row's
      log-sum-exp `log Σ_j exp(score_ij)` over its visible keys (`-inf` for
      rows that see none, and rows past `q_len`): the statistic that merges
      partial attentions and recomputes probabilities.
    - `schedule` is set by `--attn-select-schedule` and only read by the
      lowering; it does not change the result.

    All shapes are static. Query, key, value and bias are f32, f16 or bf16,
    each independently (half types are converted to f32 as they are loaded;
    every product and sum is f32); the result has the query's element type
    (rounded to nearest even from f32), `lse` is f32.

    ```mlir
    %o = attn.sdpa %q, %k, %v kv_segments(%seg : tensor<1x128xi32>)
        {mask = #attn.mask<causal, window = [32, 0]>}
        : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
        -> tensor<1x8x128x64xf32>
    ```

    ```mlir
    %o, %lse = attn.sdpa %q, %k, %v
        {mask = #attn.mask<causal>, modifiers = [#attn.softcap<50.0>]}
        : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
        -> tensor<1x8x128x64xf32>, tensor<1x8x128xf32>
    ```

    ```mlir
    %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>, scale = 0.125 : f32}
        : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
        -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query,
                       Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value,
                       Optional<RankedTensorOf<[I32]>>:$kv_segments,
                       Optional<RankedTensorOf<[I32]>>:$q_segments,
                       Optional<RankedTensorOf<[I32]>>:$kv_lengths,
                       Optional<RankedTensorOf<[I32]>>:$q_lengths,
                       Optional<Attn_FloatTensor>:$bias,
                       OptionalAttr<Attn_MaskAttr>:$mask,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<ArrayAttr>:$modifiers,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs Attn_FloatTensor:$result,
                      Optional<RankedTensorOf<[F32]>>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`kv_segments` `(` $kv_segments^ `:` type($kv_segments) `)`)?
    (`q_segments` `(` $q_segments^ `:` type($q_segments) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`q_lengths` `(` $q_lengths^ `:` type($q_lengths) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
    type($result) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The problem sizes, read off the operand types.
    using Shape = AttentionShape;
  }];
}

def Attn_SdpaProbsOp : Attn_Op<"sdpa_probs", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<Attn_AttentionOpInterface>,
    DeclareOpInterfaceMethods<Attn_CostOpInterface>,
    DeclareOpInterfaceMethods<Attn_TensorContentOpInterface>]> {
  let summary = "attention probabilities, recomputed from Q, K and the lse";
  let description = [{
    The softmax weights `P[b, h, i, j] = exp(score_ij - lse[b, h, i])` of
    the `attn.sdpa` with the same query, key, mask, bias, scale and
    modifiers, whose `lse` result is the third operand: the weights are
    recomputed tile by tile from Q and K, so the attention kernel itself is
    unchanged (and never stores an `Sq × Skv` matrix); this op's result is
    the map itself.

    - `heads` lists the query heads to return: result `[B, len(heads), Sq,
      Skv]`, in that order. Without `heads` the result is their average
      over all query heads, `[B, 1, Sq, Skv]`.
    - Pairs the mask hides, and rows that see no key, are 0.

    ```mlir
    %p = attn.sdpa_probs %q, %k, %lse {mask = #attn.mask<causal>, heads = array<i64: 0, 5>}
        : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x8x128xf32>
        -> tensor<1x2x128x128xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query,
                       Attn_FloatTensor:$key,
                       RankedTensorOf<[F32]>:$lse,
                       Optional<RankedTensorOf<[I32]>>:$kv_segments,
                       Optional<RankedTensorOf<[I32]>>:$q_segments,
                       Optional<RankedTensorOf<[I32]>>:$kv_lengths,
                       Optional<RankedTensorOf<[I32]>>:$q_lengths,
                       Optional<Attn_FloatTensor>:$bias,
                       OptionalAttr<Attn_MaskAttr>:$mask,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<ArrayAttr>:$modifiers,
                       OptionalAttr<DenseI64ArrayAttr>:$heads,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $lse
    (`kv_segments` `(` $kv_segments^ `:` type($kv_segments) `)`)?
    (`q_segments` `(` $q_segments^ `:` type($q_segments) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`q_lengths` `(` $q_lengths^ `:` type($q_lengths) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($lse) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The query heads mapped, in result order (all heads when averaging).
    ::llvm::SmallVector<int64_t> getMappedHeads();
    /// Whether the result is the average over all query heads.
    bool isAverage() { return !getHeads().has_value(); }
  }];
}

include "dialect/AttnBlockOps.td"

#endif // ATTN_ATTNOPS_TD
