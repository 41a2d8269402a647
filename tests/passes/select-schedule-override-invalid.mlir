// RUN: attn-opt %s --attn-select-schedule="schedule=tile_q=64" --verify-diagnostics

// An override that does not fit an op is an error at that op.
func.func @does_not_fit(%q: tensor<1x1x256x64xf32>, %k: tensor<1x1x256x64xf32>,
                        %v: tensor<1x1x256x64xf32>) -> tensor<1x1x256x64xf32> {
  // expected-error @+1 {{'attn.sdpa' op schedule override does not fit this op: expected tile_q (64) to be a multiple of qk_qvecs * vector_width (48)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x256x64xf32>
  return %o : tensor<1x1x256x64xf32>
}
