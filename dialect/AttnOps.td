//===- AttnOps.td - attn operations ------------------------*- tablegen -*-===//
//
// Operations of the attn dialect.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNOPS_TD
#define ATTN_ATTNOPS_TD

include "dialect/AttnBase.td"
include "dialect/AttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_SdpaOp : Attn_Op<"sdpa", [Pure]> {
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
    - `schedule` is set by `--attn-select-schedule` and only read by the
      lowering; it does not change the result.

    All shapes are static and the element type is f32 (f16/bf16 will follow).

    ```mlir
    %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>, scale = 0.125 : f32}
        : tensor<1x8x128x64xf32>, tensor<1x2x128x64xf32>, tensor<1x2x128x64xf32>
        -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$query,
                       RankedTensorOf<[F32]>:$key,
                       RankedTensorOf<[F32]>:$value,
                       OptionalAttr<Attn_MaskAttr>:$mask,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<Attn_ScheduleAttr>:$schedule);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` type($query) `,` type($key) `,`
    type($value) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The problem sizes, read off the operand types.
    struct Shape {
      int64_t batch, queryHeads, kvHeads, querySeq, kvSeq, headDim, valueDim;
    };
    Shape getShape();
    /// The mask kind (`none` when the attribute is absent).
    MaskAttr getMaskOrDefault();
    /// The scale (`1/sqrt(D)` when the attribute is absent).
    float getScaleOrDefault();
    /// Useful FLOPs: 2·(D + Dv) per visible (query, key) pair per head.
    int64_t getFlops();
  }];
}

#endif // ATTN_ATTNOPS_TD
