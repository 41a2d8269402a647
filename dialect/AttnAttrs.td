//===- AttnAttrs.td - attn attributes ----------------------*- tablegen -*-===//
//
// #attn.mask (what is visible) and #attn.schedule (how to compute it).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_ATTNATTRS_TD
#define ATTN_ATTNATTRS_TD

include "dialect/AttnBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_MaskKind : I32EnumAttr<"MaskKind", "attention mask kind", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"causal", 1>,
]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}

def Attn_MaskAttr : Attn_Attr<"Mask", "mask"> {
  let summary = "which keys each query may attend to";
  let description = [{
    A structured mask, described by its kind rather than by a tensor, so that
    the lowering can compute for each query tile the first and last live
    key/value tile and whether a tile is fully visible (no mask arithmetic),
    partially visible (element mask) or fully masked (never visited).

    - `none`: every query sees every key.
    - `causal`: bottom-right aligned. With `Sq` queries and `Skv` keys, query
      `i` sees key `j` iff `j <= i + (Skv - Sq)`. For self-attention
      (`Sq == Skv`) this is the usual lower triangle; for `Sq < Skv` the
      queries are the last `Sq` positions of the sequence (decoding with a KV
      cache). Query rows that see no key produce zeros.

    The per-row visible range is always one contiguous interval `[begin, end)`
    whose ends never decrease with the row; this is what makes tile skipping
    a query on the attribute (`getKeyRange`). Window masks fit the same
    contract and will slot in as another kind.

    ```mlir
    %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : ...
    ```
  }];
  let parameters = (ins EnumParameter<Attn_MaskKind>:$kind);
  let assemblyFormat = "`<` $kind `>`";
  let extraClassDeclaration = [{
    /// The interval [begin, end) of keys visible to query `row`, for a
    /// problem with `sq` queries and `skv` keys (begin may equal end).
    std::pair<int64_t, int64_t> getKeyRange(int64_t row, int64_t sq,
                                            int64_t skv) const;
    /// The same computed in IR; `row` is an `index` or a vector of them.
    std::pair<::mlir::Value, ::mlir::Value>
    buildKeyRange(::mlir::OpBuilder &b, ::mlir::Location loc,
                  ::mlir::Value row, int64_t sq, int64_t skv) const;
    /// Number of visible (query, key) pairs of one head.
    int64_t countVisiblePairs(int64_t sq, int64_t skv) const;
    /// How the (query tile, kv tile) pairs of one head split between tiles
    /// computed without mask arithmetic, boundary tiles computed with an
    /// element mask, and tiles never visited. Mirrors the lowering.
    struct TileCounts { int64_t full = 0, boundary = 0, skipped = 0; };
    TileCounts countTiles(int64_t sq, int64_t skv, int64_t tileQ,
                          int64_t tileKv) const;
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
