// RUN: attn-opt %s --split-input-file --attn-lower-attention-to-gpu --verify-diagnostics

func.func @unscheduled(%q: tensor<1x1x16x16xf32>, %k: tensor<1x1x16x16xf32>, %v: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  // expected-error @+1 {{has no #attn.schedule; run --attn-select-schedule first}}
  %o = attn.sdpa %q, %k, %v : tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x16xf32> -> tensor<1x1x16x16xf32>
  return %o : tensor<1x1x16x16xf32>
}
