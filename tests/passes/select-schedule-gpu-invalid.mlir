// RUN: attn-opt %s --split-input-file --attn-select-schedule="gpu-arch=sm_86" --verify-diagnostics
// RUN: not attn-opt %s --attn-select-schedule="gpu-arch=sm_70" 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not attn-opt %s --attn-select-schedule="gpu-arch=sm_90 schedule=pv_rows=4" 2>&1 | FileCheck %s --check-prefix=CPUFIELD
// RUN: not attn-opt %s --attn-select-schedule="gpu-arch=sm_90 schedule=tile_q=48" 2>&1 | FileCheck %s --check-prefix=TILEQ
// RUN: not attn-opt %s --attn-select-schedule="gpu-arch=sm_89 schedule=tile_q=256" 2>&1 | FileCheck %s --check-prefix=BUDGET

// ARCH: error: unknown GPU architecture 'sm_70' (supported: sm_80, sm_86, sm_89, sm_90, sm_90a)
// CPUFIELD: error: 'attn.sdpa' op the cuda target's schedule has only tile_q, tile_kv, heads_per_tile and kv_splits; the other --schedule fields are for the CPU
// TILEQ: error: 'attn.sdpa' op schedule override does not fit this op on sm_90: tile_q (48) must be a multiple of 32 up to 1024 (one thread per query row)
// BUDGET: error: 'attn.sdpa' op schedule override does not fit this op on sm_89: tile_q = 256, tile_kv = 32 with head dims 64/64 need 116864 bytes of shared memory per block; sm_89 has 101376

func.func @fits(%q: tensor<1x1x128x64xf32>, %k: tensor<1x1x128x64xf32>, %v: tensor<1x1x128x64xf32>) -> tensor<1x1x128x64xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x1x128x64xf32>, tensor<1x1x128x64xf32>, tensor<1x1x128x64xf32> -> tensor<1x1x128x64xf32>
  return %o : tensor<1x1x128x64xf32>
}

// -----

// A head dim whose tile does not fit the shared memory even at 32 rows and
// 8 keys is an error at the op, not a failed launch.
func.func @too_wide(%q: tensor<1x1x16x1024xf32>, %k: tensor<1x1x64x1024xf32>, %v: tensor<1x1x64x1024xf32>) -> tensor<1x1x16x1024xf32> {
  // expected-error @+1 {{cannot run on sm_86: head dims 1024/1024 do not fit the shared memory of sm_86 (101376 bytes) even with 32 query rows and 8 keys per tile (197920 bytes)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x1x16x1024xf32>, tensor<1x1x64x1024xf32>, tensor<1x1x64x1024xf32> -> tensor<1x1x16x1024xf32>
  return %o : tensor<1x1x16x1024xf32>
}
