// RUN: attn-opt %s --split-input-file --attn-select-schedule="vector-width=0" --verify-diagnostics
// RUN: not attn-opt %s --attn-select-schedule="schedule=tile_x=1" 2>&1 | FileCheck %s --check-prefix=SYNTAX

// expected-error @+1 {{expected positive vector-width and vector-registers, got 0 and 32}}
func.func @bad_target(%q: tensor<1x1x16x16xf32>) -> tensor<1x1x16x16xf32> {
  return %q : tensor<1x1x16x16xf32>
}

// SYNTAX: error: invalid schedule override: expected key=value with a key among tile_q, tile_kv, vector_width, qk_keys, qk_qvecs, pv_rows, pv_vecs, heads_per_tile, kv_splits, prefetch, qk_dot; got 'tile_x=1'
