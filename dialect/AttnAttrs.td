//===- AttnAttrs.td - attn attributes ----------------------*- tablegen -*-===//
//
// #attn.mask (what is visible) and #attn.schedule (how to compute it).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNATTRS_TD
#define ATTN_ATTNATTRS_TD

include "dialect/AttnBase.td"
include "dialect/AttnInterfaces.td"
include "mlir/IR/EnumAttr.td"

def Attn_MaskKind : I32EnumAttr<"MaskKind", "attention mask kind", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"causal", 1>,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_MaskAttr : Attn_Attr<"Mask", "mask",
    [DeclareAttrInterfaceMethods<Attn_MaskAttrInterface>]> {
  let summary = "which keys each query may attend to: causal, window, global";
  let description = [{
    A structured mask, described by its parameters rather than by a tensor,
    so that the lowering can tell for each (query tile, kv tile) pair whether
    the tile is fully visible (no mask arithmetic), partially visible
    (element mask) or fully hidden (never visited). Segment ids and valid
    lengths, which are run-time values, are operands of `attn.sdpa`; this
    attribute holds the static part. With `Sq` queries, `Skv` keys, valid
    lengths `q_len <= Sq`, `kv_len <= Skv` (the full sizes without length
    operands) and `off = kv_len - q_len`, query row `i` sits at key position
    `pos(i) = i + off` (bottom-right alignment) and sees key `j` iff

        i < q_len  and  j < limit(i)  and
        (pos(i) in global  or  j in global  or  (in_window(i, j) and same_segment(i, j)))

    - `limit(i) = min(kv_len, pos(i) + 1)` for `causal`, `kv_len` for
      `none`: a hard limit that global tokens obey too;
    - `window = [left, right]`: `pos(i) - left <= j <= pos(i) + right`
      (with `causal`, `right` must be 0); no window: always true;
    - `global = [p, ...]`: sorted, distinct positions (`< Skv`, checked by
      the op) of tokens that see every key and that every query sees;
    - segments (operands of the op): `j` and `i` carry the same segment id.

    Query rows that see no key produce zeros. The lowering, `--report` and
    FLOP counts all query this through `MaskAttrInterface`, whose reasoning
    lives once in `dialect/MaskTiling.h`.

    ```mlir
    #attn.mask<causal>
    #attn.mask<causal, window = [256, 0]>
    #attn.mask<none, window = [64, 64], global = [0, 1]>
    ```
  }];
  let parameters = (ins EnumParameter<Attn_MaskKind>:$kind,
                        DefaultValuedParameter<"int64_t", "-1">:$window_left,
                        DefaultValuedParameter<"int64_t", "-1">:$window_right,
                        OptionalArrayRefParameter<"int64_t">:$global);
  let builders = [
    AttrBuilder<(ins "MaskKind":$kind), [{
      return $_get($_ctxt, kind, -1, -1, ::llvm::ArrayRef<int64_t>{});
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let skipDefaultBuilders = 0;
  let extraClassDeclaration = [{
    bool isCausal() const { return getKind() == MaskKind::causal; }
    bool hasWindow() const { return getWindowLeft() >= 0; }
  }];
}

def Attn_ScheduleAttr : Attn_Attr<"Schedule", "schedule"> {
  let summary = "tile sizes and register blocking of a flash-attention loop nest";
  let description = [{
    Chosen by `--attn-select-schedule` (or written by hand) and only read by
    the lowering. The lowering computes, per (batch, head, query tile of
    `tile_q` rows), a loop over key/value tiles of `tile_kv` keys with an
    online softmax. Inside a tile:

    - scores `Sᵀ = K·Qᵀ` are register-blocked as `qk_keys` keys ×
      `qk_qvecs` vectors of `vector_width` queries (broadcast one key
      element, FMA into a vector of queries);
    - the update `O += P·V` is register-blocked as `pv_rows` query rows ×
      `pv_vecs` vectors of `vector_width` output features.

    Two optional fields reshape the iteration (both default to 1):

    - `heads_per_tile` (GQA packing): a query tile holds the rows of that
      many query heads of one key/value group, interleaved query-major
      (tile row `r` is query `q0 + r / heads_per_tile` of head
      `h0 + r % heads_per_tile`), so each K/V tile is read once for all of
      them. A tile then covers `tile_q / heads_per_tile` query positions.
    - `kv_splits` (split-KV, flash-decoding): the kv tiles are split into
      that many contiguous chunks, each its own parallel iteration writing
      a partial output and log-sum-exp; a second loop merges the chunks.
    - `prefetch` (default 0): 1 makes the score kernel prefetch the V rows
      of its keys and the K rows one tile ahead (for decode, whose tiles do
      too little arithmetic to hide memory latency).
    - `qk_dot` (default 0): 1 computes the scores as dot products along
      the head dim instead: a block of `qk_keys` keys ×
      `vector_width / qk_keys` query rows, each product a vector of head-dim
      lanes, the block's sums gathered into one vector by a tree of
      shuffles. It does the arithmetic of the rows a tile holds, not of
      whole vectors of queries, which pays when a tile holds few valid rows
      (decode: 1-4 rows of a 16-row tile).

    Constraints (checked by the op verifier): `tile_q` is a multiple of
    `qk_qvecs · vector_width`, of `pv_rows` and of `heads_per_tile`;
    `tile_kv` is a multiple of `qk_keys`; the value head dim is a multiple
    of `pv_vecs · vector_width`; `heads_per_tile` divides the query heads
    per key/value head; `kv_splits` is at most the number of kv tiles; with
    `qk_dot`, `qk_keys` divides `vector_width`, which divides the head dim.

    ```mlir
    #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16,
                   qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4,
                   heads_per_tile = 4, kv_splits = 2>
    ```
  }];
  let parameters = (ins "int64_t":$tile_q, "int64_t":$tile_kv,
                        "int64_t":$vector_width, "int64_t":$qk_keys,
                        "int64_t":$qk_qvecs, "int64_t":$pv_rows,
                        "int64_t":$pv_vecs,
                        DefaultValuedParameter<"int64_t", "1">:$heads_per_tile,
                        DefaultValuedParameter<"int64_t", "1">:$kv_splits,
                        DefaultValuedParameter<"int64_t", "0">:$prefetch,
                        DefaultValuedParameter<"int64_t", "0">:$qk_dot);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}


//===----------------------------------------------------------------------===//
// Score modifiers (ScoreModifierAttrInterface)
//===----------------------------------------------------------------------===//

def Attn_BiasAttr : Attn_Attr<"Bias", "bias",
    [DeclareAttrInterfaceMethods<Attn_ScoreModifierAttrInterface,
                                 ["readsBias"]>]> {
  let summary = "adds the op's bias tensor to the scores";
  let description = [{
    `s + bias[b, h, i, j]` with the `bias` operand of `attn.sdpa`, of shape
    `[B or 1, Hq or 1, Sq, Skv]` (broadcast over batch and heads): relative
    position biases, T5 buckets, ALiBi variants or padding masks given as a
    tensor. Hidden pairs stay hidden whatever the bias; a bias of `-inf`
    hides a pair too (a row whose every score is `-inf` gives zeros).

    ```mlir
    #attn.bias
    ```
  }];
  let assemblyFormat = "";
}

def Attn_AlibiAttr : Attn_Attr<"Alibi", "alibi",
    [DeclareAttrInterfaceMethods<Attn_ScoreModifierAttrInterface,
                                 ["readsHead"]>]> {
  let summary = "ALiBi: a linear bias by distance, one slope per head";
  let description = [{
    `s + slope[h] · (j - pos(i))` (Press et al.; `pos(i)` is the row's
    position on the key axis, as in `#attn.mask`), computed in the tile from
    the indices: no tensor exists. One slope per query head;
    `getStandardAlibiSlopes(H)` gives the paper's (`alibi = true` in a
    model file).

    ```mlir
    #attn.alibi<[0.25, 0.0625]>
    ```
  }];
  let parameters = (ins "DenseF32ArrayAttr":$slopes);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    ::llvm::ArrayRef<float> getSlopeValues() const {
      return getSlopes().asArrayRef();
    }
  }];
}

def Attn_SoftcapAttr : Attn_Attr<"Softcap", "softcap",
    [DeclareAttrInterfaceMethods<Attn_ScoreModifierAttrInterface>]> {
  let summary = "logit soft-capping: c · tanh(s / c)";
  let description = [{
    Squashes scores smoothly into `(-c, c)` (Gemma 2's
    `attn_logit_softcapping`); `c > 0`.

    ```mlir
    #attn.softcap<50.0>
    ```
  }];
  let parameters = (ins APFloatParameter<"the cap c">:$cap);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    float getCapValue() const { return getCap().convertToFloat(); }
  }];
}

def Attn_CosineAttr : Attn_Attr<"Cosine", "cosine",
    [DeclareAttrInterfaceMethods<Attn_ScoreModifierAttrInterface,
                                 ["normalizesRows"]>]> {
  let summary = "cosine-similarity scores";
  let description = [{
    The score is `scale · q·k / (max(||q||, eps) · max(||k||, eps))` with
    `eps = 1e-12` (as `torch.nn.functional.normalize`): the op's `scale` is
    the temperature. The lowering normalizes query rows where it packs them
    and scales each key's scores by its inverse norm. Must come first in
    `modifiers`.

    ```mlir
    #attn.cosine
    ```
  }];
  let assemblyFormat = "";
}

//===----------------------------------------------------------------------===//
// Transformer-block attributes
//===----------------------------------------------------------------------===//

def Attn_Activation : I32EnumAttr<"Activation", "elementwise activation", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"relu", 1>,
  I32EnumAttrCase<"silu", 2>,
  I32EnumAttrCase<"gelu", 3>,
  I32EnumAttrCase<"gelu_tanh", 4>,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_ActivationAttr : EnumAttr<Attn_Dialect, Attn_Activation, "activation"> {
  let summary = "an activation function";
  let description = [{
    `relu`: `max(x, 0)`; `silu`: `x · σ(x)`; `gelu`: the exact form
    `0.5 · x · (1 + erf(x / √2))`; `gelu_tanh`: the tanh approximation
    `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (Hugging Face
    `gelu_new` and `gelu_pytorch_tanh`); `none`: the identity.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Attn_WeightLayout : I32EnumAttr<"WeightLayout", "layout of a linear weight", [
  I32EnumAttrCase<"out_in", 0>,
  I32EnumAttrCase<"in_out", 1>,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_WeightLayoutAttr : EnumAttr<Attn_Dialect, Attn_WeightLayout, "layout"> {
  let summary = "how a linear layer's weight is stored";
  let description = [{
    `out_in`: `[N, K]`, `y = x·Wᵀ` (PyTorch `nn.Linear`); `in_out`: `[K, N]`,
    `y = x·W` (GPT-2's `Conv1D`).
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Attn_RopeScaling : I32EnumAttr<"RopeScaling", "RoPE frequency scaling", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"linear", 1>,
  I32EnumAttrCase<"llama3", 2>,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_RopeScalingAttr : EnumAttr<Attn_Dialect, Attn_RopeScaling, "rope_scaling"> {
  let summary = "how RoPE frequencies are rescaled for long contexts";
  let description = [{
    As Hugging Face's `rope_scaling` types: `linear` divides every inverse
    frequency by `factor`; `llama3` keeps high frequencies, divides low
    ones by `factor` and interpolates between (`low_freq_factor`,
    `high_freq_factor`, `original_max_positions`).
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Attn_GemmScheduleAttr : Attn_Attr<"GemmSchedule", "gemm_schedule"> {
  let summary = "tiling and register blocking of a dense layer";
  let description = [{
    Chosen by `--attn-select-schedule` for `attn.linear` and only read by
    its lowering. `C[M, N] = A[M, K] · B[K, N]` is computed per column
    block of `tile_n` outputs and group of rows (the rows split into
    `m_groups` groups; default 1): one parallel iteration each. An
    iteration walks `K` in blocks of `tile_k` and, per block, its rows in
    tiles of `tile_m`, keeping `rows` rows × `vecs` vectors of
    `vector_width` columns in registers. B (the weight) is packed into
    panels of `vecs · vector_width` columns first.

    Constraints: `tile_n` is a multiple of `vecs · vector_width` and
    `tile_m` of `rows`.

    ```mlir
    #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2,
                        tile_m = 96, tile_n = 256, tile_k = 256>
    ```
  }];
  let parameters = (ins "int64_t":$vector_width, "int64_t":$rows,
                        "int64_t":$vecs, "int64_t":$tile_m,
                        "int64_t":$tile_n, "int64_t":$tile_k,
                        DefaultValuedParameter<"int64_t", "1">:$m_groups);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getPanelWidth() const { return getVecs() * getVectorWidth(); }
  }];
}

#endif // ATTN_ATTNATTRS_TD
