// RUN: attn-opt %s --attn-select-schedule="vector-width=0" --verify-diagnostics

// expected-error @+1 {{expected positive vector-width and vector-registers, got 0 and 32}}
func.func @bad_target(%q: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  return %q : tensor<1x1x16x16xf32>
}
