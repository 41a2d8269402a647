// RUN: attn-opt %s --split-input-file --attn-select-schedule="report=true" --verify-diagnostics

// Causal 1024 x 1024 with 64 x 64 tiles: of the 16 x 16 tile pairs per head,
// 120 lie below the diagonal (full), 16 on it (masked), 120 above (skipped).
func.func @causal_report(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x8x1024x64xf32>,
                         %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  // expected-remark @+1 {{attn.sdpa B=1 Hq=8 Hkv=8 Sq=1024 Skv=1024 D=64 Dv=64 mask=causal: #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>; 1074790400 FLOP; kv tiles per head: 120 full, 16 boundary, 120 skipped; working set 49920 B scratch per thread + 32768 B per K/V tile}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32> -> tensor<1x8x1024x64xf32>
  return %o : tensor<1x8x1024x64xf32>
}

// -----

// No mask, 100 keys in 64-key tiles: per query tile one full tile and the
// partial last one (masked), nothing skipped.
func.func @no_mask_report(%q: tensor<1x1x100x64xf32>, %k: tensor<1x1x100x64xf32>,
                          %v: tensor<1x1x100x64xf32>) -> tensor<1x1x100x64xf32> {
  // expected-remark @+1 {{kv tiles per head: 2 full, 2 boundary, 0 skipped}}
  %o = attn.sdpa %q, %k, %v : tensor<1x1x100x64xf32>, tensor<1x1x100x64xf32>, tensor<1x1x100x64xf32> -> tensor<1x1x100x64xf32>
  return %o : tensor<1x1x100x64xf32>
}

// -----

// Cross-attention with Sq > Skv (bottom-right causal): query tile 0 (rows
// 0-63) sees no key and is skipped; tile 1 straddles the diagonal.
func.func @cross_causal_report(%q: tensor<1x1x128x16xf32>, %k: tensor<1x1x32x16xf32>,
                               %v: tensor<1x1x32x16xf32>) -> tensor<1x1x128x16xf32> {
  // expected-remark @+1 {{kv tiles per head: 0 full, 1 boundary, 1 skipped}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x1x128x16xf32>, tensor<1x1x32x16xf32>, tensor<1x1x32x16xf32> -> tensor<1x1x128x16xf32>
  return %o : tensor<1x1x128x16xf32>
}
