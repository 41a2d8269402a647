// RUN: attn-opt %s --split-input-file --attn-lower-blocks-to-loops=vector-width=8 --canonicalize --cse | FileCheck %s

// A linear with N = 20 (not a multiple of the vector width: masked C access),
// M = 4 (one row past the 3-row blocks: zero padding, not stored), K = 16 in two
// blocks of 8: the weight is packed into 2 panels of 16 columns, 8 x 8
// blocks transposed with 3 rounds of shuffles; then 2 column blocks x 2
// row groups in parallel, each walking its K blocks and, per block, its
// row tiles: copy the tile's A block, run the 3 x 2 register block (zero
// start in the first K block, bias + GELU before the masked store in the
// last, both run-time conditions).
// CHECK-LABEL: func.func @linear
//       CHECK:   %[[PACKED:.*]] = memref.alloc() {alignment = 64 : i64} : memref<512xf32>
//       CHECK:   scf.parallel (%{{.*}}) = (%c0) to (%c2)
// CHECK-COUNT-24:  vector.shuffle
//       CHECK:     vector.store %{{.*}}, %[[PACKED]]
//       CHECK:   scf.parallel (%{{.*}}) = (%c0) to (%c4)
//       CHECK:     %[[ABLOCK:.*]] = memref.alloc() {alignment = 64 : i64} : memref<72xf32>
//       CHECK:     vector.store %{{.*}}, %[[ABLOCK]]
//       CHECK:     scf.for {{.*}} iter_args
// CHECK-COUNT-6:     vector.fma
//       CHECK:     math.erf
//       CHECK:     vector.maskedstore
//       CHECK:   scf.if
//       CHECK:   bufferization.to_tensor
func.func @linear(%x: tensor<4x16xf32>, %w: tensor<20x16xf32>, %b: tensor<20xf32>) -> tensor<4x20xf32> {
  %0 = attn.linear %x, %w bias(%b : tensor<20xf32>) {activation = #attn.activation<gelu>,
      schedule = #attn.gemm_schedule<vector_width = 8, rows = 3, vecs = 2, tile_m = 3, tile_n = 16, tile_k = 8, m_groups = 2>}
      : tensor<4x16xf32>, tensor<20x16xf32> -> tensor<4x20xf32>
  return %0 : tensor<4x20xf32>
}

// -----

// RMS norm: per row (small ops run their rows in one parallel iteration,
// which canonicalization unwraps), a vector sum of squares (8 lanes, then a
// scalar tail of 2), one reciprocal square root, then the scaled store.
// CHECK-LABEL: func.func @rms_norm
//       CHECK:   scf.for
//       CHECK:     math.fma {{.*}} : vector<8xf32>
//       CHECK:     vector.reduction <add>
//       CHECK:     math.fma {{.*}} : vector<1xf32>
//       CHECK:     math.sqrt
//       CHECK:     vector.store {{.*}} vector<8xf32>
func.func @rms_norm(%x: tensor<3x10xf32>, %w: tensor<10xf32>) -> tensor<3x10xf32> {
  %0 = attn.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<3x10xf32>, tensor<10xf32>
  return %0 : tensor<3x10xf32>
}

// -----

// RoPE reads cos/sin from one constant table computed at compile time
// ([2, S, D/2]; row 0 is position `offset`, so cos = 1 and sin = 0 there).
// CHECK-LABEL: memref.global "private" constant @attn_rope_
//  CHECK-SAME:   memref<2x4x8xf32> = dense<{{\[\[\[}}1.000000e+00, 1.000000e+00
// CHECK-LABEL: func.func @rope
//       CHECK:   memref.get_global @attn_rope_
//       CHECK:   scf.for
//       CHECK:     arith.subf
//       CHECK:     arith.addf
func.func @rope(%x: tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32> {
  %0 = attn.rope %x {theta = 10000.0 : f64, offset = 0 : i64} : tensor<1x2x4x16xf32>
  return %0 : tensor<1x2x4x16xf32>
}

// -----

// Head split: one copy per (batch, head, position) row of D elements.
// CHECK-LABEL: func.func @split_heads
//       CHECK:   scf.for
//       CHECK:     vector.load {{.*}} : memref<96xf32>, vector<8xf32>
//       CHECK:     vector.store {{.*}} : memref<96xf32>, vector<8xf32>
func.func @split_heads(%x: tensor<1x6x16xf32>) -> tensor<1x2x6x8xf32> {
  %0 = attn.split_heads %x : tensor<1x6x16xf32> -> tensor<1x2x6x8xf32>
  return %0 : tensor<1x2x6x8xf32>
}

// -----

// Token lookup clamps ids into the table before the row copy.
// CHECK-LABEL: func.func @embedding
//       CHECK:   memref.load {{.*}} : memref<4xi32>
//       CHECK:   arith.maxsi
//       CHECK:   arith.minsi
//       CHECK:   vector.load {{.*}} : memref<80xf32>, vector<8xf32>
func.func @embedding(%ids: tensor<1x4xi32>, %t: tensor<10x8xf32>) -> tensor<1x4x8xf32> {
  %0 = attn.embedding %ids, %t : tensor<1x4xi32>, tensor<10x8xf32> -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// Enough rows (2048 x 16 elements) for two parallel iterations.
// CHECK-LABEL: func.func @big_add
//       CHECK:   scf.parallel (%{{.*}}) = (%c0) to (%c2)
func.func @big_add(%x: tensor<2048x16xf32>, %y: tensor<16xf32>) -> tensor<2048x16xf32> {
  %0 = attn.add %x, %y : tensor<2048x16xf32>, tensor<16xf32>
  return %0 : tensor<2048x16xf32>
}

// -----

// A row-broadcast product ([4, 1] onto [4, 8]) loads one scalar per row.
// CHECK-LABEL: func.func @mul_column
//       CHECK:   memref.load {{.*}} : memref<4xf32>
//       CHECK:   vector.broadcast
//       CHECK:   arith.mulf {{.*}} : vector<8xf32>
func.func @mul_column(%x: tensor<4x8xf32>, %c: tensor<4x1xf32>) -> tensor<4x8xf32> {
  %0 = attn.mul %x, %c : tensor<4x8xf32>, tensor<4x1xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// A model weight (an entry argument marked attn.weight, or a layer
// parameter that every call passes one) is packed on the first run only:
// the runtime keeps the packed buffer (attnrt_packed_begin says whether this
// run must fill it). A weight that is a model input is packed on every run.
// CHECK-LABEL: func.func @entry
//       CHECK:   memref.extract_aligned_pointer_as_index
//       CHECK:   call @attnrt_packed_begin
//       CHECK:   scf.if
//       CHECK:     scf.parallel
//       CHECK:     call @attnrt_packed_end
//       CHECK:   call @layer
//   CHECK-NOT:   attnrt_packed_begin
//       CHECK:   return
// CHECK-LABEL: func.func private @layer
//       CHECK:   call @attnrt_packed_begin
// CHECK-LABEL: func.func private @not_always_weight
//   CHECK-NOT:   attnrt_packed_begin
//       CHECK:   return
func.func @entry(%x: tensor<4x16xf32>, %w: tensor<32x16xf32> {attn.weight},
                 %v: tensor<32x16xf32>)
    -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>)
    attributes {attn.entry} {
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 4, vecs = 2, tile_m = 4, tile_n = 16, tile_k = 16>}
      : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  %1 = attn.linear %x, %v {schedule = #attn.gemm_schedule<vector_width = 8, rows = 4, vecs = 2, tile_m = 4, tile_n = 16, tile_k = 16>}
      : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  %2 = call @layer(%x, %w) : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xf32>
  %3 = call @not_always_weight(%x, %w) : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xf32>
  %4 = call @not_always_weight(%x, %v) : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xf32>
  return %0, %1, %2, %3 : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}
func.func private @layer(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>) -> tensor<4x32xf32> {
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 4, vecs = 2, tile_m = 4, tile_n = 16, tile_k = 16>}
      : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  return %0 : tensor<4x32xf32>
}
func.func private @not_always_weight(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>) -> tensor<4x32xf32> {
  %0 = attn.linear %x, %w {schedule = #attn.gemm_schedule<vector_width = 8, rows = 4, vecs = 2, tile_m = 4, tile_n = 16, tile_k = 16>}
      : tensor<4x16xf32>, tensor<32x16xf32> -> tensor<4x32xf32>
  return %0 : tensor<4x32xf32>
}
