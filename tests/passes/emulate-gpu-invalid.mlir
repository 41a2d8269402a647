// RUN: attn-opt %s --split-input-file --attn-emulate-gpu --verify-diagnostics

func.func @two_dims(%n: index) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{cannot be emulated: expected 1-D blocks and grid, one region block, dynamic shared memory only}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %n, %gz = %c1)
      threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    gpu.terminator
  }
  return
}
