// RUN: attn-opt %s --split-input-file --attn-outline-parallel-loops --verify-diagnostics

func.func @two_dims(%buf: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  // expected-error @+1 {{cannot be outlined: expected a 1-D loop from 0 with step 1 and no reductions}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    memref.store %z, %buf[%i, %j] : memref<4x4xf32>
    scf.reduce
  }
  return
}

// -----

func.func @captures_float(%buf: memref<4xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{cannot be outlined: captures a value of type 'f32'}}
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %x, %buf[%i] : memref<4xf32>
    scf.reduce
  }
  return
}
