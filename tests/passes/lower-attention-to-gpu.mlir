// RUN: attn-opt %s --attn-lower-attention-to-gpu --canonicalize --split-input-file | FileCheck %s

// GQA with f16 K/V under a causal mask: the op becomes a call of a private
// GPU host function of its buffers, which copies the inputs to the device,
// launches one block of tile_q threads per (batch, query head, query tile)
// with the shared-memory layout of passes/ScheduleHeuristics.cpp
// (Q 32 x 17, K 16 x 16, V 16 x 8, scores 32 x 17, key scales 16: 5952
// bytes), and copies the output back. The kv loop is FlashTiling's: full
// tiles without a mask, boundary tiles with the row's visible keys; each
// tile is loaded between two barriers, widened to f32.
// CHECK-LABEL: func.func private @small_sdpa_gpu0
//  CHECK-SAME:     (%[[Q:.+]]: memref<1x2x40x16xf32>, %[[K:.+]]: memref<1x1x50x16xf16>, %[[V:.+]]: memref<1x1x50x8xf16>, %[[O:.+]]: memref<1x2x40x8xf32>)
//  CHECK-SAME:     attributes {attn.gpu_host}
//       CHECK:   %[[T0:.+]] = gpu.wait async
//       CHECK:   %[[DQ:.+]], %[[T1:.+]] = gpu.alloc async [%[[T0]]] () : memref<1x2x40x16xf32>
//       CHECK:   %[[T2:.+]] = gpu.memcpy async [%[[T1]]] %[[DQ]], %[[Q]]
//       CHECK:   %[[DK:.+]], %{{.+}} = gpu.alloc async
//       CHECK:   gpu.memcpy async [%{{.+}}] %[[DK]], %[[K]]
//       CHECK:   %[[DV:.+]], %{{.+}} = gpu.alloc async
//       CHECK:   gpu.memcpy async [%{{.+}}] %[[DV]], %[[V]]
//       CHECK:   %[[DO:.+]], %[[TO:.+]] = gpu.alloc async [%{{.+}}] () : memref<1x2x40x8xf32>
//       CHECK:   %[[TL:.+]] = gpu.launch async [%[[TO]]] blocks(%{{[^)]+}}) in (%{{[^ ]+}} = %c4, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1)
//  CHECK-SAME:       threads(%[[TX:[^,]+]], %{{[^)]+}}) in (%{{[^ ]+}} = %c32, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1)
//  CHECK-SAME:       dynamic_shared_memory_size %c5952_i32 module(@attn_kernels) function(@small_sdpa_gpu0_kernel)
//  CHECK-SAME:       private(%[[ACC:.+]] : memref<8xf32, #gpu.address_space<private>>, %[[STATS:.+]] : memref<2xf32, #gpu.address_space<private>>)
//       CHECK:     %[[SMEM:.+]] = gpu.dynamic_shared_memory
//       CHECK:     %[[QS:.+]] = memref.view %[[SMEM]][%c0][] {{.+}} to memref<32x17xf32, #gpu.address_space<workgroup>>
//       CHECK:     %[[KS:.+]] = memref.view %[[SMEM]][%c2176][] {{.+}} to memref<16x16xf32, #gpu.address_space<workgroup>>
//       CHECK:     %[[VS:.+]] = memref.view %[[SMEM]][%c3200][] {{.+}} to memref<16x8xf32, #gpu.address_space<workgroup>>
//       CHECK:     %[[SS:.+]] = memref.view %[[SMEM]][%c3712][] {{.+}} to memref<32x17xf32, #gpu.address_space<workgroup>>
//       CHECK:     scf.for %[[D:.+]] = %c0 to %c16
//       CHECK:       memref.load %[[DQ]]
//       CHECK:       arith.mulf %{{.+}}, %cst
//       CHECK:       memref.store %{{.+}}, %[[QS]][%[[TX]], %[[D]]]
//       CHECK:     scf.for %[[T:.+]] =
//       CHECK:       scf.if
//       CHECK:         gpu.barrier
//       CHECK:         scf.for %[[I:.+]] = %[[TX]] to %c256 step %c32
//       CHECK:           memref.load %[[DK]]
//       CHECK:           arith.extf %{{.+}} : f16 to f32
//       CHECK:           memref.store %{{.+}}, %[[KS]]
//       CHECK:         scf.for %{{.+}} = %[[TX]] to %c128 step %c32
//       CHECK:           memref.load %[[DV]]
//       CHECK:           memref.store %{{.+}}, %[[VS]]
//       CHECK:         gpu.barrier
//       CHECK:         scf.for {{.+}} iter_args(%[[MAX:.+]] = %cst{{.*}}) -> (f32)
//       CHECK:           math.fma
//   CHECK-NOT:           arith.select
//       CHECK:           memref.store %{{.+}}, %[[SS]][%[[TX]],
//       CHECK:           arith.maximumf
//       CHECK:         math.exp2
//       CHECK:         vector.load %[[ACC]][%c0] {{.+}} vector<8xf32>
//       CHECK:         scf.for {{.+}} -> (vector<8xf32>, f32)
//       CHECK:           memref.load %[[SS]]
//       CHECK:           math.exp2
//       CHECK:           vector.load %[[VS]]
//       CHECK:           vector.fma
//       CHECK:         vector.store %{{.+}}, %[[ACC]]
//       CHECK:         memref.store %{{.+}}, %[[STATS]][%c0]
//       CHECK:       } else {
//       CHECK:         gpu.barrier
//       CHECK:         gpu.barrier
//       CHECK:         scf.for
//       CHECK:           math.fma
//       CHECK:           arith.cmpi slt
//       CHECK:           arith.select
//       CHECK:     arith.cmpi ult, %[[TX]]
//       CHECK:     scf.if
//       CHECK:       arith.divf
//       CHECK:       vector.store %{{.+}}, %[[DO]]
//       CHECK:     gpu.terminator
//       CHECK:   %[[TC:.+]] = gpu.memcpy async [%[[TL]]] %[[O]], %[[DO]]
//       CHECK:   gpu.dealloc async
//       CHECK:   gpu.dealloc async
//       CHECK:   gpu.dealloc async
//       CHECK:   %[[TD:.+]] = gpu.dealloc async [%{{.+}}] %[[DO]]
//       CHECK:   gpu.wait [%[[TD]]]
// CHECK-LABEL: func.func @small
//       CHECK:   %[[BQ:.+]] = bufferization.to_buffer %arg0 read_only
//       CHECK:   %[[BK:.+]] = bufferization.to_buffer %arg1 read_only
//       CHECK:   %[[BV:.+]] = bufferization.to_buffer %arg2 read_only
//       CHECK:   %[[BO:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x40x8xf32>
//       CHECK:   call @small_sdpa_gpu0(%[[BQ]], %[[BK]], %[[BV]], %[[BO]])
//       CHECK:   bufferization.to_tensor %[[BO]]
func.func @small(%q: tensor<1x2x40x16xf32>, %k: tensor<1x1x50x16xf16>,
                 %v: tensor<1x1x50x8xf16>) -> tensor<1x2x40x8xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>,
      schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 1,
                                qk_keys = 1, qk_qvecs = 1, pv_rows = 1, pv_vecs = 1>}
      : tensor<1x2x40x16xf32>, tensor<1x1x50x16xf16>, tensor<1x1x50x8xf16>
      -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}

// -----

// Modifiers apply to one-lane vectors after the dot product: the bias read
// at the thread's query row and the key (clamped), ALiBi from the exact
// relative position, softcap through tanh. The lse is copied back too.
// Segment ids cross once when there are no q_segments.
// CHECK-LABEL: func.func private @modifiers_lse_sdpa_gpu0
//  CHECK-SAME:     %[[SEG:[^:]+]]: memref<1x64xi32>, %[[B:[^:]+]]: memref<1x2x64x64xf32>, %[[O:[^:]+]]: memref<1x2x64x32xf32>, %[[L:[^:]+]]: memref<1x2x64xf32>)
//       CHECK:   %[[DSEG:.+]], %{{.+}} = gpu.alloc async {{.+}} : memref<1x64xi32>
//   CHECK-NOT:   gpu.alloc async {{.+}} : memref<1x64xi32>
//       CHECK:   %[[DB:.+]], %{{.+}} = gpu.alloc async {{.+}} : memref<1x2x64x64xf32>
//       CHECK:   %[[DL:.+]], %{{.+}} = gpu.alloc async {{.+}} : memref<1x2x64xf32>
//       CHECK:   gpu.launch
//       CHECK:     scf.while
//       CHECK:       memref.load %[[DSEG]]
//       CHECK:     scf.for
//       CHECK:         scf.for
//       CHECK:           math.fma
//       CHECK:         memref.load %[[DB]]
//       CHECK:         vector.broadcast %{{.+}} : f32 to vector<1xf32>
//       CHECK:         math.fma %{{.+}} : vector<1xf32>
//       CHECK:         arith.sitofp
//       CHECK:         math.tanh %{{.+}} : vector<1xf32>
//       CHECK:         vector.extract %{{.+}}[0] : f32 from vector<1xf32>
//       CHECK:     math.log2
//       CHECK:     memref.store %{{.+}}, %[[DL]]
//       CHECK:   gpu.memcpy async [%{{.+}}] %[[O]],
//       CHECK:   gpu.memcpy async [%{{.+}}] %[[L]], %[[DL]]
//       CHECK:   gpu.wait [
func.func @modifiers_lse(%q: tensor<1x2x64x32xf32>, %k: tensor<1x1x64x32xf32>,
                         %v: tensor<1x1x64x32xf32>, %b: tensor<1x2x64x64xf32>,
                         %seg: tensor<1x64xi32>)
    -> (tensor<1x2x64x32xf32>, tensor<1x2x64xf32>) {
  %o, %lse = attn.sdpa %q, %k, %v kv_segments(%seg : tensor<1x64xi32>)
      bias(%b : tensor<1x2x64x64xf32>)
      {modifiers = [#attn.bias, #attn.alibi<[0.5, 0.25]>, #attn.softcap<30.0>],
       schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 1,
                                 qk_keys = 1, qk_qvecs = 1, pv_rows = 1, pv_vecs = 1>}
      : tensor<1x2x64x32xf32>, tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32>
      -> tensor<1x2x64x32xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x32xf32>, tensor<1x2x64xf32>
}

// -----

// bf16 query, key and value with head dims that are multiples of 16: the
// tensor-core kernel. 2 · tile_q threads (a warp per 16 query rows); 16-bit
// Q, K and V tiles with rows padded by 8 (Q 32 x 24, K and V 16 x 24: 3072
// bytes); per thread an accumulator of Dv / 2 floats, 4 statistics and the
// first key of the prefetched K tile. Q
// arrives by cp.async before the kv loop and stays in registers (ldmatrix);
// each kv tile copies K unless it was prefetched, waits, copies V, runs
// Q · Kᵀ on mma.sync, reduces the row max over 4 lanes, rounds P to bf16,
// waits for V, prefetches the next K and runs P · V on V fragments read by
// ldmatrix.trans. After the loop the block waits for its copies (a
// prefetch of a tile the loop skipped); rows are stored as bf16 pairs.
// CHECK-LABEL: func.func private @tensor_cores_sdpa_gpu0
//       CHECK:   gpu.alloc async {{.+}} : memref<1x1x50x16xbf16>
//       CHECK:   gpu.alloc async {{.+}} : memref<1x1x50x16xbf16>
//       CHECK:   %[[DO:.+]], %[[TO:.+]] = gpu.alloc async [%{{.+}}] () : memref<1x2x40x16xbf16>
//       CHECK:   gpu.launch async [%[[TO]]] blocks(%{{[^)]+}}) in (%{{[^ ]+}} = %c4, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1)
//  CHECK-SAME:       threads(%{{[^)]+}}) in (%{{[^ ]+}} = %c64, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1)
//  CHECK-SAME:       dynamic_shared_memory_size %c3072_i32
//  CHECK-SAME:       private(%[[ACC:.+]] : memref<8xf32, #gpu.address_space<private>>, %{{.+}} : memref<4xf32, #gpu.address_space<private>>, %{{.+}} : memref<1xi32, #gpu.address_space<private>>)
//       CHECK:     %[[QS:.+]] = memref.view %{{.+}}[%c0][] {{.+}} to memref<32x24xbf16, #gpu.address_space<workgroup>>
//       CHECK:     %[[KS:.+]] = memref.view %{{.+}}[%c1536][] {{.+}} to memref<16x24xbf16, #gpu.address_space<workgroup>>
//       CHECK:     %[[VS:.+]] = memref.view %{{.+}}[%c2304][] {{.+}} to memref<16x24xbf16, #gpu.address_space<workgroup>>
//       CHECK:     nvgpu.device_async_copy %{{.+}}, %[[QS]][{{.+}}], 8 {bypassL1}
//       CHECK:     %[[QG:.+]] = nvgpu.device_async_create_group
//       CHECK:     nvgpu.device_async_wait %[[QG]] {numGroups = 0 : i32}
//       CHECK:     gpu.barrier
//       CHECK:     %[[QF:.+]] = nvgpu.ldmatrix %[[QS]][{{.+}}] {numTiles = 4 : i32, transpose = false} {{.+}} -> vector<4x2xbf16>
//       CHECK:     scf.for
//       CHECK:       scf.if
//       CHECK:         arith.cmpi ne
//       CHECK:         scf.if
//       CHECK:           nvgpu.device_async_wait
//       CHECK:           nvgpu.device_async_copy %{{.+}}, %[[KS]]
//       CHECK:           nvgpu.device_async_create_group
//       CHECK:         }
//       CHECK:         %[[KG:.+]] = nvgpu.device_async_create_group
//       CHECK:         nvgpu.device_async_wait %[[KG]] {numGroups = 0 : i32}
//       CHECK:         gpu.barrier
//       CHECK:         nvgpu.device_async_copy %{{.+}}, %[[VS]]
//       CHECK:         %[[VG:.+]] = nvgpu.device_async_create_group
//       CHECK:         nvgpu.ldmatrix %[[KS]][{{.+}}] {numTiles = 4 : i32, transpose = false}
//       CHECK:         nvgpu.mma.sync(%[[QF]], %{{.+}}, %{{.+}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
//       CHECK:         nvgpu.mma.sync(%[[QF]],
//   CHECK-NOT:         arith.select
//       CHECK:         gpu.shuffle  xor %{{.+}}, %c1_i32, %c32_i32 : f32
//       CHECK:         gpu.shuffle  xor %{{.+}}, %c2_i32, %c32_i32 : f32
//       CHECK:         math.exp2 %{{.+}} : vector<2xf32>
//       CHECK:         arith.truncf %{{.+}} : vector<2xf32> to vector<2xbf16>
//       CHECK:         nvgpu.device_async_wait %[[VG]] {numGroups = 0 : i32}
//       CHECK:         gpu.barrier
//       CHECK:         scf.if
//       CHECK:           nvgpu.device_async_copy %{{.+}}, %[[KS]]
//       CHECK:           memref.store
//       CHECK:         nvgpu.ldmatrix %[[VS]][{{.+}}] {numTiles = 4 : i32, transpose = true}
//       CHECK:         nvgpu.mma.sync
//       CHECK:         vector.store %{{.+}}, %[[ACC]]
//       CHECK:       } else {
//       CHECK:         nvgpu.mma.sync
//       CHECK:         arith.select
//       CHECK:         nvgpu.ldmatrix %[[VS]]
//       CHECK:     %[[LAST:.+]] = nvgpu.device_async_create_group
//  CHECK-NEXT:     nvgpu.device_async_wait %[[LAST]] {numGroups = 0 : i32}
//       CHECK:     gpu.shuffle  xor
//       CHECK:     scf.if
//       CHECK:       arith.truncf %{{.+}} : vector<2xf32> to vector<2xbf16>
//       CHECK:       vector.store %{{.+}}, %[[DO]][{{.+}}] : memref<1x2x40x16xbf16>, vector<2xbf16>
func.func @tensor_cores(%q: tensor<1x2x40x16xbf16>, %k: tensor<1x1x50x16xbf16>,
                        %v: tensor<1x1x50x16xbf16>) -> tensor<1x2x40x16xbf16> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>,
      schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 1,
                                qk_keys = 1, qk_qvecs = 1, pv_rows = 1, pv_vecs = 1>}
      : tensor<1x2x40x16xbf16>, tensor<1x1x50x16xbf16>, tensor<1x1x50x16xbf16>
      -> tensor<1x2x40x16xbf16>
  return %o : tensor<1x2x40x16xbf16>
}

// -----

// Split-KV decode with packed heads: the 2 query heads of the key/value
// head share a tile (tile row r is head r % 2), each of the 3 kv chunks
// (one block each) writes f32 partial rows and lse to device buffers
// [3, 1, 2, 1, 8] and [3, 1, 2, 1], and a second kernel (a thread per
// output element, 16 of them in one 128-thread block) merges them into
// out and lse before they are copied back.
// CHECK-LABEL: func.func private @split_decode_sdpa_gpu0
//       CHECK:   %[[PO:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<3x1x2x1x8xf32>
//       CHECK:   %[[PL:.+]], %{{.+}} = gpu.alloc async [%{{.+}}] () : memref<3x1x2x1xf32>
//       CHECK:   gpu.launch async {{.+}} in (%{{[^ ]+}} = %c3, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1)
//  CHECK-SAME:       function(@split_decode_sdpa_gpu0_kernel)
//       CHECK:     arith.remui %{{.+}}, %c2
//       CHECK:     vector.store %{{.+}}, %[[PO]][
//       CHECK:     memref.store %{{.+}}, %[[PL]][
//       CHECK:   %[[FO:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1, 2, 3]] : memref<1x2x1x8xf32> into memref<16xf32>
//       CHECK:   %[[FL:.+]] = memref.collapse_shape %{{.+}} : memref<1x2x1xf32> into memref<2xf32>
//       CHECK:   %[[FPO:.+]] = memref.collapse_shape %[[PO]] {{.+}} into memref<48xf32>
//       CHECK:   %[[FPL:.+]] = memref.collapse_shape %[[PL]] {{.+}} into memref<6xf32>
//       CHECK:   gpu.launch async {{.+}} in (%{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1, %{{[^ ]+}} = %c1) threads({{.+}}) in (%{{[^ ]+}} = %c128,
//  CHECK-SAME:       function(@split_decode_sdpa_gpu0_merge)
//       CHECK:     scf.if
//       CHECK:       scf.for {{.+}} -> (f32)
//       CHECK:         memref.load %[[FPL]]
//       CHECK:         arith.maximumf
//       CHECK:       scf.for {{.+}} -> (f32)
//       CHECK:         math.exp
//       CHECK:       scf.for {{.+}} -> (f32)
//       CHECK:         memref.load %[[FPO]]
//       CHECK:         math.fma
//       CHECK:       memref.store %{{.+}}, %[[FO]]
//       CHECK:       scf.if
//       CHECK:         math.log
//       CHECK:         memref.store %{{.+}}, %[[FL]]
//       CHECK:   gpu.memcpy
//       CHECK:   gpu.memcpy
func.func @split_decode(%q: tensor<1x2x1x8xf32>, %k: tensor<1x1x96x8xf32>, %v: tensor<1x1x96x8xf32>) -> (tensor<1x2x1x8xf32>, tensor<1x2x1xf32>) {
  %o, %lse = attn.sdpa %q, %k, %v {with_lse, schedule = #attn.schedule<tile_q = 32, tile_kv = 32, vector_width = 1, qk_keys = 1, qk_qvecs = 1, pv_rows = 1, pv_vecs = 1, heads_per_tile = 2, kv_splits = 3>} : tensor<1x2x1x8xf32>, tensor<1x1x96x8xf32>, tensor<1x1x96x8xf32> -> tensor<1x2x1x8xf32>, tensor<1x2x1xf32>
  return %o, %lse : tensor<1x2x1x8xf32>, tensor<1x2x1xf32>
}
