// RUN: attn-opt %s --split-input-file --attn-export-signature | FileCheck %s

// Names come from attn.name; FLOPs count only visible pairs for a causal
// mask: 2 · B · Hq · (D + Dv) · Σ_i (i + 1) = 2 · 1 · 2 · 64 · 10 = 2560.
// CHECK-LABEL: module attributes
//  CHECK-SAME:   attn.entry = @attn_tiny
//  CHECK-SAME:   attn.signature = {flops = 2560 : i64, name = "tiny", tensors = [
//  CHECK-SAME:     {bound = 0 : i64, content = "data", dtype = "f32", name = "q", role = "input", shape = array<i64: 1, 2, 4, 32>},
//  CHECK-SAME:     {bound = 0 : i64, content = "data", dtype = "f32", name = "k", role = "input", shape = array<i64: 1, 1, 4, 32>},
//  CHECK-SAME:     {bound = 0 : i64, content = "data", dtype = "f32", name = "arg2", role = "input", shape = array<i64: 1, 1, 4, 32>},
//  CHECK-SAME:     {bound = 0 : i64, content = "data", dtype = "f32", name = "o", role = "output", shape = array<i64: 1, 2, 4, 32>}]}
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
//  CHECK-SAME:   {flops = 0 : i64, name = "only_public", tensors = [{bound = 0 : i64, content = "data", dtype = "f32", name = "arg0", role = "input", shape = array<i64: 2, 3>}, {bound = 0 : i64, content = "data", dtype = "f32", name = "result0", role = "output", shape = array<i64: 2, 3>}]}
func.func private @helper(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}
func.func @only_public(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  return %x : tensor<2x3xf32>
}

// -----

// Ops inside called functions count once per call (here 2 × 2560), and the
// content of an argument is what the op that finally uses it says: segment
// ids (i32) and lengths bounded by the key sequence length (4).
// CHECK-LABEL: module attributes
//  CHECK-SAME:   flops = 5120 : i64
//  CHECK-SAME:   {bound = 0 : i64, content = "segments", dtype = "i32", name = "seg", role = "input", shape = array<i64: 1, 4>}
//  CHECK-SAME:   {bound = 4 : i64, content = "lengths", dtype = "i32", name = "len", role = "input", shape = array<i64: 1>}
func.func private @layer(%q: tensor<1x2x4x32xf32>, %k: tensor<1x1x4x32xf32>, %s: tensor<1x4xi32>, %l: tensor<1xi32>) -> tensor<1x2x4x32xf32> {
  %o = attn.sdpa %q, %k, %k kv_segments(%s : tensor<1x4xi32>) kv_lengths(%l : tensor<1xi32>) {mask = #attn.mask<causal>} : tensor<1x2x4x32xf32>, tensor<1x1x4x32xf32>, tensor<1x1x4x32xf32> -> tensor<1x2x4x32xf32>
  return %o : tensor<1x2x4x32xf32>
}
func.func @two_calls(%q: tensor<1x2x4x32xf32>, %k: tensor<1x1x4x32xf32>, %s: tensor<1x4xi32> {attn.name = "seg"}, %l: tensor<1xi32> {attn.name = "len"}) -> tensor<1x2x4x32xf32> {
  %h = func.call @layer(%q, %k, %s, %l) : (tensor<1x2x4x32xf32>, tensor<1x1x4x32xf32>, tensor<1x4xi32>, tensor<1xi32>) -> tensor<1x2x4x32xf32>
  %o = func.call @layer(%h, %k, %s, %l) : (tensor<1x2x4x32xf32>, tensor<1x1x4x32xf32>, tensor<1x4xi32>, tensor<1xi32>) -> tensor<1x2x4x32xf32>
  return %o : tensor<1x2x4x32xf32>
}
