// DEFINE: %{not_left} = --implicit-check-not=attn. --implicit-check-not=' scf.' --implicit-check-not=' memref.' --implicit-check-not=' vector.' --implicit-check-not=' math.' --implicit-check-not=@expf --implicit-check-not=@exp2f
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s %{not_left}
// RUN: attn-opt %s --attn-cpu-loops-pipeline | FileCheck %s --check-prefix=LOOPS
// RUN: attn-opt %s --attn-cpu-loops-pipeline | attn-opt --attn-cpu-to-llvm-pipeline | FileCheck %s %{not_left}

// The whole CPU pipeline ends in LLVM dialect with the runtime entry point:
// nothing of attn, scf, vector, memref or math is left anywhere in the
// output (the implicit CHECK-NOTs cover all of it), and exp2 is the
// polynomial of --attn-approximate-math, not a libm call: clamp to
// [-127, 127], round by the magic-number add, a degree-5 Horner chain in
// the reduced argument, 2^k from the shifted bits.
//       CHECK:   llvm.func internal @attn_m_parallel_0(%{{.+}}: i64, %{{.+}}: i64, %{{.+}}: !llvm.ptr)
//   CHECK-DAG:     %[[C23:.+]] = llvm.mlir.constant(dense<23> : vector<16xi32>)
//   CHECK-DAG:     %[[C0:.+]] = llvm.mlir.constant(dense<1.000000e+00> : vector<16xf32>)
//   CHECK-DAG:     %[[C1:.+]] = llvm.mlir.constant(dense<6.931470e-01> : vector<16xf32>)
//   CHECK-DAG:     %[[C2:.+]] = llvm.mlir.constant(dense<0.240222424> : vector<16xf32>)
//   CHECK-DAG:     %[[C3:.+]] = llvm.mlir.constant(dense<0.0555073358> : vector<16xf32>)
//   CHECK-DAG:     %[[C4:.+]] = llvm.mlir.constant(dense<0.00967150647> : vector<16xf32>)
//   CHECK-DAG:     %[[C5:.+]] = llvm.mlir.constant(dense<0.00132647064> : vector<16xf32>)
//   CHECK-DAG:     %[[MAGIC:.+]] = llvm.mlir.constant(dense<0x4B40007F> : vector<16xf32>)
//   CHECK-DAG:     %[[HI:.+]] = llvm.mlir.constant(dense<1.270000e+02> : vector<16xf32>)
//   CHECK-DAG:     %[[LO:.+]] = llvm.mlir.constant(dense<-1.270000e+02> : vector<16xf32>)
// The score kernel's FMAs, then the softmax update's exp2(S - m).
//       CHECK:     llvm.intr.fma
//       CHECK:     %[[X:.+]] = llvm.fsub
//  CHECK-NEXT:     %[[A:.+]] = llvm.intr.maximum(%[[X]], %[[LO]])
//  CHECK-NEXT:     %[[B:.+]] = llvm.intr.minimum(%[[A]], %[[HI]])
//  CHECK-NEXT:     %[[T:.+]] = llvm.fadd %[[B]], %[[MAGIC]]
//  CHECK-NEXT:     %[[K:.+]] = llvm.fsub %[[T]], %[[MAGIC]]
//  CHECK-NEXT:     %[[F:.+]] = llvm.fsub %[[B]], %[[K]]
//  CHECK-NEXT:     %[[P4:.+]] = llvm.intr.fma(%[[C5]], %[[F]], %[[C4]])
//  CHECK-NEXT:     %[[P3:.+]] = llvm.intr.fma(%[[P4]], %[[F]], %[[C3]])
//  CHECK-NEXT:     %[[P2:.+]] = llvm.intr.fma(%[[P3]], %[[F]], %[[C2]])
//  CHECK-NEXT:     %[[P1:.+]] = llvm.intr.fma(%[[P2]], %[[F]], %[[C1]])
//  CHECK-NEXT:     %[[P0:.+]] = llvm.intr.fma(%[[P1]], %[[F]], %[[C0]])
//  CHECK-NEXT:     %[[BITS:.+]] = llvm.bitcast %[[T]] : vector<16xf32> to vector<16xi32>
//  CHECK-NEXT:     %[[SHIFTED:.+]] = llvm.shl %[[BITS]], %[[C23]]
//  CHECK-NEXT:     %[[SCALE:.+]] = llvm.bitcast %[[SHIFTED]] : vector<16xi32> to vector<16xf32>
//  CHECK-NEXT:     llvm.fmul %[[P0]], %[[SCALE]]
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
