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

    Constraints (checked by the op verifier): `tile_q` is a multiple of
    `qk_qvecs · vector_width` and of `pv_rows`; `tile_kv` is a multiple of
    `qk_keys`; the value head dim is a multiple of `pv_vecs · vector_width`.

    ```mlir
    #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16,
                   qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>
    ```
  }];
  let parameters = (ins "int64_t":$tile_q, "int64_t":$tile_kv,
                        "int64_t":$vector_width, "int64_t":$qk_keys,
                        "int64_t":$qk_qvecs, "int64_t":$pv_rows,
                        "int64_t":$pv_vecs);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_ATTNATTRS_TD
