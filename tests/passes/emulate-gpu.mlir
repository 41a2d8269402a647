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
