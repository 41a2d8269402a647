// RUN: attn-opt %s --attn-lower-blocks-to-loops --verify-diagnostics

func.func @unscheduled(%x: tensor<4x16xf32>, %w: tensor<20x16xf32>) -> tensor<4x20xf32> {
  // expected-error @+1 {{'attn.linear' op has no #attn.gemm_schedule; run --attn-select-schedule first}}
  %0 = attn.linear %x, %w : tensor<4x16xf32>, tensor<20x16xf32> -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}
