// RUN: attn-opt %s --split-input-file --attn-export-signature --verify-diagnostics

// expected-error @+1 {{no entry function: mark one with the `attn.entry` attribute or keep exactly one public function}}
module {
  func.func @a(%x: tensor<2xf32>) -> tensor<2xf32> { return %x : tensor<2xf32> }
  func.func @b(%x: tensor<2xf32>) -> tensor<2xf32> { return %x : tensor<2xf32> }
}

// -----

// expected-error @+1 {{entry function input #0 must be a statically shaped f32, f16, bf16, i32 or i64 tensor, got 'tensor<?xf32>'}}
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// -----

// expected-error @+1 {{two tensors of the entry function are named 'x'}}
func.func @same_name(%a: tensor<2xf32> {attn.name = "x"}) -> (tensor<2xf32> {attn.name = "x"}) {
  return %a : tensor<2xf32>
}

// -----

// expected-error @+1 {{recursive call to @loop}}
func.func @loop(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = func.call @loop(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
