//===- AttnBlockOps.td - transformer-block ops -------------*- tablegen -*-===//
//
// The ops around attention in a transformer block: dense layers, norms,
// RoPE, activations, elementwise arithmetic, head layout changes and
// embeddings. All are on static f32 tensors (token ids i32) with value
// semantics, and each is lowered by --attn-lower-blocks-to-loops (attn.linear
// through the shared micro-kernel builder).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNBLOCKOPS_TD
#define ATTN_ATTNBLOCKOPS_TD

include "dialect/AttnBase.td"
include "dialect/AttnAttrs.td"
include "dialect/AttnInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Attn_BlockOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat([Pure,
        DeclareOpInterfaceMethods<Attn_CostOpInterface>], traits)>;

def Attn_LinearOp : Attn_BlockOp<"linear", [AttrSizedOperandSegments]> {
  let summary = "dense layer with a fused epilogue";
  let description = [{
    `result = activation(input · Wᵀ + bias) · gate + residual`, over the
    last dimension of `input` (`[..., K]` → `[..., N]`).

    - `layout = #attn.layout<out_in>` (the default): `weight` is `[N, K]`
      (`nn.Linear`); `#attn.layout<in_out>`: `[K, N]` (GPT-2's `Conv1D`).
    - `bias` `[N]`, `activation`, `gate` and `residual` (both the shape of
      the result) are optional; `--attn-fuse-epilogues` folds a following
      activation, elementwise product or residual addition into them, so the
      whole epilogue runs while the output tile is in registers.
    - `schedule` is set by `--attn-select-schedule`.

    ```mlir
    %y = attn.linear %x, %w bias(%b : tensor<2048xf32>)
        {activation = #attn.activation<silu>}
        : tensor<1x512x2048xf32>, tensor<5632x2048xf32> -> tensor<1x512x5632xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       RankedTensorOf<[F32]>:$weight,
                       Optional<RankedTensorOf<[F32]>>:$bias,
                       Optional<RankedTensorOf<[F32]>>:$gate,
                       Optional<RankedTensorOf<[F32]>>:$residual,
                       OptionalAttr<Attn_WeightLayoutAttr>:$layout,
                       OptionalAttr<Attn_ActivationAttr>:$activation,
                       OptionalAttr<Attn_GemmScheduleAttr>:$schedule);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// GEMM sizes: `M` rows (all leading dims), `K` inputs, `N` outputs.
    struct Shape { int64_t m, k, n; };
    Shape getShape();
    bool isWeightInOut() {
      return getLayout() && *getLayout() == WeightLayout::in_out;
    }
    Activation getActivationOrNone() {
      return getActivation() ? *getActivation() : Activation::none;
    }
  }];
}

def Attn_RmsNormOp : Attn_BlockOp<"rms_norm", [AllTypesMatch<["input", "result"]>]> {
  let summary = "RMS normalization over the last dimension";
  let description = [{
    `result = input · rsqrt(mean(input², last dim) + epsilon) · weight`
    (Llama's `RMSNorm`; no mean subtraction, no bias). `weight` is `[E]`
    for `input` `[..., E]`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       RankedTensorOf<[F32]>:$weight, F32Attr:$epsilon);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Attn_LayerNormOp : Attn_BlockOp<"layer_norm", [AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `result = (input − mean) / sqrt(var + epsilon) · weight + bias` with the
    biased variance (`nn.LayerNorm`). `weight` and `bias` are `[E]`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       RankedTensorOf<[F32]>:$weight,
                       RankedTensorOf<[F32]>:$bias, F32Attr:$epsilon);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Attn_RopeOp : Attn_BlockOp<"rope", [AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding (Hugging Face rotate_half)";
  let description = [{
    For `input` `[B, H, S, D]` at positions `p = offset + s`, rotates each
    pair of features `(j, j + D/2)` by `p · inv_freq[j]`:
    `x'_j = x_j·cos − x_{j+D/2}·sin`, `x'_{j+D/2} = x_{j+D/2}·cos + x_j·sin`,
    with `inv_freq[j] = theta^(−2j/D)` computed in f32 as Hugging Face does,
    then rescaled by `scaling` (`#attn.rope_scaling<linear>`: needs
    `factor`; `<llama3>`: needs `factor`, `low_freq_factor`,
    `high_freq_factor` and `original_max_positions`). Angles are f32
    products, as in Hugging Face.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, F64Attr:$theta,
                       I64Attr:$offset,
                       OptionalAttr<Attn_RopeScalingAttr>:$scaling,
                       OptionalAttr<F64Attr>:$factor,
                       OptionalAttr<F64Attr>:$low_freq_factor,
                       OptionalAttr<F64Attr>:$high_freq_factor,
                       OptionalAttr<I64Attr>:$original_max_positions);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The D/2 inverse frequencies after scaling, in f32 arithmetic.
    ::llvm::SmallVector<float> getInverseFrequencies();
  }];
}

def Attn_ActivationOp : Attn_BlockOp<"activation", [AllTypesMatch<["input", "result"]>]> {
  let summary = "elementwise activation";
  let arguments = (ins RankedTensorOf<[F32]>:$input, Attn_ActivationAttr:$kind);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class Attn_BinaryOp<string mnemonic, string what>
    : Attn_BlockOp<mnemonic, [AllTypesMatch<["lhs", "result"]>]> {
  let summary = "elementwise " # what # " with broadcasting of the right operand";
  let description = [{
    `rhs` has at most the rank of `lhs`, and each of its dimensions equals
    the matching trailing dimension of `lhs` or is 1 (NumPy broadcasting of
    `rhs` onto `lhs`). The result has the type of `lhs`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$lhs, RankedTensorOf<[F32]>:$rhs);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
}

def Attn_AddOp : Attn_BinaryOp<"add", "sum">;
def Attn_MulOp : Attn_BinaryOp<"mul", "product">;

def Attn_SplitHeadsOp : Attn_BlockOp<"split_heads"> {
  let summary = "[B, S, H·D] to [B, H, S, D]";
  let description = [{
    Feature `f = h·D + d` of `input` `[B, S, H·D]` becomes `result[b, h, s, d]`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_MergeHeadsOp : Attn_BlockOp<"merge_heads"> {
  let summary = "[B, H, S, D] to [B, S, H·D]";
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_ChunkOp : Attn_BlockOp<"chunk"> {
  let summary = "one of `parts` equal slices of the last dimension";
  let description = [{
    `result[..., j] = input[..., index · N/parts + j]` for `input` `[..., N]`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, I64Attr:$parts,
                       I64Attr:$index);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_EmbeddingOp : Attn_BlockOp<"embedding",
    [DeclareOpInterfaceMethods<Attn_TensorContentOpInterface>]> {
  let summary = "row lookup: token ids to vectors";
  let description = [{
    `result[b, s, :] = table[ids[b, s], :]` for `ids` `[B, S]` (i32 or i64) and
    `table` `[V, E]`. An entry argument feeding `ids` is marked as token
    ids with bound `V`, and the generated `run` rejects ids outside
    `[0, V)`.
  }];
  let arguments = (ins RankedTensorOf<[I32, I64]>:$ids,
                       RankedTensorOf<[F32]>:$table);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` type($ids) `,` type($table) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_RowsOp : Attn_BlockOp<"rows"> {
  let summary = "consecutive rows of a table (position embeddings)";
  let description = [{
    `result[i, :] = table[offset + i, :]` for `table` `[P, E]` and result
    `[count, E]`.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$table, I64Attr:$offset);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$table attr-dict `:` type($table) `->` type($result)";
  let hasVerifier = 1;
}

#endif // ATTN_ATTNBLOCKOPS_TD
