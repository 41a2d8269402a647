// RUN: attn-opt %s --split-input-file | attn-opt --split-input-file | FileCheck %s

// Plain self-attention: no mask, default scale.
// CHECK-LABEL: func.func @self_attention
//       CHECK:   attn.sdpa %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
func.func @self_attention(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>,
                          %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

// GQA, causal, explicit scale and schedule survive a round trip.
// CHECK-LABEL: func.func @gqa_causal_scheduled
//       CHECK:   attn.sdpa
//  CHECK-SAME:     mask = #attn.mask<causal>
//  CHECK-SAME:     scale = 1.250000e-01 : f32
//  CHECK-SAME:     schedule = #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>
func.func @gqa_causal_scheduled(%q: tensor<2x8x100x64xf32>, %k: tensor<2x2x100x64xf32>,
                                %v: tensor<2x2x100x64xf32>) -> tensor<2x8x100x64xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>, scale = 0.125 : f32,
      schedule = #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16,
                                qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>}
      : tensor<2x8x100x64xf32>, tensor<2x2x100x64xf32>, tensor<2x2x100x64xf32> -> tensor<2x8x100x64xf32>
  return %o : tensor<2x8x100x64xf32>
}

// -----

// Cross-attention (Sq != Skv), MQA, value head dim != query head dim.
// CHECK-LABEL: func.func @cross_mqa
//       CHECK:   attn.sdpa {{.*}} {mask = #attn.mask<none>} : tensor<1x4x7x32xf32>, tensor<1x1x300x32xf32>, tensor<1x1x300x16xf32> -> tensor<1x4x7x16xf32>
func.func @cross_mqa(%q: tensor<1x4x7x32xf32>, %k: tensor<1x1x300x32xf32>,
                     %v: tensor<1x1x300x16xf32>) -> tensor<1x4x7x16xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none>} : tensor<1x4x7x32xf32>, tensor<1x1x300x32xf32>, tensor<1x1x300x16xf32> -> tensor<1x4x7x16xf32>
  return %o : tensor<1x4x7x16xf32>
}

// -----

// Score modifiers in order, a bias broadcast over the batch, and the lse
// result survive a round trip.
// CHECK-LABEL: func.func @modifiers_and_lse
//       CHECK:   %{{.*}}, %{{.*}} = attn.sdpa %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<1x4x64x96xf32>)
//  CHECK-SAME:     modifiers = [#attn.cosine, #attn.bias, #attn.alibi<[2.500000e-01, 6.250000e-02, -5.000000e-01, 1.000000e+00]>, #attn.softcap<5.000000e+01>]
//  CHECK-SAME:     -> tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
func.func @modifiers_and_lse(%q: tensor<2x4x64x32xf32>, %k: tensor<2x2x96x32xf32>,
                             %v: tensor<2x2x96x32xf32>, %b: tensor<1x4x64x96xf32>)
    -> (tensor<2x4x64x32xf32>, tensor<2x4x64xf32>) {
  %o, %lse = attn.sdpa %q, %k, %v bias(%b : tensor<1x4x64x96xf32>)
      {mask = #attn.mask<causal>, scale = 10.0 : f32,
       modifiers = [#attn.cosine, #attn.bias, #attn.alibi<[0.25, 0.0625, -0.5, 1.0]>,
                    #attn.softcap<50.0>]}
      : tensor<2x4x64x32xf32>, tensor<2x2x96x32xf32>, tensor<2x2x96x32xf32>
      -> tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
  return %o, %lse : tensor<2x4x64x32xf32>, tensor<2x4x64xf32>
}

// -----

// Attention probabilities of chosen heads, and their average, round trip.
// CHECK-LABEL: func.func @probs
//       CHECK:   attn.sdpa_probs %{{.*}}, %{{.*}}, %{{.*}} {heads = array<i64: 3, 0>, mask = #attn.mask<causal, window = [16, 0]>, modifiers = [#attn.softcap<3.000000e+01>]} : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x2x64x80xf32>
//       CHECK:   attn.sdpa_probs %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x1x64x80xf32>
func.func @probs(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<1x4x64xf32>)
    -> (tensor<1x2x64x80xf32>, tensor<1x1x64x80xf32>) {
  %p = attn.sdpa_probs %q, %k, %lse {heads = array<i64: 3, 0>,
      mask = #attn.mask<causal, window = [16, 0]>, modifiers = [#attn.softcap<30.0>]}
      : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x2x64x80xf32>
  %avg = attn.sdpa_probs %q, %k, %lse
      : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x1x64x80xf32>
  return %p, %avg : tensor<1x2x64x80xf32>, tensor<1x1x64x80xf32>
}
