// RUN: attn-opt %s --split-input-file --attn-fuse-epilogues | FileCheck %s

// SwiGLU MLP with a residual: gate gets silu, up gets the gate product, down
// gets the residual sum; no elementwise op is left.
// CHECK-LABEL: func.func @swiglu
//       CHECK:   %[[G:.*]] = attn.linear %arg0, %arg1 {activation = #attn.activation<silu>}
//       CHECK:   %[[U:.*]] = attn.linear %arg0, %arg2 gate(%[[G]] : tensor<4x32xf32>) :
//       CHECK:   %[[D:.*]] = attn.linear %[[U]], %arg3 residual(%arg0 : tensor<4x16xf32>) :
//   CHECK-NOT:   attn.activation
//   CHECK-NOT:   attn.mul
//   CHECK-NOT:   attn.add
//       CHECK:   return %[[D]]
func.func @swiglu(%x: tensor<4x16xf32>, %wg: tensor<32x16xf32>, %wu: tensor<32x16xf32>,
                  %wd: tensor<16x32xf32>) -> tensor<4x16xf32> {
  %g = attn.linear %x, %wg : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  %u = attn.linear %x, %wu : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  %s = attn.activation %g {kind = #attn.activation<silu>} : tensor<4x32xf32>
  %p = attn.mul %s, %u : tensor<4x32xf32>, tensor<4x32xf32>
  %d = attn.linear %p, %wd : tensor<4x32xf32>, tensor<16x32xf32> -> tensor<4x16xf32>
  %y = attn.add %x, %d : tensor<4x16xf32>, tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A linear result with a second use, a broadcast operand and an activation
// after a residual are left alone (the epilogue order is act, gate, residual).
// CHECK-LABEL: func.func @not_fused
//       CHECK:   %[[A:.*]] = attn.linear %arg0, %arg1 :
//       CHECK:   attn.activation %[[A]]
//       CHECK:   %[[B:.*]] = attn.linear %arg0, %arg1 :
//       CHECK:   attn.add %[[B]], %arg2 : tensor<4x16xf32>, tensor<16xf32>
//       CHECK:   %[[C:.*]] = attn.linear %arg0, %arg1 residual(%arg0 : tensor<4x16xf32>) :
//       CHECK:   attn.activation %[[C]] {kind = #attn.activation<relu>}
func.func @not_fused(%x: tensor<4x16xf32>, %w: tensor<16x16xf32>, %b: tensor<16xf32>)
    -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %a = attn.linear %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %a1 = attn.activation %a {kind = #attn.activation<gelu>} : tensor<4x16xf32>
  %c0 = attn.linear %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %c1 = attn.add %c0, %b : tensor<4x16xf32>, tensor<16xf32>
  %d0 = attn.linear %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %d1 = attn.add %d0, %x : tensor<4x16xf32>, tensor<4x16xf32>
  %d2 = attn.activation %d1 {kind = #attn.activation<relu>} : tensor<4x16xf32>
  return %a, %a1, %c1, %d2 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// The other operand of the product is defined after the linear: fusing would
// use it before it exists, so the later linear takes the product instead.
// CHECK-LABEL: func.func @operand_order
//       CHECK:   %[[A:.*]] = attn.linear %arg0, %arg1 :
//       CHECK:   attn.linear %arg0, %arg1 gate(%[[A]] : tensor<4x16xf32>)
func.func @operand_order(%x: tensor<4x16xf32>, %w: tensor<16x16xf32>) -> tensor<4x16xf32> {
  %a = attn.linear %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %b = attn.linear %x, %w : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %p = attn.mul %a, %b : tensor<4x16xf32>, tensor<4x16xf32>
  return %p : tensor<4x16xf32>
}
