// RUN: attn-opt %s --split-input-file --verify-diagnostics

func.func @linear_weight_rank(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{expected the weight to have rank 2, got shape [8]}}
  %0 = attn.linear %x, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_k_mismatch(%x: tensor<2x8xf32>, %w: tensor<4x6xf32>) {
  // expected-error @+1 {{expected the weight's input dimension (6, of [4, 6] [out, in]) to equal the input's last dimension (8)}}
  %0 = attn.linear %x, %w : tensor<2x8xf32>, tensor<4x6xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_k_mismatch_in_out(%x: tensor<2x8xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{expected the weight's input dimension (6, of [6, 4] [in, out]) to equal the input's last dimension (8)}}
  %0 = attn.linear %x, %w {layout = #attn.layout<in_out>} : tensor<2x8xf32>, tensor<6x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected the result to have shape [2, 4], got [2, 5]}}
  %0 = attn.linear %x, %w : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x5xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{expected the bias to have shape [4], got [8]}}
  %0 = attn.linear %x, %w bias(%b : tensor<8xf32>) : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_gate(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %g: tensor<2x8xf32>) {
  // expected-error @+1 {{expected the gate to have shape [2, 4], got [2, 8]}}
  %0 = attn.linear %x, %w gate(%g : tensor<2x8xf32>) : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_residual(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{expected the residual to have shape [2, 4], got [4]}}
  %0 = attn.linear %x, %w residual(%g : tensor<4xf32>) : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_dynamic(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected static shapes, got 'tensor<?x8xf32>'}}
  %0 = attn.linear %x, %w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_rank0(%x: tensor<f32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected the input to have rank >= 1}}
  %0 = attn.linear %x, %w : tensor<f32>, tensor<4x8xf32> -> tensor<f32>
  return
}

// -----

func.func @rms_weight(%x: tensor<2x8xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{expected the weight to have shape [8], got [4]}}
  %0 = attn.rms_norm %x, %w {epsilon = 1.0e-5 : f32} : tensor<2x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @rms_eps(%x: tensor<2x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{expected epsilon to be finite and >= 0, got -1}}
  %0 = attn.rms_norm %x, %w {epsilon = -1.0 : f32} : tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{expected the bias to have shape [8], got [7]}}
  %0 = attn.layer_norm %x, %w, %b {epsilon = 1.0e-5 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<7xf32>
  return
}

// -----

func.func @norm_rank0(%x: tensor<f32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{expected the input to have rank >= 1}}
  %0 = attn.rms_norm %x, %w {epsilon = 1.0e-5 : f32} : tensor<f32>, tensor<8xf32>
  return
}

// -----

func.func @rope_rank(%x: tensor<2x8x4xf32>) {
  // expected-error @+1 {{expected the input to have rank 4 [batch, heads, seq, head_dim], got [2, 8, 4]}}
  %0 = attn.rope %x {theta = 10000.0 : f64, offset = 0 : i64} : tensor<2x8x4xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<1x2x8x5xf32>) {
  // expected-error @+1 {{expected an even head_dim, got 5}}
  %0 = attn.rope %x {theta = 10000.0 : f64, offset = 0 : i64} : tensor<1x2x8x5xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{expected theta to be finite and > 1, got 1}}
  %0 = attn.rope %x {theta = 1.0 : f64, offset = 0 : i64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_offset(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{expected offset in [0, 2^40], got -1}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = -1 : i64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_no_kind(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{scaling parameters need a scaling kind (linear or llama3)}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, factor = 2.0 : f64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_linear_factor(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{scaling linear needs factor}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<linear>} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_linear_extra(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{linear scaling takes only factor}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<linear>, factor = 2.0 : f64, low_freq_factor = 1.0 : f64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_factor_value(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{expected factor to be finite and > 0, got 0}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<linear>, factor = 0.0 : f64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_llama3_original(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{llama3 scaling needs a positive original_max_positions}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<llama3>, factor = 8.0 : f64, low_freq_factor = 1.0 : f64, high_freq_factor = 4.0 : f64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @rope_llama3_order(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{expected high_freq_factor (1.000000e+00) to be above low_freq_factor (4.000000e+00)}}
  %0 = attn.rope %x {theta = 10.0 : f64, offset = 0 : i64, scaling = #attn.rope_scaling<llama3>, factor = 8.0 : f64, low_freq_factor = 4.0 : f64, high_freq_factor = 1.0 : f64, original_max_positions = 8192 : i64} : tensor<1x2x8x4xf32>
  return
}

// -----

func.func @broadcast(%x: tensor<2x8xf32>, %y: tensor<3x8xf32>) {
  // expected-error @+1 {{cannot broadcast the right operand [3, 8] onto the left operand [2, 8] (each dimension must match the left's trailing one or be 1)}}
  %0 = attn.add %x, %y : tensor<2x8xf32>, tensor<3x8xf32>
  return
}

// -----

func.func @broadcast_rank(%x: tensor<8xf32>, %y: tensor<1x8xf32>) {
  // expected-error @+1 {{cannot broadcast the right operand [1, 8] onto the left operand [8]}}
  %0 = attn.mul %x, %y : tensor<8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @split_ranks(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expected [batch, seq, heads·head_dim] to [batch, heads, seq, head_dim], got [2, 8] to [2, 1, 8, 1]}}
  %0 = attn.split_heads %x : tensor<2x8xf32> -> tensor<2x1x8x1xf32>
  return
}

// -----

func.func @split_dims(%x: tensor<1x8x12xf32>) {
  // expected-error @+1 {{expected heads·head_dim (4·4) to equal the input's last dimension (12)}}
  %0 = attn.split_heads %x : tensor<1x8x12xf32> -> tensor<1x4x8x4xf32>
  return
}

// -----

func.func @split_result(%x: tensor<1x8x12xf32>) {
  // expected-error @+1 {{expected the result to have shape [1, 4, 8, 3], got [1, 4, 9, 3]}}
  %0 = attn.split_heads %x : tensor<1x8x12xf32> -> tensor<1x4x9x3xf32>
  return
}

// -----

func.func @merge_rank(%x: tensor<1x8x12xf32>) {
  // expected-error @+1 {{expected the input to have rank 4 [batch, heads, seq, head_dim], got [1, 8, 12]}}
  %0 = attn.merge_heads %x : tensor<1x8x12xf32> -> tensor<1x8x12xf32>
  return
}

// -----

func.func @merge_result(%x: tensor<1x2x8x4xf32>) {
  // expected-error @+1 {{expected the result to have shape [1, 8, 8], got [1, 8, 9]}}
  %0 = attn.merge_heads %x : tensor<1x2x8x4xf32> -> tensor<1x8x9xf32>
  return
}

// -----

func.func @chunk_parts(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{expected parts (3) to be positive and divide the last dimension (8)}}
  %0 = attn.chunk %x {parts = 3 : i64, index = 0 : i64} : tensor<2x8xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @chunk_index(%x: tensor<2x9xf32>) {
  // expected-error @+1 {{expected index in [0, 3), got 3}}
  %0 = attn.chunk %x {parts = 3 : i64, index = 3 : i64} : tensor<2x9xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @chunk_result(%x: tensor<2x9xf32>) {
  // expected-error @+1 {{expected the result to have shape [2, 3], got [2, 9]}}
  %0 = attn.chunk %x {parts = 3 : i64, index = 1 : i64} : tensor<2x9xf32> -> tensor<2x9xf32>
  return
}

// -----

func.func @chunk_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{expected the input to have rank >= 1}}
  %0 = attn.chunk %x {parts = 1 : i64, index = 0 : i64} : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @embedding_ranks(%i: tensor<8xi32>, %t: tensor<10x4xf32>) {
  // expected-error @+1 {{expected ids [batch, seq] and table [vocab, hidden], got [8] and [10, 4]}}
  %0 = attn.embedding %i, %t : tensor<8xi32>, tensor<10x4xf32> -> tensor<8x4xf32>
  return
}

// -----

func.func @embedding_result(%i: tensor<1x8xi32>, %t: tensor<10x4xf32>) {
  // expected-error @+1 {{expected the result to have shape [1, 8, 4], got [1, 8, 5]}}
  %0 = attn.embedding %i, %t : tensor<1x8xi32>, tensor<10x4xf32> -> tensor<1x8x5xf32>
  return
}

// -----

func.func @rows_shape(%t: tensor<10x4xf32>) {
  // expected-error @+1 {{expected table [rows, hidden] and result [count, hidden], got [10, 4] and [3, 5]}}
  %0 = attn.rows %t {offset = 0 : i64} : tensor<10x4xf32> -> tensor<3x5xf32>
  return
}

// -----

func.func @rows_range(%t: tensor<10x4xf32>) {
  // expected-error @+1 {{rows 8 to 10 are outside the table [10, 4]}}
  %0 = attn.rows %t {offset = 8 : i64} : tensor<10x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @gemm_schedule_0(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected vector_width to be a power of two <= 64, got 12}}
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 12, rows = 6, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 256>} : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @gemm_schedule_1(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected rows to be positive, got 0}}
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 0, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 256>} : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @gemm_schedule_2(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected tile_n (200) to be a multiple of vecs * vector_width (16)}}
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 6, vecs = 2, tile_m = 96, tile_n = 200, tile_k = 256>} : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @gemm_schedule_3(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{expected tile_m (96) to be a multiple of rows (7)}}
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 7, vecs = 2, tile_m = 96, tile_n = 256, tile_k = 256>} : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return
}
