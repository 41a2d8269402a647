// RUN: attn-opt %s --split-input-file | attn-opt --split-input-file | FileCheck %s

// A Llama-style layer reads like the model and survives a round trip.
// CHECK-LABEL: func.func @llama_layer
//       CHECK:   attn.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
//       CHECK:   attn.linear %{{.*}}, %{{.*}} : tensor<1x16x64xf32>, tensor<64x64xf32> -> tensor<1x16x64xf32>
//       CHECK:   attn.split_heads %{{.*}} : tensor<1x16x64xf32> -> tensor<1x4x16x16xf32>
//       CHECK:   attn.rope %{{.*}} {offset = 3 : i64, theta = 5.000000e+05 : f64} : tensor<1x4x16x16xf32>
//       CHECK:   attn.merge_heads %{{.*}} : tensor<1x4x16x16xf32> -> tensor<1x16x64xf32>
//       CHECK:   attn.linear %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<1x16x128xf32>) residual(%{{.*}} : tensor<1x16x128xf32>) {activation = #attn.activation<silu>}
//       CHECK:   attn.activation %{{.*}} {kind = #attn.activation<gelu_tanh>}
//       CHECK:   attn.add %{{.*}}, %{{.*}} : tensor<1x16x64xf32>, tensor<64xf32>
//       CHECK:   attn.mul %{{.*}}, %{{.*}} : tensor<1x16x64xf32>, tensor<16x1xf32>
func.func @llama_layer(%x: tensor<1x16x64xf32>, %n: tensor<64xf32>,
                       %w: tensor<64x64xf32>, %wg: tensor<128x64xf32>,
                       %g: tensor<1x16x128xf32>, %col: tensor<16x1xf32>)
    -> (tensor<1x16x64xf32>, tensor<1x16x128xf32>) {
  %0 = attn.rms_norm %x, %n {epsilon = 1.0e-5 : f32} : tensor<1x16x64xf32>, tensor<64xf32>
  %1 = attn.linear %0, %w : tensor<1x16x64xf32>, tensor<64x64xf32> -> tensor<1x16x64xf32>
  %2 = attn.split_heads %1 : tensor<1x16x64xf32> -> tensor<1x4x16x16xf32>
  %3 = attn.rope %2 {theta = 500000.0 : f64, offset = 3 : i64} : tensor<1x4x16x16xf32>
  %4 = attn.merge_heads %3 : tensor<1x4x16x16xf32> -> tensor<1x16x64xf32>
  %5 = attn.linear %4, %wg gate(%g : tensor<1x16x128xf32>) residual(%g : tensor<1x16x128xf32>)
      {activation = #attn.activation<silu>} : tensor<1x16x64xf32>, tensor<128x64xf32> -> tensor<1x16x128xf32>
  %6 = attn.activation %4 {kind = #attn.activation<gelu_tanh>} : tensor<1x16x64xf32>
  %7 = attn.add %6, %n : tensor<1x16x64xf32>, tensor<64xf32>
  %8 = attn.mul %7, %col : tensor<1x16x64xf32>, tensor<16x1xf32>
  return %8, %5 : tensor<1x16x64xf32>, tensor<1x16x128xf32>
}

// -----

// GPT-2 pieces: Conv1D layout with bias, fused q|k|v split, embeddings.
// CHECK-LABEL: func.func @gpt2_pieces
//       CHECK:   attn.linear %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<192xf32>) {layout = #attn.layout<in_out>}
//       CHECK:   attn.chunk %{{.*}} {index = 1 : i64, parts = 3 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>
//       CHECK:   attn.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
//       CHECK:   attn.embedding %{{.*}}, %{{.*}} : tensor<1x8xi32>, tensor<100x64xf32> -> tensor<1x8x64xf32>
//       CHECK:   attn.rows %{{.*}} {offset = 2 : i64} : tensor<32x64xf32> -> tensor<8x64xf32>
//       CHECK:   attn.linear {{.*}}schedule = #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 256>
func.func @gpt2_pieces(%x: tensor<1x8x64xf32>, %w: tensor<64x192xf32>, %b: tensor<192xf32>,
                       %ln: tensor<64xf32>, %ids: tensor<1x8xi32>, %wte: tensor<100x64xf32>,
                       %wpe: tensor<32x64xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<8x64xf32>, tensor<1x8x64xf32>) {
  %0 = attn.linear %x, %w bias(%b : tensor<192xf32>) {layout = #attn.layout<in_out>}
      : tensor<1x8x64xf32>, tensor<64x192xf32> -> tensor<1x8x192xf32>
  %1 = attn.chunk %0 {parts = 3 : i64, index = 1 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>
  %2 = attn.layer_norm %1, %ln, %ln {epsilon = 1.0e-5 : f32} : tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>
  %3 = attn.embedding %ids, %wte : tensor<1x8xi32>, tensor<100x64xf32> -> tensor<1x8x64xf32>
  %4 = attn.rows %wpe {offset = 2 : i64} : tensor<32x64xf32> -> tensor<8x64xf32>
  %5 = attn.linear %x, %wte {schedule = #attn.gemm_schedule<vector_width = 16, rows = 12, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 256>}
      : tensor<1x8x64xf32>, tensor<100x64xf32> -> tensor<1x8x100xf32>
  return %2, %3, %4, %2 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<8x64xf32>, tensor<1x8x64xf32>
}

// -----

// RoPE with Llama 3 scaling.
// CHECK-LABEL: func.func @rope_llama3
//       CHECK:   attn.rope %{{.*}} {factor = 3.200000e+01 : f64, high_freq_factor = 4.000000e+00 : f64, low_freq_factor = 1.000000e+00 : f64, offset = 0 : i64, original_max_positions = 8192 : i64, scaling = #attn.rope_scaling<llama3>, theta = 5.000000e+05 : f64}
func.func @rope_llama3(%x: tensor<1x2x8x64xf32>) -> tensor<1x2x8x64xf32> {
  %0 = attn.rope %x {theta = 500000.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<llama3>,
      factor = 32.0 : f64, low_freq_factor = 1.0 : f64, high_freq_factor = 4.0 : f64,
      original_max_positions = 8192 : i64} : tensor<1x2x8x64xf32>
  return %0 : tensor<1x2x8x64xf32>
}
