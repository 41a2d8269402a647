// RUN: attn-opt %s --split-input-file --attn-approximate-math | FileCheck %s

// exp2 gets the short lowering: NaN-keeping clamps to [-127, 127] (so -inf,
// the masked scores, gives exactly 0), rounding by a magic-number add, a
// degree-5 polynomial in FMAs and 2^k from the shifted bits of the sum.
// CHECK-LABEL: func.func @vector_exp2
//   CHECK-DAG:   %[[LO:.+]] = arith.constant dense<-1.270000e+02> : vector<16xf32>
//   CHECK-DAG:   %[[HI:.+]] = arith.constant dense<1.270000e+02> : vector<16xf32>
//   CHECK-DAG:   %[[MAGIC:.+]] = arith.constant dense<0x4B40007F> : vector<16xf32>
//       CHECK:   %[[MAX:.+]] = arith.maximumf %arg0, %[[LO]] fastmath<nsz>
//       CHECK:   %[[C:.+]] = arith.minimumf %[[MAX]], %[[HI]] fastmath<nsz>
//       CHECK:   %[[T:.+]] = arith.addf %[[C]], %[[MAGIC]]
//       CHECK:   %[[K:.+]] = arith.subf %[[T]], %[[MAGIC]]
//       CHECK:   %[[F:.+]] = arith.subf %[[C]], %[[K]]
// CHECK-COUNT-5:   math.fma {{.+}}, %[[F]],
//       CHECK:   %[[BITS:.+]] = arith.bitcast %[[T]] : vector<16xf32> to vector<16xi32>
//       CHECK:   %[[SHIFTED:.+]] = arith.shli %[[BITS]]
//       CHECK:   %[[SCALE:.+]] = arith.bitcast %[[SHIFTED]] : vector<16xi32> to vector<16xf32>
//       CHECK:   arith.mulf %{{.+}}, %[[SCALE]]
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
