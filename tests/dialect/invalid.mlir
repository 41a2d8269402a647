// RUN: attn-opt %s --split-input-file --verify-diagnostics

func.func @wrong_rank(%q: tensor<8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<8x128x64xf32> {
  // expected-error @+1 {{expected query to have rank 4 [batch, heads, seq, head_dim], got rank 3}}
  %o = attn.sdpa %q, %k, %v : tensor<8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<8x128x64xf32>
  return %o : tensor<8x128x64xf32>
}

// -----

func.func @dynamic_shape(%q: tensor<1x8x?x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x?x64xf32> {
  // expected-error @+1 {{expected query to have a static shape, got [1, 8, ?, 64]}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}

// -----

func.func @batch_mismatch(%q: tensor<2x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<2x8x128x64xf32> {
  // expected-error @+1 {{expected key batch (1) to equal query batch (2)}}
  %o = attn.sdpa %q, %k, %v : tensor<2x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<2x8x128x64xf32>
  return %o : tensor<2x8x128x64xf32>
}

// -----

func.func @value_batch_mismatch(%q: tensor<2x8x128x64xf32>, %k: tensor<2x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<2x8x128x64xf32> {
  // expected-error @+1 {{expected value batch (1) to equal query batch (2)}}
  %o = attn.sdpa %q, %k, %v : tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<2x8x128x64xf32>
  return %o : tensor<2x8x128x64xf32>
}

// -----

func.func @kv_heads_mismatch(%q: tensor<1x8x128x64xf32>, %k: tensor<1x4x128x64xf32>, %v: tensor<1x2x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected value heads (2) to equal key heads (4)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x4x128x64xf32>, tensor<1x2x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @head_dim_mismatch(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x128xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected key head dim (128) to equal query head dim (64)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x128xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @kv_seq_mismatch(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x100x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected value seq len (100) to equal key seq len (128)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x100x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @gqa_not_divisible(%q: tensor<1x8x128x64xf32>, %k: tensor<1x3x128x64xf32>, %v: tensor<1x3x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected query heads (8) to be a multiple of key/value heads (3)}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x3x128x64xf32>, tensor<1x3x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @wrong_result(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x32xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected result shape [1, 8, 128, 32] ([batch, query heads, query seq, value head dim]), got [1, 8, 128, 64]}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x32xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @zero_scale(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected a finite, non-zero scale, got 0}}
  %o = attn.sdpa %q, %k, %v {scale = 0.0 : f32} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @f64_operand(%q: tensor<1x8x128x64xf64>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf64>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @result_type(%q: tensor<1x8x128x64xf16>, %k: tensor<1x8x128x64xbf16>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected the result's element type to be the query's ('f16'), got 'f32'}}
  %o = attn.sdpa %q, %k, %v : tensor<1x8x128x64xf16>, tensor<1x8x128x64xbf16>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @unknown_mask(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected mask kind 'none' or 'causal', got 'upper'}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<upper>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @schedule_not_dividing_value_dim(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x40xf32>) -> tensor<1x8x128x40xf32> {
  // expected-error @+1 {{schedule expects the value head dim (40) to be a multiple of pv_vecs * vector_width (16)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 1>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x40xf32> -> tensor<1x8x128x40xf32>
  return %o : tensor<1x8x128x40xf32>
}

// -----

func.func @schedule_tile_q(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected tile_q (48) to be a multiple of qk_qvecs * vector_width (64)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @schedule_pv_rows(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected tile_q (64) to be a multiple of pv_rows (6)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 64, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 6, pv_vecs = 4>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @schedule_tile_kv(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected tile_kv (30) to be a multiple of qk_keys (4)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 64, tile_kv = 30, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @schedule_vector_width(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected vector_width to be a power of two <= 64, got 12}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 48, tile_kv = 64, vector_width = 12, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @schedule_non_positive(%q: tensor<1x8x128x64xf32>, %k: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x64xf32>) -> tensor<1x8x128x64xf32> {
  // expected-error @+1 {{expected tile_kv to be positive, got 0}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 64, tile_kv = 0, vector_width = 16, qk_keys = 4, qk_qvecs = 4, pv_rows = 4, pv_vecs = 4>} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32> -> tensor<1x8x128x64xf32>
  return %o : tensor<1x8x128x64xf32>
}

// -----

func.func @window_negative(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected window sizes to be non-negative, got [-2, 3]}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, window = [-2, 3]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @causal_window_right(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected a causal window to have right = 0 (causal hides later keys), got 4}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal, window = [16, 4]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @global_unsorted(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected global positions to be sorted and distinct, got 5 before 3}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, global = [5, 3]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @global_out_of_range(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected global positions to be below the key seq len (64), got 64}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, global = [0, 64]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @mask_unknown_key(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected 'window' or 'global', got 'band'}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, band = [1, 2]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @segments_shape(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %s: tensor<1x32xi32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected kv_segments to have shape [1, 64] [batch, kv seq], got [1, 32]}}
  %o = attn.sdpa %q, %k, %v kv_segments(%s : tensor<1x32xi32>) : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @q_segments_alone(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %s: tensor<1x64xi32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{q_segments needs kv_segments (the keys' segment ids)}}
  %o = attn.sdpa %q, %k, %v q_segments(%s : tensor<1x64xi32>) : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @cross_segments_need_q(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %s: tensor<1x64xi32>) -> tensor<1x2x16x32xf32> {
  // expected-error @+1 {{expected q_segments: query seq len (16) differs from key seq len (64), so the queries' segment ids cannot default to the keys'}}
  %o = attn.sdpa %q, %k, %v kv_segments(%s : tensor<1x64xi32>) : tensor<1x2x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x16x32xf32>
  return %o : tensor<1x2x16x32xf32>
}

// -----

func.func @lengths_shape(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %l: tensor<2xi32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected kv_lengths to have shape [1] [batch], got [2]}}
  %o = attn.sdpa %q, %k, %v kv_lengths(%l : tensor<2xi32>) : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @lengths_f32(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %l: tensor<1xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{operand #3 must be ranked tensor of 32-bit signless integer values, but got 'tensor<1xf32>'}}
  %o = attn.sdpa %q, %k, %v kv_lengths(%l : tensor<1xf32>) : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @window_huge(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected window sizes of at most 2^40, got [9000000000000000000, 0]}}
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, window = [9000000000000000000, 0]>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @bias_shape(%q: tensor<2x4x64x32xf32>, %k: tensor<2x2x96x32xf32>, %v: tensor<2x2x96x32xf32>, %b: tensor<2x2x64x96xf32>) -> tensor<2x4x64x32xf32> {
  // expected-error @+1 {{expected bias to have shape [2 or 1, 4 or 1, 64, 96] ([batch or 1, query heads or 1, query seq, key seq]), got [2, 2, 64, 96]}}
  %o = attn.sdpa %q, %k, %v bias(%b : tensor<2x2x64x96xf32>) {modifiers = [#attn.bias]} : tensor<2x4x64x32xf32>, tensor<2x2x96x32xf32>, tensor<2x2x96x32xf32> -> tensor<2x4x64x32xf32>
  return %o : tensor<2x4x64x32xf32>
}

// -----

func.func @bias_rank(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %b: tensor<64x64xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected bias to have shape [1, 2 or 1, 64, 64] ([batch or 1, query heads or 1, query seq, key seq]), got [64, 64]}}
  %o = attn.sdpa %q, %k, %v bias(%b : tensor<64x64xf32>) {modifiers = [#attn.bias]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @bias_unread(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %b: tensor<1x1x64x64xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{has a bias operand but no #attn.bias modifier to read it}}
  %o = attn.sdpa %q, %k, %v bias(%b : tensor<1x1x64x64xf32>) : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @bias_missing(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{#attn.bias needs the op's bias operand}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.bias]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @alibi_count(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected one ALiBi slope per query head (2), got 3}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.alibi<[0.5, 0.25, 0.125]>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @alibi_empty(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected at least one ALiBi slope}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.alibi<[]>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @alibi_inf(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected finite ALiBi slopes, got INF}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.alibi<[0.5, 1.0e39]>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @softcap_zero(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected a finite softcap > 0, got 0}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.softcap<0.0>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @softcap_negative(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected a finite softcap > 0, got -3}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.softcap<-3.0>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @cosine_not_first(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected #attn.cosine to be the first modifier (it normalizes the rows before any other)}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.softcap<5.0>, #attn.cosine]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @not_a_modifier(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected score modifiers (#attn.bias, #attn.alibi, #attn.softcap, #attn.cosine), got #attn.mask<causal>}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.mask<causal>]} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @lse_shape(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  // expected-error @+1 {{expected lse shape [1, 2, 64] ([batch, query heads, query seq]), got [1, 64]}}
  %o, %lse = attn.sdpa %q, %k, %v : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>, tensor<1x64xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

func.func @probs_head_range(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<1x4x64xf32>) -> tensor<1x1x64x80xf32> {
  // expected-error @+1 {{expected heads in [0, 4) (the query heads), got 4}}
  %p = attn.sdpa_probs %q, %k, %lse {heads = array<i64: 4>} : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x1x64x80xf32>
  return %p : tensor<1x1x64x80xf32>
}

// -----

func.func @probs_heads_empty(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<1x4x64xf32>) -> tensor<1x1x64x80xf32> {
  // expected-error @+1 {{expected at least one head in 'heads' (or none for the average over heads)}}
  %p = attn.sdpa_probs %q, %k, %lse {heads = array<i64>} : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x1x64x80xf32>
  return %p : tensor<1x1x64x80xf32>
}

// -----

func.func @probs_result(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<1x4x64xf32>) -> tensor<1x4x64x80xf32> {
  // expected-error @+1 {{expected result shape [1, 1, 64, 80] ([batch, heads mapped or 1 for the average, query seq, key seq]), got [1, 4, 64, 80]}}
  %p = attn.sdpa_probs %q, %k, %lse : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32> -> tensor<1x4x64x80xf32>
  return %p : tensor<1x4x64x80xf32>
}

// -----

func.func @probs_lse(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<1x2x64xf32>) -> tensor<1x1x64x80xf32> {
  // expected-error @+1 {{expected lse shape [1, 4, 64] ([batch, query heads, query seq]), got [1, 2, 64]}}
  %p = attn.sdpa_probs %q, %k, %lse : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x2x64xf32> -> tensor<1x1x64x80xf32>
  return %p : tensor<1x1x64x80xf32>
}

// -----

func.func @probs_lse_rank(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>, %lse: tensor<4x64xf32>) -> tensor<1x1x64x80xf32> {
  // expected-error @+1 {{expected lse to have rank 3 [batch, heads, seq], got rank 2}}
  %p = attn.sdpa_probs %q, %k, %lse : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<4x64xf32> -> tensor<1x1x64x80xf32>
  return %p : tensor<1x1x64x80xf32>
}

// -----

func.func @probs_key_dim(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x16xf32>, %lse: tensor<1x4x64xf32>) -> tensor<1x1x64x80xf32> {
  // expected-error @+1 {{expected key head dim (16) to equal query head dim (32)}}
  %p = attn.sdpa_probs %q, %k, %lse : tensor<1x4x64x32xf32>, tensor<1x2x80x16xf32>, tensor<1x4x64xf32> -> tensor<1x1x64x80xf32>
  return %p : tensor<1x1x64x80xf32>
}

// -----

func.func @schedule_heads_per_tile_tile_q(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{expected tile_q (16) to be a multiple of heads_per_tile (3)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, heads_per_tile = 3>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_heads_per_tile_group(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{schedule's heads_per_tile (8) must divide the query heads per key/value head (4)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, heads_per_tile = 8>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_kv_splits(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{schedule's kv_splits (9) exceeds the kv tiles (8)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, kv_splits = 9>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_prefetch(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{expected prefetch to be 0 or 1, got 2}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, prefetch = 2>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_kv_splits_positive(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{expected kv_splits to be positive, got 0}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, kv_splits = 0>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_packed_alibi(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{schedule packs 4 heads per tile, which alibi}}
  %o = attn.sdpa %q, %k, %v {modifiers = [#attn.alibi<[0.5, 0.25, 0.125, 0.0625, 0.5, 0.25, 0.125, 0.0625]>], schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, heads_per_tile = 4>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @probs_split(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %lse: tensor<1x8x1xf32>) -> tensor<1x1x1x512xf32> {
  // expected-error @+1 {{expects heads_per_tile = 1 and kv_splits = 1 (attention maps neither pack heads nor split the keys), got 1 and 2}}
  %p = attn.sdpa_probs %q, %k, %lse {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 8, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, kv_splits = 2>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x8x1xf32> -> tensor<1x1x1x512xf32>
  return %p : tensor<1x1x1x512xf32>
}

// -----

func.func @schedule_qk_dot_flag(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{expected qk_dot to be 0 or 1, got 3}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, qk_dot = 3>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_qk_dot_keys(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x512x64xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{expected qk_keys (6) to divide vector_width (16) with qk_dot = 1}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 66, vector_width = 16, qk_keys = 6, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, qk_dot = 1>} : tensor<1x8x1x64xf32>, tensor<1x2x512x64xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @schedule_qk_dot_head_dim(%q: tensor<1x8x1x40xf32>, %k: tensor<1x2x512x40xf32>, %v: tensor<1x2x512x64xf32>) -> tensor<1x8x1x64xf32> {
  // expected-error @+1 {{schedule's qk_dot = 1 expects the head dim (40) to be a multiple of vector_width (16)}}
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 64, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4, qk_dot = 1>} : tensor<1x8x1x40xf32>, tensor<1x2x512x40xf32>, tensor<1x2x512x64xf32> -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
