// RUN: attn-opt %s --split-input-file --attn-export-signature | FileCheck %s

// Names come from attn.name; FLOPs count only visible pairs for a causal
// mask: 2 · B · Hq · (D + Dv) · Σ_i (i + 1) = 2 · 1 · 2 · 64 · 10 = 2560.
// CHECK-LABEL: module attributes
//  CHECK-SAME:   attn.entry = @attn_tiny
//  CHECK-SAME:   attn.signature = "attnc-model 1\0Aname tiny\0Aflops 2560\0Ainput q f32 1 2 4 32\0Ainput k f32 1 1 4 32\0Ainput arg2 f32 1 1 4 32\0Aoutput o f32 1 2 4 32\0A"
func.func @attn_tiny(%q: tensor<1x2x4x32xf32> {attn.name = "q"}, %k: tensor<1x1x4x32xf32> {attn.name = "k"},
                     %v: tensor<1x1x4x32xf32>) -> (tensor<1x2x4x32xf32> {attn.name = "o"}) attributes {attn.entry, attn.name = "tiny"} {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>} : tensor<1x2x4x32xf32>, tensor<1x1x4x32xf32>, tensor<1x1x4x32xf32> -> tensor<1x2x4x32xf32>
  return %o : tensor<1x2x4x32xf32>
}

// -----

// Without attn.entry the only public function is the entry; unnamed tensors
// get argN/resultN, and a private helper is ignored.
// CHECK-LABEL: module attributes
//  CHECK-SAME:   attn.entry = @only_public
//  CHECK-SAME:   "attnc-model 1\0Aname only_public\0Aflops 0\0Ainput arg0 f32 2 3\0Aoutput result0 f32 2 3\0A"
func.func private @helper(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}
func.func @only_public(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}
