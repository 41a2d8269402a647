// RUN: attn-opt %s --split-input-file --attn-select-schedule="report=true" --verify-diagnostics

// Causal 1024 x 1024 with 48-query x 64-key tiles: of the 22 x 16 tile pairs
// per head, 165 lie below the diagonal (full), 32 touch it (masked) and 155
// lie above it (skipped).
func.func @causal_report(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x8x1024x64xf32>,
                         %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  // expected-remark @+1 {{attn.sdpa B=1 Hq=8 Hkv=8 Sq=1024 Skv=1024 D=64 Dv=64 mask=causal: #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>; 1074790400 FLOP; kv tiles per head: 165 full, 32 boundary, 155 skipped; working set 37440 B scratch per thread + 32768 B per K/V tile}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32> -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// -----

// No mask, 100 keys in 64-key tiles: for each of the 3 query tiles one full
// tile and the partial last one (masked), nothing skipped.
func.func @no_mask_report(%q: tensor<1x1x100x64xf32>, %k: tensor<1x1x100x64xf32>,
                          %v: tensor<1x1x100x64xf32>) -> tensor<1x1x100x64xf32> {
  // expected-remark @+1 {{kv tiles per head: 3 full, 3 boundary, 0 skipped}}
  %o = attn.sdpa %q, %k, %v : tensor<1x1x100x64xf32>, tensor<1x1x100x64xf32>, tensor<1x1x100x64xf32> -> tensor<1x1x100x64xf32>
  return %o : tensor<1x1x100x64xf32>
}

// -----

// Cross-attention with Sq > Skv (bottom-right causal): row i sees keys
// j <= i - 96, so query tiles 0 and 1 (rows 0-95) see no key and are
// skipped; tile 2 straddles the diagonal.
func.func @cross_causal_report(%q: tensor<1x1x128x16xf32>, %k: tensor<1x1x32x16xf32>,
                               %v: tensor<1x1x32x16xf32>) -> tensor<1x1x128x16xf32> {
  // expected-remark @+1 {{kv tiles per head: 0 full, 1 boundary, 2 skipped}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x1x128x16xf32>, tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32> -> tensor<1x1x128x16xf32>
  return %o : tensor<1x1x128x16xf32>
}
