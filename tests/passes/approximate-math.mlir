// RUN: attn-opt %s --split-input-file --attn-approximate-math | FileCheck %s

// exp2 gets the short lowering: round, a degree-6 polynomial in FMAs, the
// exponent bits, an exact 0 below -126 (masked scores are -inf), NaN kept.
// CHECK-LABEL: func.func @vector_exp2
//   CHECK-DAG:   %[[LO:.+]] = arith.constant dense<-1.260000e+02> : vector<16xf32>
//   CHECK-DAG:   %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<16xf32>
//       CHECK:   %[[K:.+]] = math.roundeven
// CHECK-COUNT-6:   math.fma
//       CHECK:   arith.fptosi %[[K]] : vector<16xf32> to vector<16xi32>
//       CHECK:   arith.shli
//       CHECK:   %[[UNDER:.+]] = arith.cmpf olt, %arg0, %[[LO]]
//       CHECK:   %[[CLAMPED:.+]] = arith.select %[[UNDER]], %[[ZERO]], %{{.+}} : vector<16xi1>, vector<16xf32>
//       CHECK:   %[[NAN:.+]] = arith.cmpf uno, %arg0, %arg0
//       CHECK:   arith.select %[[NAN]], %arg0, %[[CLAMPED]]
//   CHECK-NOT:   math.exp2
func.func @vector_exp2(%x: vector<16xf32>) -> vector<16xf32> {
  %e = math.exp2 %x : vector<16xf32>
  return %e : vector<16xf32>
}

// -----

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
