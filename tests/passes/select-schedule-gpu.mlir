// RUN: attn-opt %s --split-input-file --attn-select-schedule="gpu-arch=sm_90" | FileCheck %s
// RUN: attn-opt %s --split-input-file --attn-select-schedule="gpu-arch=sm_86" | FileCheck %s --check-prefix=SM86

// attn.sdpa for the GPU kernel: 64 threads (query rows) per block, 32 keys
// per tile, no CPU blocking; a dense layer keeps its CPU schedule (it runs
// on the host).
// CHECK-LABEL: func.func @prefill
//       CHECK:   attn.linear {{.+}}schedule = #attn.gemm_schedule<
//       CHECK:   schedule = #attn.schedule<tile_q = 64, tile_kv = 32, vector_width = 1, qk_keys = 1, qk_qvecs = 1, pv_rows = 1, pv_vecs = 1>
func.func @prefill(%x: tensor<512x128xf32>, %w: tensor<128x128xf32>,
                   %q: tensor<1x8x1024x128xf32>, %k: tensor<1x8x1024x128xf32>,
                   %v: tensor<1x8x1024x128xf32>)
    -> (tensor<512x128xf32>, tensor<1x8x1024x128xf32>) {
  %y = attn.linear %x, %w : tensor<512x128xf32>, tensor<128x128xf32> -> tensor<512x128xf32>
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x8x1024x128xf32>, tensor<1x8x1024x128xf32>, tensor<1x8x1024x128xf32> -> tensor<1x8x1024x128xf32>
  return %y, %o : tensor<512x128xf32>, tensor<1x8x1024x128xf32>
}

// -----

// At most 32 queries: one warp per block. Head dims 512 need 196 KiB of
// shared memory at 32 keys per tile, over sm_86's 99 KiB: 8 keys per tile
// (4 · (32 · 513 + 8 · 1024 + 32 · 9 + 8) = 99616 bytes) fit there. The 8
// blocks split the keys: 32 chunks of 4 tiles on sm_90; 21 on sm_86 (two
// blocks per SM).
// CHECK-LABEL: func.func @wide_decode
//       CHECK:   schedule = #attn.schedule<tile_q = 32, tile_kv = 32, {{.*}}, kv_splits = 32>
// SM86-LABEL: func.func @wide_decode
//       SM86:   schedule = #attn.schedule<tile_q = 32, tile_kv = 8, {{.*}}, kv_splits = 21>
func.func @wide_decode(%q: tensor<2x4x1x512xf32>, %k: tensor<2x4x4096x512xf32>,
                       %v: tensor<2x4x4096x512xf32>) -> tensor<2x4x1x512xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<2x4x1x512xf32>, tensor<2x4x4096x512xf32>, tensor<2x4x4096x512xf32> -> tensor<2x4x1x512xf32>
  return %o : tensor<2x4x1x512xf32>
}

// -----

// f16 (or bf16) query, key and value with head dims that are multiples of
// 16 take the tensor-core kernel: 64 query rows (4 warps), 64 keys per
// tile (Q, K, V at 2 · 64 · 136 bytes each: 52224 bytes); 16 rows for a
// single query (8 blocks: 4 chunks of 4 kv tiles). Mixed types, a head dim of 40 and cosine similarity stay on
// the SIMT kernel's tiles.
// CHECK-LABEL: func.func @tensor_cores
//       CHECK:   schedule = #attn.schedule<tile_q = 64, tile_kv = 64,
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, {{.*}}, kv_splits = 4>
//       CHECK:   schedule = #attn.schedule<tile_q = 64, tile_kv = 32,
//       CHECK:   schedule = #attn.schedule<tile_q = 64, tile_kv = 32,
//       CHECK:   schedule = #attn.schedule<tile_q = 64, tile_kv = 32,
func.func @tensor_cores(%q: tensor<1x8x1024x128xf16>, %k: tensor<1x8x1024x128xf16>,
                        %q1: tensor<1x8x1x128xbf16>, %k1: tensor<1x8x1024x128xbf16>,
                        %k32: tensor<1x8x1024x128xf32>,
                        %q40: tensor<1x8x1024x40xf16>, %k40: tensor<1x8x1024x40xf16>)
    -> (tensor<1x8x1024x128xf16>, tensor<1x8x1x128xbf16>, tensor<1x8x1024x128xf16>,
        tensor<1x8x1024x40xf16>, tensor<1x8x1024x128xf16>) {
  %a = attn.sdpa %q, %k, %k : tensor<1x8x1024x128xf16>, tensor<1x8x1024x128xf16>, tensor<1x8x1024x128xf16> -> tensor<1x8x1024x128xf16>
  %b = attn.sdpa %q1, %k1, %k1 : tensor<1x8x1x128xbf16>, tensor<1x8x1024x128xbf16>, tensor<1x8x1024x128xbf16> -> tensor<1x8x1x128xbf16>
  %c = attn.sdpa %q, %k32, %k : tensor<1x8x1024x128xf16>, tensor<1x8x1024x128xf32>, tensor<1x8x1024x128xf16> -> tensor<1x8x1024x128xf16>
  %d = attn.sdpa %q40, %k40, %k40 : tensor<1x8x1024x40xf16>, tensor<1x8x1024x40xf16>, tensor<1x8x1024x40xf16> -> tensor<1x8x1024x40xf16>
  %e = attn.sdpa %q, %k, %k {scale = 10.0 : f32, modifiers = [#attn.cosine]} : tensor<1x8x1024x128xf16>, tensor<1x8x1024x128xf16>, tensor<1x8x1024x128xf16> -> tensor<1x8x1024x128xf16>
  return %a, %b, %c, %d, %e : tensor<1x8x1024x128xf16>, tensor<1x8x1x128xbf16>, tensor<1x8x1024x128xf16>, tensor<1x8x1024x40xf16>, tensor<1x8x1024x128xf16>
}

// -----

// Decode with grouped-query attention on tensor cores: the 4 query heads of
// a key/value group share each K/V tile (4 rows of a 16-row tile), and the
// 8 blocks (B · Hkv) fill too few of the SMs (132 on sm_90, 84 on sm_86),
// so the 4096 keys split into 16 chunks of 4 kv tiles (128 blocks). ALiBi
// reads the head of each row: one head per tile, 32 blocks, 9 chunks on
// sm_90 (two blocks per SM) and 6 on sm_86. The f32 SIMT kernel packs the
// group too (tile_q 32, its smallest).
// CHECK-LABEL: func.func @gqa_decode
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, {{.*}}, heads_per_tile = 4, kv_splits = 16>
//       CHECK:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, {{.*}}, kv_splits = 9>
//       CHECK:   schedule = #attn.schedule<tile_q = 32, tile_kv = 32, {{.*}}, heads_per_tile = 4, kv_splits = 32>
// SM86-LABEL: func.func @gqa_decode
//       SM86:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, {{.*}}, heads_per_tile = 4, kv_splits = 16>
//       SM86:   schedule = #attn.schedule<tile_q = 16, tile_kv = 64, {{.*}}, kv_splits = 6>
func.func @gqa_decode(%q: tensor<1x32x1x128xf16>, %k: tensor<1x8x4096x128xf16>,
                      %q32: tensor<1x32x1x128xf32>, %k32: tensor<1x8x4096x128xf32>)
    -> (tensor<1x32x1x128xf16>, tensor<1x32x1x128xf16>, tensor<1x32x1x128xf32>) {
  %a = attn.sdpa %q, %k, %k : tensor<1x32x1x128xf16>, tensor<1x8x4096x128xf16>, tensor<1x8x4096x128xf16> -> tensor<1x32x1x128xf16>
  %b = attn.sdpa %q, %k, %k {modifiers = [#attn.alibi<[0.840896, 0.707107, 0.594604, 0.5, 0.420448, 0.353553, 0.297302, 0.25, 0.210224, 0.176777, 0.148651, 0.125, 0.105112, 0.0883883, 0.0743254, 0.0625, 0.052556, 0.0441942, 0.0371627, 0.03125, 0.026278, 0.0220971, 0.0185814, 0.015625, 0.013139, 0.0110485, 0.00929068, 0.0078125, 0.0065695, 0.00552427, 0.00464534, 0.00390625]>]} : tensor<1x32x1x128xf16>, tensor<1x8x4096x128xf16>, tensor<1x8x4096x128xf16> -> tensor<1x32x1x128xf16>
  %c = attn.sdpa %q32, %k32, %k32 : tensor<1x32x1x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32> -> tensor<1x32x1x128xf32>
  return %a, %b, %c : tensor<1x32x1x128xf16>, tensor<1x32x1x128xf16>, tensor<1x32x1x128xf32>
}
