// RUN: attn-opt %s --split-input-file --attn-outline-parallel-loops | FileCheck %s

// The loop body moves to @scale_parallel_0(begin, end, ctx); the buffer and
// the index it captures travel in a stack struct; constants are cloned.
// CHECK-LABEL: func.func private @scale_parallel_0
//  CHECK-SAME:   (%[[BEGIN:.+]]: i64, %[[END:.+]]: i64, %[[CTX:.+]]: !llvm.ptr)
//   CHECK-DAG:   %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
//       CHECK:   %[[S0:.+]] = llvm.getelementptr %[[CTX]][0, 0]
//       CHECK:   %[[N0:.+]] = llvm.load %[[S0]] : !llvm.ptr -> i64
//       CHECK:   %[[OFF:.+]] = arith.index_cast %[[N0]] : i64 to index
//       CHECK:   %[[S1:.+]] = llvm.getelementptr %[[CTX]][0, 1]
//       CHECK:   %[[D1:.+]] = llvm.load %[[S1]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
//       CHECK:   %[[BUF:.+]] = builtin.unrealized_conversion_cast %[[D1]] {{.*}} to memref<64xf32>
//       CHECK:   %[[LB:.+]] = arith.index_cast %[[BEGIN]] : i64 to index
//       CHECK:   %[[UB:.+]] = arith.index_cast %[[END]] : i64 to index
//       CHECK:   scf.for %[[I:.+]] = %[[LB]] to %[[UB]]
//       CHECK:     %[[J:.+]] = arith.addi %[[I]], %[[OFF]]
//       CHECK:     memref.load %[[BUF]][%[[J]]]
//       CHECK:     arith.mulf %{{.+}}, %[[TWO]]
// CHECK-LABEL: func.func @scale
//       CHECK:   %[[CTXA:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(i64, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
//       CHECK:   llvm.store
//       CHECK:   llvm.store
//       CHECK:   %[[FN:.+]] = constant @scale_parallel_0 : (i64, i64, !llvm.ptr) -> ()
//       CHECK:   %[[FNP:.+]] = builtin.unrealized_conversion_cast %[[FN]]
//       CHECK:   call @attnrt_parallel_for(%{{.+}}, %[[FNP]], %[[CTXA]]) : (i64, !llvm.ptr, !llvm.ptr) -> ()
//   CHECK-NOT:   scf.parallel
//       CHECK: func.func private @attnrt_parallel_for(i64, !llvm.ptr, !llvm.ptr)
func.func @scale(%buf: memref<64xf32>, %off: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %two = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c32) step (%c1) {
    %j = arith.addi %i, %off : index
    %x = memref.load %buf[%j] : memref<64xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %buf[%j] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// Only outermost loops are outlined; a nested scf.parallel stays in the body.
// CHECK-LABEL: func.func private @nested_parallel_0
//       CHECK:   scf.for
//       CHECK:     scf.parallel
// CHECK-LABEL: func.func @nested
//       CHECK:   call @attnrt_parallel_for
func.func @nested(%buf: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4) step (%c1) {
      memref.store %z, %buf[%i, %j] : memref<4x4xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}
