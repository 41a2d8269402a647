// RUN: attn-opt %s --split-input-file --attn-lower-attention-to-loops --cse | FileCheck %s

// Causal GQA self-attention, Sq = Skv = 100 (not a multiple of the tiles).
// One parallel loop over batch × heads × query tiles (1 × 2 × 4); the kv
// tile loop runs from the first to the last live tile of the query tile and
// branches between a full tile (no mask arithmetic) and a boundary tile.
// Scratch buffers are tile-sized: nothing is Sq × Skv.
// CHECK-LABEL: func.func @causal_gqa
//   CHECK-DAG:   %[[Q:.+]] = bufferization.to_buffer %arg0 read_only : tensor<1x2x100x32xf32> to memref<1x2x100x32xf32>
//   CHECK-DAG:   %[[K:.+]] = bufferization.to_buffer %arg1 read_only
//   CHECK-DAG:   %[[V:.+]] = bufferization.to_buffer %arg2 read_only
//       CHECK:   %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x100x32xf32>
//       CHECK:   scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%[[N:.+]]) step
//   CHECK-DAG:     memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
//   CHECK-DAG:     memref.alloc() {alignment = 64 : i64} : memref<16x32xf32>
//   CHECK-NOT:     memref<100x100xf32>
// The kv tile loop runs over the hull of the live key range: from
// floor(begin / tile_kv) to ceil(end / tile_kv) of the first and last row.
//       CHECK:     %[[LO:.+]] = arith.divui %{{.+}}, %{{.+}} : index
//       CHECK:     %[[HI:.+]] = arith.ceildivui %{{.+}}, %{{.+}} : index
//       CHECK:     scf.for %[[T:.+]] = %[[LO]] to %{{.+}} step
//       CHECK:       scf.if
// Full tile: kernel 1 keeps 4 keys × 2 query vectors in registers over d.
//       CHECK:         scf.for {{.+}} iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
//       CHECK:           memref.load %[[K]]
//       CHECK:           vector.fma
//   CHECK-NOT:         vector.step
// Its epilogue stores the scores and folds them into the tile's column max;
// the softmax update then only reads that max.
//       CHECK:         vector.store
//       CHECK:         arith.maximumf {{.+}} fastmath<nnan,nsz>
//       CHECK:         arith.maximumf {{.+}} fastmath<nnan,nsz>
//       CHECK:         math.exp2
//       CHECK:         math.exp2
// Kernel 2: 4 rows × 2 value vectors, V read in place.
//       CHECK:         vector.load %[[V]]
//       CHECK:         vector.fma
//       CHECK:       } else {
// Boundary tile: key index clamped for the loads; kernel 1's epilogue sets
// the scores the mask hides to -inf before the column max, testing the key
// against each row's visible range [begin, end) (i32, computed once per
// query tile).
//       CHECK:         arith.minsi
//       CHECK:         vector.fma
//       CHECK:         vector.load {{.+}} : memref<32xi32>, vector<16xi32>
//       CHECK:         arith.cmpi sle, {{.+}} : vector<16xi32>
//       CHECK:         arith.select %{{.+}}, %{{.+}}, %{{.+}} : vector<16xi1>, vector<16xf32>
//       CHECK:         arith.maximumf
// Rows past the valid query length are stored as zeros.
//       CHECK:     arith.select %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
//       CHECK:     vector.store %{{.+}}, %[[OUT]]
//       CHECK:   bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal_gqa(%q: tensor<1x2x100x32xf32>, %k: tensor<1x1x100x32xf32>,
                      %v: tensor<1x1x100x32xf32>) -> tensor<1x2x100x32xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal>, schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>} : tensor<1x2x100x32xf32>, tensor<1x1x100x32xf32>, tensor<1x1x100x32xf32> -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

// -----

// Without a mask every tile but the partial last one is full; the query
// is scaled while it is packed, by the default scale 1/sqrt(64) = 0.125 times
// log2(e) (the softmax runs in the log2 domain with exp2).
// CHECK-LABEL: func.func @no_mask
//       CHECK:   scf.parallel
//       CHECK:     %[[SCALE:.+]] = arith.constant 0.180336878 : f32
//       CHECK:     arith.mulf %{{.+}}, %[[SCALE]] : f32
//       CHECK:     scf.for
//       CHECK:       scf.if
func.func @no_mask(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x40x64xf32>,
                   %v: tensor<1x1x40x64xf32>) -> tensor<1x1x16x64xf32> {
  %o = attn.sdpa %q, %k, %v {schedule = #attn.schedule<tile_q = 16, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4>} : tensor<1x1x16x64xf32>, tensor<1x1x40x64xf32>, tensor<1x1x40x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// An explicit scale replaces the default: 0.3 · log2(e), and no trace of
// 1/sqrt(64) · log2(e).
// CHECK-LABEL: func.func @explicit_scale
//   CHECK-NOT:   0.180336878
//       CHECK:   %[[SCALE:.+]] = arith.constant 0.432808518 : f32
//   CHECK-NOT:   0.180336878
//       CHECK:   arith.mulf %{{.+}}, %[[SCALE]] : f32
//   CHECK-NOT:   0.180336878
//       CHECK:   return
func.func @explicit_scale(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x40x64xf32>,
                          %v: tensor<1x1x40x64xf32>) -> tensor<1x1x16x64xf32> {
  %o = attn.sdpa %q, %k, %v {scale = 0.3 : f32, schedule = #attn.schedule<tile_q = 16, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 4>} : tensor<1x1x16x64xf32>, tensor<1x1x40x64xf32>, tensor<1x1x40x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// A causal sliding window: the live kv tiles are the band around the
// diagonal, so the loop bounds depend on the window (left = 40): the first
// live key of a row is pos - 40.
// CHECK-LABEL: func.func @causal_window
//       CHECK:   scf.parallel
//       CHECK:     arith.subi %{{.+}}, %c40 : index
//       CHECK:     scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1
//   CHECK-NOT:       scf.if %{{.+}} {
//       CHECK:       scf.if
func.func @causal_window(%q: tensor<1x1x128x32xf32>, %k: tensor<1x1x128x32xf32>,
                         %v: tensor<1x1x128x32xf32>) -> tensor<1x1x128x32xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<causal, window = [40, 0]>, schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>} : tensor<1x1x128x32xf32>, tensor<1x1x128x32xf32>, tensor<1x1x128x32xf32> -> tensor<1x1x128x32xf32>
  return %o : tensor<1x1x128x32xf32>
}

// -----

// Global tokens (positions 0-1 and 64) with a window: the live ranges are
// several, so each kv tile of the hull first tests whether it is live (an
// scf.if without else) before the full/boundary branch; boundary tiles also
// accept global keys below the row's limit.
// CHECK-LABEL: func.func @global_window
//       CHECK:   scf.for
//       CHECK:     scf.if %{{.+}} {
//       CHECK:       scf.if %{{.+}} {
//       CHECK:       } else {
//       CHECK:         arith.cmpi slt, %{{.+}}, %c65 : index
//       CHECK:         arith.ori %{{.+}} : vector<16xi1>
func.func @global_window(%q: tensor<1x1x128x32xf32>, %k: tensor<1x1x128x32xf32>,
                         %v: tensor<1x1x128x32xf32>) -> tensor<1x1x128x32xf32> {
  %o = attn.sdpa %q, %k, %v {mask = #attn.mask<none, window = [8, 8], global = [0, 1, 64]>, schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>} : tensor<1x1x128x32xf32>, tensor<1x1x128x32xf32>, tensor<1x1x128x32xf32> -> tensor<1x1x128x32xf32>
  return %o : tensor<1x1x128x32xf32>
}

// -----

// Segments and valid lengths are read at run time: lengths are loaded per
// batch entry and clamped to [0, S]; a row's segment keys are found by
// binary search over the (non-decreasing) kv segment ids.
// CHECK-LABEL: func.func @segments_lengths
//   CHECK-DAG:   %[[SEG:.+]] = bufferization.to_buffer %arg3 read_only : tensor<2x64xi32>
//   CHECK-DAG:   %[[LEN:.+]] = bufferization.to_buffer %arg4 read_only : tensor<2xi32>
//       CHECK:   scf.parallel
//       CHECK:     memref.load %[[LEN]]
//       CHECK:     arith.maxsi
//       CHECK:     arith.minsi
//       CHECK:     scf.while
//       CHECK:       memref.load %[[SEG]]
func.func @segments_lengths(%q: tensor<2x2x64x32xf32>, %k: tensor<2x1x64x32xf32>,
                            %v: tensor<2x1x64x32xf32>, %seg: tensor<2x64xi32>,
                            %len: tensor<2xi32>) -> tensor<2x2x64x32xf32> {
  %o = attn.sdpa %q, %k, %v kv_segments(%seg : tensor<2x64xi32>) kv_lengths(%len : tensor<2xi32>) {mask = #attn.mask<causal>, schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>} : tensor<2x2x64x32xf32>, tensor<2x1x64x32xf32>, tensor<2x1x64x32xf32> -> tensor<2x2x64x32xf32>
  return %o : tensor<2x2x64x32xf32>
}

// -----

// Cross-attention with query segment ids and query lengths: the queries'
// segment id is read from q_segments (then searched in the key ids), and
// the query length bounds the valid rows of each tile.
// CHECK-LABEL: func.func @query_segments_lengths
//   CHECK-DAG:   %[[KSEG:.+]] = bufferization.to_buffer %arg3 read_only : tensor<1x64xi32>
//   CHECK-DAG:   %[[QSEG:.+]] = bufferization.to_buffer %arg4 read_only : tensor<1x16xi32>
//   CHECK-DAG:   %[[QLEN:.+]] = bufferization.to_buffer %arg5 read_only : tensor<1xi32>
//       CHECK:   scf.parallel
//       CHECK:     memref.load %[[QLEN]]
//       CHECK:     memref.load %[[QSEG]]
//       CHECK:     scf.while
//       CHECK:       memref.load %[[KSEG]]
func.func @query_segments_lengths(%q: tensor<1x1x16x32xf32>, %k: tensor<1x1x64x32xf32>,
                                  %v: tensor<1x1x64x32xf32>, %ks: tensor<1x64xi32>,
                                  %qs: tensor<1x16xi32>, %ql: tensor<1xi32>) -> tensor<1x1x16x32xf32> {
  %o = attn.sdpa %q, %k, %v kv_segments(%ks : tensor<1x64xi32>) q_segments(%qs : tensor<1x16xi32>) q_lengths(%ql : tensor<1xi32>) {schedule = #attn.schedule<tile_q = 16, tile_kv = 16, vector_width = 16, qk_keys = 4, qk_qvecs = 1, pv_rows = 4, pv_vecs = 2>} : tensor<1x1x16x32xf32>, tensor<1x1x64x32xf32>, tensor<1x1x64x32xf32> -> tensor<1x1x16x32xf32>
  return %o : tensor<1x1x16x32xf32>
}

// -----

// Score modifiers are applied in kernel 1's epilogue, in their order, on
// each vector of scores before the column max: the bias by a gather down the
// key's column of the collapsed bias (rows clamped below Sq), ALiBi as an
// FMA with the exact relative position, softcap through tanh. The lse result
// gets its own buffer, written from the running max and sum.
// CHECK-LABEL: func.func @modifiers_lse
//       CHECK:   %[[BIAS:.+]] = bufferization.to_buffer %arg3 read_only
//       CHECK:   %[[LSE:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x64xf32>
//       CHECK:   scf.parallel
//       CHECK:     %[[FLAT:.+]] = memref.collapse_shape %[[BIAS]] {{\[\[}}0, 1, 2, 3]] : memref<1x2x64x80xf32> into memref<10240xf32>
//       CHECK:     scf.for
//       CHECK:         vector.fma
//       CHECK:         vector.gather %[[FLAT]]
//       CHECK:         math.fma
//       CHECK:         arith.sitofp
//       CHECK:         math.fma
//       CHECK:         math.tanh
//       CHECK:         arith.maximumf {{.+}} fastmath<nnan,nsz>
//       CHECK:     math.log2
//       CHECK:     memref.store %{{.+}}, %[[LSE]]
//       CHECK:   bufferization.to_tensor %[[LSE]]
func.func @modifiers_lse(%q: tensor<1x2x64x32xf32>, %k: tensor<1x1x80x32xf32>,
                         %v: tensor<1x1x80x32xf32>, %b: tensor<1x2x64x80xf32>)
    -> (tensor<1x2x64x32xf32>, tensor<1x2x64xf32>) {
  %o, %lse = attn.sdpa %q, %k, %v bias(%b : tensor<1x2x64x80xf32>)
      {modifiers = [#attn.bias, #attn.alibi<[0.5, 0.25]>, #attn.softcap<30.0>],
       schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16,
                                 qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>}
      : tensor<1x2x64x32xf32>, tensor<1x1x80x32xf32>, tensor<1x1x80x32xf32>
      -> tensor<1x2x64x32xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x32xf32>, tensor<1x2x64xf32>
}

// -----

// Cosine similarity: query rows are divided by their norm where they are
// packed (a vector of rows at a time), and each kv tile computes its keys'
// inverse norms, which scale the scores in kernel 1's epilogue.
// CHECK-LABEL: func.func @cosine
//       CHECK:   scf.parallel
//       CHECK:     math.sqrt
//       CHECK:     arith.maximumf
//       CHECK:     scf.for
//       CHECK:       vector.reduction <add>
//       CHECK:       math.sqrt
//       CHECK:       memref.store
//       CHECK:         vector.fma
//       CHECK:         vector.broadcast
//       CHECK:         arith.mulf
//       CHECK:         arith.maximumf {{.+}} fastmath<nnan,nsz>
func.func @cosine(%q: tensor<1x2x64x32xf32>, %k: tensor<1x1x80x32xf32>,
                  %v: tensor<1x1x80x32xf32>) -> tensor<1x2x64x32xf32> {
  %o = attn.sdpa %q, %k, %v
      {scale = 10.0 : f32, modifiers = [#attn.cosine],
       schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16,
                                 qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>}
      : tensor<1x2x64x32xf32>, tensor<1x1x80x32xf32>, tensor<1x1x80x32xf32>
      -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// -----

// Probabilities: one parallel iteration per (batch, query tile), running the
// mapped heads (here 3, then 0) in turn from a constant table; each clears
// its rows of the result, computes the scores with kernel 1 and writes
// exp2(score - log2(e) · lse) row by row.
// CHECK-LABEL: func.func @probs
//       CHECK:   %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x64x80xf32>
//       CHECK:   scf.parallel (%{{.+}}) = (%{{.+}}) to (%{{.+}}) step
//       CHECK:     arith.constant dense<[3, 0]> : vector<2xi64>
//       CHECK:     scf.for %[[SLOT:.+]] =
//       CHECK:       vector.extract %{{.+}}[%[[SLOT]]] : i64 from vector<2xi64>
//       CHECK:       memref.store %{{.+}}, %[[OUT]]
//       CHECK:       vector.fma
//       CHECK:       math.exp2
//       CHECK:       memref.store %{{.+}}, %[[OUT]]
func.func @probs(%q: tensor<1x4x64x32xf32>, %k: tensor<1x2x80x32xf32>,
                 %lse: tensor<1x4x64xf32>) -> tensor<1x2x64x80xf32> {
  %p = attn.sdpa_probs %q, %k, %lse
      {heads = array<i64: 3, 0>, mask = #attn.mask<causal>,
       schedule = #attn.schedule<tile_q = 32, tile_kv = 16, vector_width = 16,
                                 qk_keys = 4, qk_qvecs = 2, pv_rows = 4, pv_vecs = 2>}
      : tensor<1x4x64x32xf32>, tensor<1x2x80x32xf32>, tensor<1x4x64xf32>
      -> tensor<1x2x64x80xf32>
  return %p : tensor<1x2x64x80xf32>
}

// -----

// qk_dot: the query tile is transposed back into rows (qRows, the second
// tile_q × head_dim buffer, after the accumulator); per block of 2 keys × 2
// rows the scores are dot products along the head dim (one K vector per
// key, FMAs into 4 accumulators), summed into one vector by two levels of
// shuffles, and each key's 2 lanes are stored into its row of the tile. The
// dot loop covers the valid rows only.
// CHECK-LABEL: func.func @dot_scores
//       CHECK:   memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
//       CHECK:   %[[QROWS:.+]] = memref.alloc() {alignment = 64 : i64} : memref<4x8xf32>
//       CHECK:   vector.shuffle {{.+}} [0, 1, 4, 5]
//       CHECK:   vector.store %{{.+}}, %[[QROWS]]
//       CHECK:   %[[END:.+]] = arith.muli %{{.+}}, %c2 : index
//       CHECK:   scf.for %[[R0:.+]] = %c0 to %[[END]] step %c2 {
//       CHECK:     scf.for %{{.+}} = %c0 to %c8 step %c4 iter_args({{.+}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
//       CHECK:       vector.load %[[QROWS]]
//       CHECK:       vector.load %[[QROWS]]
//       CHECK:       %[[K:.+]] = vector.load %{{.+}} : memref<1x1x40x8xf32>, vector<4xf32>
//  CHECK-NEXT:       vector.fma %[[K]]
//  CHECK-NEXT:       vector.fma %[[K]]
//       CHECK:     vector.shuffle {{.+}} [0, 1, 4, 5]
//       CHECK:     vector.shuffle {{.+}} [2, 3, 6, 7]
//       CHECK:     arith.addf
//       CHECK:     vector.shuffle {{.+}} [0, 4, 2, 6]
//       CHECK:     vector.shuffle {{.+}} [1, 5, 3, 7]
//       CHECK:     %[[SUMS:.+]] = arith.addf
//       CHECK:     vector.extract_strided_slice %[[SUMS]] {offsets = [0], sizes = [2], strides = [1]}
//       CHECK:     vector.store {{.+}}[%{{.+}}, %[[R0]]] : memref<8x4xf32>, vector<2xf32>
//       CHECK:     vector.extract_strided_slice %[[SUMS]] {offsets = [2], sizes = [2], strides = [1]}
//       CHECK:     vector.store {{.+}}[%{{.+}}, %[[R0]]] : memref<8x4xf32>, vector<2xf32>
func.func @dot_scores(%q: tensor<1x2x1x8xf32>, %k: tensor<1x1x40x8xf32>,
                      %v: tensor<1x1x40x8xf32>) -> tensor<1x2x1x8xf32> {
  %o = attn.sdpa %q, %k, %v
      {schedule = #attn.schedule<tile_q = 4, tile_kv = 8, vector_width = 4,
                                 qk_keys = 2, qk_qvecs = 1, pv_rows = 2, pv_vecs = 1,
                                 heads_per_tile = 2, qk_dot = 1>}
      : tensor<1x2x1x8xf32>, tensor<1x1x40x8xf32>, tensor<1x1x40x8xf32>
      -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}
