// RUN: attn-opt %s --split-input-file --attn-select-schedule="report=true" --verify-diagnostics

// Causal 1024 x 1024 with 48-query x 64-key tiles: of the 22 x 16 tile pairs
// per head, 165 lie below the diagonal (full), 32 touch it (masked) and 155
// lie above it (skipped).
func.func @causal_report(%q: tensor<1x8x1024x64xf32>, %k: tensor<1x8x1024x64xf32>,
                         %v: tensor<1x8x1024x64xf32>) -> tensor<1x8x1024x64xf32> {
  // expected-remark @+1 {{attn.sdpa B=1 Hq=8 Hkv=8 Sq=1024 Skv=1024 D=64 Dv=64 mask=causal: #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>; 1074790400 FLOP; kv tiles per head: 165 full, 32 boundary, 155 skipped; working set 38016 B scratch per thread + 32768 B per K/V tile}}
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

// -----

// A causal window of 256 over 1024 tokens: each 48-row query tile sees at
// most 256 + 48 keys, so only 5-6 of the 16 kv tiles are live (105 of 352
// against 197 for plain causal): the cost grows with S · window, not S².
// FLOPs: 2 · 128 · (Σ_{i<256} (i + 1) + 768 · 257) = 58949632.
func.func @window_report(%q: tensor<1x1x1024x64xf32>, %k: tensor<1x1x1024x64xf32>,
                         %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x1024x64xf32> {
  // expected-remark @+1 {{mask=causal, window [256, 0]: #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>; 58949632 FLOP; kv tiles per head: 49 full, 56 boundary, 247 skipped}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal, window = [256, 0]>} : tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x1024x64xf32>
  return %o : tensor<1x1x1024x64xf32>
}

// -----

// Global tokens add kv ranges: 2 global keys keep tile 0 live for every
// query tile, and query tile 0 (holding the global rows) visits every tile.
// FLOPs: 2 · 128 · 131770 visible pairs (1024 rows × 129 window keys, less
// 4160 cut at the edges, plus 1917 for the global rows and 1917 for the
// global keys outside a row's window).
func.func @global_report(%q: tensor<1x1x1024x64xf32>, %k: tensor<1x1x1024x64xf32>,
                         %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x1024x64xf32> {
  // expected-remark @+1 {{mask=none, window [64, 64], 2 global: #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>; 33733120 FLOP; kv tiles per head: 12 full, 93 boundary, 247 skipped}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, window = [64, 64], global = [0, 1]>} : tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x1024x64xf32>
  return %o : tensor<1x1x1024x64xf32>
}

// -----

// Segments are run-time values: the counts are those of the static mask,
// and the report says so.
func.func @segments_report(%q: tensor<1x1x256x64xf32>, %k: tensor<1x1x256x64xf32>,
                           %v: tensor<1x1x256x64xf32>, %s: tensor<1x256xi32>) -> tensor<1x1x256x64xf32> {
  // expected-remark @+1 {{skipped (before run-time segments skip more; FLOPs count full lengths, one segment)}}
  %o = attn.sdpa %q, %k, %v kv_segments(%s : tensor<1x256xi32>) {mask = #attn.mask<causal>} : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x256x64xf32>
  return %o : tensor<1x1x256x64xf32>
}

// -----

func.func @linear_report(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>) -> tensor<4x32xf32> {
  // expected-remark @+1 {{attn.linear M=4 N=32 K=64: #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2, tile_m = 12, tile_n = 32, tile_k = 64>; 16384 FLOP; packed weight 8192 B}}
  %0 = attn.linear %x, %w : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
  return %0 : tensor<4x32xf32>
}

// -----

// Score modifiers (in order) and the lse result are listed.
func.func @modifiers_report(%q: tensor<1x1x64x32xf32>, %k: tensor<1x1x64x32xf32>,
                            %v: tensor<1x1x64x32xf32>, %b: tensor<1x1x64x64xf32>)
    -> (tensor<1x1x64x32xf32>, tensor<1x1x64xf32>) {
  // expected-remark @+1 {{mask=none scores=bias, alibi, softcap 30 +lse: #attn.schedule<}}
  %o, %lse = attn.sdpa %q, %k, %v bias(%b : tensor<1x1x64x64xf32>)
      {modifiers = [#attn.bias, #attn.alibi<[0.5]>, #attn.softcap<30.0>]}
      : tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32>
      -> tensor<1x1x64x32xf32>, tensor<1x1x64xf32>
  return %o, %lse : tensor<1x1x64x32xf32>, tensor<1x1x64xf32>
}
