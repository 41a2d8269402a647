// RUN: attn-opt %s --split-input-file --attn-select-schedule | FileCheck %s
// RUN: attn-opt %s --split-input-file --attn-select-schedule="vector-width=8 vector-registers=16" | FileCheck %s --check-prefix=AVX2

// Long sequences on AVX-512: 8 keys × 3 query vectors and 6 rows × 4 value
// vectors (24 accumulators each), 48 x 64 tiles. With 16 registers: 6 keys ×
// 2 query vectors and 2 rows × 4 value vectors.
// CHECK-LABEL: func.func @long_sequence
//       CHECK:   schedule = #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>
// AVX2-LABEL: func.func @long_sequence
//       AVX2:   schedule = #attn.schedule<tile_q = 16, tile_kv = 66, vector_width = 8, qk_keys = 6, qk_qvecs = 2, pv_rows = 2, pv_vecs = 4>
func.func @long_sequence(%q: tensor<1x8x2048x64xf32>, %k: tensor<1x8x2048x64xf32>,
                         %v: tensor<1x8x2048x64xf32>) -> tensor<1x8x2048x64xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32>, tensor<1x8x2048x64xf32> -> tensor<1x8x2048x64xf32>
  return %o : tensor<1x8x2048x64xf32>
}

// -----

// A short query sequence gets a one-vector query tile; its 5 rows fit one
// vector, so the score kernel prefetches and takes dot products, 2 keys × 8
// rows per block.
// CHECK-LABEL: func.func @short_queries
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 2, qk_qvecs = 1, pv_rows = 8, pv_vecs = 2, prefetch = 1, qk_dot = 1>
func.func @short_queries(%q: tensor<1x2x5x32xf32>, %k: tensor<1x2x500x32xf32>,
                         %v: tensor<1x2x500x32xf32>) -> tensor<1x2x5x32xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x2x5x32xf32>, tensor<1x2x500x32xf32>, tensor<1x2x500x32xf32> -> tensor<1x2x5x32xf32>
  return %o : tensor<1x2x5x32xf32>
}

// -----

// Decode with GQA: the 4 query heads of a K/V head share one query tile (one
// vector, 16 rows of which 4 are used on AVX-512 and 8 rows, 4 used, on AVX2),
// so K/V are read once per group. 8 head groups are too few parallel
// iterations: the 64 kv tiles are split in 2 chunks. The scores are dot
// products of 4 keys × the 4 rows (2 keys on AVX2).
// CHECK-LABEL: func.func @decode_gqa
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, heads_per_tile = 4, kv_splits = 2, prefetch = 1, qk_dot = 1>
// AVX2-LABEL: func.func @decode_gqa
//       AVX2:   qk_keys = 2, {{.*}} heads_per_tile = 4, kv_splits = 2, prefetch = 1, qk_dot = 1>
func.func @decode_gqa(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x4096x128xf32>,
                      %v: tensor<1x8x4096x128xf32>) -> tensor<1x32x1x128xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x32x1x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32> -> tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// MQA decode with 16 query rows: 8 heads × 4 rows = 32 rows, two vectors.
// One iteration would be one thread's work: 8 chunks of 8 kv tiles (and no
// prefetch: two query vectors per key).
// CHECK-LABEL: func.func @decode_mqa
//       CHECK:   heads_per_tile = 8, kv_splits = 8>
func.func @decode_mqa(%q: tensor<1x8x4x64xf32>, %k: tensor<1x1x4096x64xf32>,
                      %v: tensor<1x1x4096x64xf32>) -> tensor<1x8x4x64xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x8x4x64xf32>, tensor<1x1x4096x64xf32>, tensor<1x1x4096x64xf32> -> tensor<1x8x4x64xf32>
  return %o : tensor<1x8x4x64xf32>
}

// -----

// ALiBi reads each row's head, so its heads are not packed (4 iterations:
// 4 chunks of 8 kv tiles).
// CHECK-LABEL: func.func @decode_alibi
//   CHECK-NOT:   heads_per_tile
//       CHECK:   kv_splits = 4
func.func @decode_alibi(%q: tensor<1x4x1x64xf32>, %k: tensor<1x1x2048x64xf32>,
                        %v: tensor<1x1x2048x64xf32>) -> tensor<1x4x1x64xf32> {
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.alibi<[0.5, 0.25, 0.125, 0.0625]>]} : tensor<1x4x1x64xf32>, tensor<1x1x2048x64xf32>, tensor<1x1x2048x64xf32> -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// -----

// A value head dim of 40 narrows the vectors to 8 lanes (the widest dividing 40).
// CHECK-LABEL: func.func @odd_value_dim
//       CHECK:   vector_width = 8
func.func @odd_value_dim(%q: tensor<1x1x64x40xf32>, %k: tensor<1x1x64x40xf32>,
                         %v: tensor<1x1x64x40xf32>) -> tensor<1x1x64x40xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x1x64x40xf32>, tensor<1x1x64x40xf32>, tensor<1x1x64x40xf32> -> tensor<1x1x64x40xf32>
  return %o : tensor<1x1x64x40xf32>
}

// -----

// A hand-written schedule is kept as is.
// CHECK-LABEL: func.func @keeps_given_schedule
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 16, vector_width = 16, qk_keys = 2, qk_qvecs = 1, pv_rows = 2, pv_vecs = 1>
func.func @keeps_given_schedule(%q: tensor<1x1x64x16xf32>, %k: tensor<1x1x64x16xf32>,
                                %v: tensor<1x1x64x16xf32>) -> tensor<1x1x64x16xf32> {
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 16, vector_width = 16, qk_keys = 2, qk_qvecs = 1, pv_rows = 2, pv_vecs = 1>} : tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32> -> tensor<1x1x64x16xf32>
  return %o : tensor<1x1x64x16xf32>
}

// -----

// A user override replaces only the fields it names.
// RUN: attn-opt %s --split-input-file --attn-select-schedule="schedule=tile_kv=32,qk_keys=4" | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE-LABEL: func.func @overridden
//       OVERRIDE:   schedule = #attn.schedule<tile_q = 48, tile_kv = 32, vector_width = 16, qk_keys = 4, qk_qvecs = 3, pv_rows = 6, pv_vecs = 4>
func.func @overridden(%q: tensor<1x1x256x64xf32>, %k: tensor<1x1x256x64xf32>,
                      %v: tensor<1x1x256x64xf32>) -> tensor<1x1x256x64xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x256x64xf32>
  return %o : tensor<1x1x256x64xf32>
}

// -----

// Dense layers: 12 rows x 2 vectors (24 accumulators) on AVX-512, 6 x 2 on
// AVX2; 96-row, 256-column tiles over K blocks of a 24 KiB panel (192 or
// 384) at real layer sizes.
// CHECK-LABEL: func.func @linear_layer
//       CHECK:   schedule = #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 192>
// AVX2-LABEL: func.func @linear_layer
//       AVX2:   schedule = #attn.gemm_schedule<vector_width = 8, rows = 6, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 384>
func.func @linear_layer(%x: tensor<1x512x2048xf32>, %w: tensor<5632x2048xf32>) -> tensor<1x512x5632xf32> {
  %0 = attn.linear %x, %w : tensor<1x512x2048xf32>, tensor<5632x2048xf32> -> tensor<1x512x5632xf32>
  return %0 : tensor<1x512x5632xf32>
}

// -----

// A small layer: tiles shrink so that there are enough of them for the
// threads; K shorter than a block is one block.
// CHECK-LABEL: func.func @linear_small
//       CHECK:   schedule = #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2, tile_m = 24, tile_n = 32, tile_k = 64>
func.func @linear_small(%x: tensor<1x16x64xf32>, %w: tensor<64x64xf32>) -> tensor<1x16x64xf32> {
  %0 = attn.linear %x, %w : tensor<1x16x64xf32>, tensor<64x64xf32> -> tensor<1x16x64xf32>
  return %0 : tensor<1x16x64xf32>
}
