// RUN: attn-opt %s --split-input-file --attn-emulate-gpu --canonicalize | FileCheck %s
// RUN: attn-opt %s --split-input-file --attn-emulate-gpu --attn-outline-parallel-loops | FileCheck %s --check-prefix=OUTLINE

// Host memory for device memory, and the launch as a cooperative loop over
// the block's threads, each walking the blocks with a barrier after each;
// the kernel's barriers are the same barrier, its shared memory one host
// buffer, its private memory allocas (memory spaces dropped).
// CHECK-LABEL: func.func @launch
//       CHECK:   %[[D:.+]] = memref.alloc() {alignment = 64 : i64} : memref<64xf32>
//       CHECK:   memref.copy %arg0, %[[D]]
//       CHECK:   %[[S:.+]] = memref.alloc() {alignment = 64 : i64} : memref<256xi8>
//       CHECK:   scf.parallel (%[[T:.+]]) = (%c0) to (%c32) step (%c1) {
//       CHECK:     %[[P:.+]] = memref.alloca() : memref<2xf32>
//       CHECK:     scf.for %[[B:.+]] = %c0 to %c2 step %c1 {
//       CHECK:       %[[V:.+]] = memref.view %[[S]][%c0][] : memref<256xi8> to memref<32xf32>
//       CHECK:       memref.load %[[D]][
//       CHECK:       memref.store %{{.+}}, %[[V]][%[[T]]] : memref<32xf32>
//       CHECK:       call @attnrt_cooperative_barrier()
//       CHECK:       memref.store %{{.+}}, %[[P]][%c0] : memref<2xf32>
//       CHECK:       memref.load %[[P]][%c0] : memref<2xf32>
//       CHECK:       call @attnrt_cooperative_barrier()
//       CHECK:     }
//       CHECK:   } {attn.cooperative}
//       CHECK:   memref.dealloc %[[S]]
//       CHECK:   memref.copy %[[D]], %arg0
//       CHECK:   memref.dealloc %[[D]]
//   CHECK-NOT:   gpu.
// OUTLINE: func.func private @launch_parallel_0(%{{.+}}: i64, %{{.+}}: i64, %{{.+}}: !llvm.ptr)
// OUTLINE:   call @attnrt_cooperative_barrier()
// OUTLINE: call @attnrt_cooperative_for(
func.func @launch(%host: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %bytes = arith.constant 256 : i32
  %t0 = gpu.wait async
  %d, %t1 = gpu.alloc async [%t0] () : memref<64xf32>
  %t2 = gpu.memcpy async [%t1] %d, %host : memref<64xf32>, memref<64xf32>
  %t3 = gpu.launch async [%t2] blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
      threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
      dynamic_shared_memory_size %bytes
      private(%p : memref<2xf32, #gpu.address_space<private>>) {
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %view = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32xf32, #gpu.address_space<workgroup>>
    %i = arith.muli %bx, %c32 : index
    %j = arith.addi %i, %tx : index
    %x = memref.load %d[%j] : memref<64xf32>
    memref.store %x, %view[%tx] : memref<32xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    memref.store %x, %p[%c0] : memref<2xf32, #gpu.address_space<private>>
    %y = memref.load %p[%c0] : memref<2xf32, #gpu.address_space<private>>
    memref.store %y, %d[%j] : memref<64xf32>
    gpu.terminator
  }
  %t4 = gpu.memcpy async [%t3] %host, %d : memref<64xf32>, memref<64xf32>
  %t5 = gpu.dealloc async [%t4] %d : memref<64xf32>
  gpu.wait [%t5]
  return
}

// -----

// Warp collectives exchange operands through a buffer of every thread's
// values (2 slots x threads x 12 f32) and addresses (2 x threads x 4),
// allocated before the threads start; each thread counts its collectives
// to use the slots in turn, with one barrier per collective. A shuffle
// reads the xor partner's value; ldmatrix reads, for each of its matrices
// and each of the 2 elements, the row that lane 8m + l / 4 addressed (at
// column 2 (l % 4) + h); mma.sync sums 16 products per output from the
// warp's fragments; cp.async becomes a copy of its 8 elements, its group
// and wait vanish.
// CHECK-LABEL: func.func @collectives
//       CHECK:   %[[VALS:.+]] = memref.alloca() : memref<2x32x12xf32>
//       CHECK:   %[[ADDR:.+]] = memref.alloca() : memref<2x32x4xindex>
//       CHECK:   scf.parallel (%[[T:.+]]) =
//       CHECK:     %[[N:.+]] = memref.alloca() : memref<1xindex>
//   CHECK-NOT:     nvgpu.
//       CHECK:     memref.store %{{.+}}, %[[VALS]][%{{.+}}, %[[T]], %c0]
//       CHECK:     call @attnrt_cooperative_barrier()
//       CHECK:     %[[P:.+]] = arith.xori %[[T]],
//       CHECK:     memref.load %[[VALS]][%{{.+}}, %[[P]], %c0]
//       CHECK:     memref.store %{{.+}}, %[[ADDR]][%{{.+}}, %[[T]], %c0]
//       CHECK:     memref.store %{{.+}}, %[[ADDR]][%{{.+}}, %[[T]], %c1]
//       CHECK:     call @attnrt_cooperative_barrier()
//       CHECK:     memref.load %[[ADDR]]
// CHECK-COUNT-8:     memref.load %{{.+}} : memref<16x24xf16>
//       CHECK:     arith.extf
//       CHECK:     memref.store %{{.+}}, %[[VALS]][%{{.+}}, %[[T]], %c11]
//       CHECK:     call @attnrt_cooperative_barrier()
//       CHECK:     scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args
//       CHECK:       memref.load %[[VALS]]
//       CHECK:       memref.load %[[VALS]]
//       CHECK:       math.fma
//       CHECK:     memref.load %arg0[%c0, %c7]
//       CHECK:     memref.store %{{.+}} : memref<16x24xf16>
//   CHECK-NOT:     nvgpu.
func.func @collectives(%g: memref<16x16xf16>, %out: memref<32x4xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %bytes = arith.constant 768 : i32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
      threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
      dynamic_shared_memory_size %bytes {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %one = arith.constant 1 : i32
    %width = arith.constant 32 : i32
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16x24xf16, #gpu.address_space<workgroup>>
    %f = arith.constant 1.0 : f32
    %s, %valid = gpu.shuffle xor %f, %one, %width : f32
    %row = arith.remui %tx, %c16 : index
    %a = nvgpu.ldmatrix %tile[%row, %c0] {numTiles = 4 : i32, transpose = false} : memref<16x24xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
    %b = arith.constant dense<1.0> : vector<2x2xf16>
    %acc = arith.constant dense<0.0> : vector<2x2xf32>
    %d = nvgpu.mma.sync (%a, %b, %acc) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
    %cp = nvgpu.device_async_copy %g[%c0, %c0], %tile[%c0, %c0], 8 : memref<16x16xf16> to memref<16x24xf16, #gpu.address_space<workgroup>>
    %group = nvgpu.device_async_create_group %cp
    nvgpu.device_async_wait %group
    %x = vector.extract %d[0, 0] : f32 from vector<2x2xf32>
    %y = arith.addf %x, %s : f32
    memref.store %y, %out[%tx, %c0] : memref<32x4xf32>
    gpu.terminator
  }
  return
}
