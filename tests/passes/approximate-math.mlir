// RUN: attn-opt %s --split-input-file --attn-approximate-math | FileCheck %s

// Vector exp becomes arithmetic: no math.exp (and so no libm call) is left.
// CHECK-LABEL: func.func @vector_exp
//   CHECK-NOT:   math.exp
//       CHECK:   math.fma
//       CHECK:   arith.bitcast
//   CHECK-NOT:   math.exp
func.func @vector_exp(%x: vector<16xf32>) -> vector<16xf32> {
  %e = math.exp %x : vector<16xf32>
  return %e : vector<16xf32>
}

// -----

// Scalar f32 exp is approximated too.
// CHECK-LABEL: func.func @scalar_exp
//   CHECK-NOT:   math.exp
//       CHECK:   return
func.func @scalar_exp(%x: f32) -> f32 {
  %e = math.exp %x : f32
  return %e : f32
}
