// RUN: attn-opt %s --split-input-file --attn-deallocate-buffers --canonicalize | FileCheck %s

// Host functions get their buffers freed (ownership-based deallocation);
// GPU host functions are left as they are.
// CHECK-LABEL: func.func private @host_sdpa_gpu0
//   CHECK-NOT:   bufferization.dealloc
//       CHECK:   gpu.wait
// CHECK-LABEL: func.func @host
//       CHECK:   %[[A:.+]] = memref.alloc
//       CHECK:   call @host_sdpa_gpu0(%[[A]])
//       CHECK:   bufferization.dealloc (%[[A]] : {{.+}}) if (%true)
func.func private @host_sdpa_gpu0(%buf: memref<16xf32>) attributes {attn.gpu_host} {
  %t0 = gpu.wait async
  %d, %t1 = gpu.alloc async [%t0] () : memref<16xf32>
  %t2 = gpu.memcpy async [%t1] %d, %buf : memref<16xf32>, memref<16xf32>
  %t3 = gpu.dealloc async [%t2] %d : memref<16xf32>
  gpu.wait [%t3]
  return
}
func.func @host(%x: f32) -> f32 {
  %a = memref.alloc() : memref<16xf32>
  call @host_sdpa_gpu0(%a) : (memref<16xf32>) -> ()
  %c0 = arith.constant 0 : index
  %y = memref.load %a[%c0] : memref<16xf32>
  return %y : f32
}
