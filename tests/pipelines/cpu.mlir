// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s
// RUN: attn-opt %s --attn-cpu-loops-pipeline | FileCheck %s --check-prefix=LOOPS
// RUN: attn-opt %s --attn-cpu-loops-pipeline | attn-opt --attn-cpu-to-llvm-pipeline | FileCheck %s

// The whole CPU pipeline ends in LLVM dialect with the runtime entry point;
// nothing of attn, scf, vector or memref is left.
// CHECK-NOT:   attn.sdpa
// CHECK-NOT:   scf.
// CHECK-NOT:   memref.
// CHECK-NOT:   vector.
//     CHECK:   llvm.func internal @attn_m_parallel_0(%{{.+}}: i64, %{{.+}}: i64, %{{.+}}: !llvm.ptr)
//     CHECK:     llvm.intr.fma
// CHECK-NOT:     llvm.call @expf
//     CHECK:   llvm.func internal @attn_m(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
//     CHECK:     llvm.call @attnrt_parallel_for
//     CHECK:   llvm.func @attn_m_run_buffers
//     CHECK:   llvm.mlir.global external constant @attn_m_model

// The loops stage: buffers only, the output is an out-parameter written in
// place, and the kv loop is the only loop over keys.
// LOOPS-LABEL: func.func @attn_m
//  LOOPS-SAME:   %{{.+}}: memref<1x4x50x32xf32> {attn.name = "o"}) {
//   LOOPS-NOT:   tensor<
//       LOOPS:   scf.parallel
//       LOOPS:   memref.dealloc
//   LOOPS-NOT:   memref.copy
func.func @attn_m(%q: tensor<1x4x50x32xf32> {attn.name = "q"}, %k: tensor<1x2x70x32xf32> {attn.name = "k"},
                  %v: tensor<1x2x70x32xf32> {attn.name = "v"}) -> (tensor<1x4x50x32xf32> {attn.name = "o"}) {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x4x50x32xf32>, tensor<1x2x70x32xf32>, tensor<1x2x70x32xf32> -> tensor<1x4x50x32xf32>
  return %o : tensor<1x4x50x32xf32>
}
