//===- AttnModel.h - the typed ABI of a compiled attnc model ----*- C -*-===//
//
// What an object emitted by `attnc` exports, as plain data: no text is parsed
// at run time. Every symbol of a compiled model carries the model's prefix
// (`attnc --prefix`, default `attn_<model name>`), so several models can be
// linked into one program:
//
//   extern const attn_model_info <prefix>_model;   // the table below
//   int32_t <prefix>_run_buffers(void **buffers);           // = <prefix>_model.run
//
// `buffers[i]` points at the contiguous, row-major data of `tensors[i]`, in
// table order: inputs and weights in the entry function's argument order,
// then outputs. `run` returns an `attnrt_status` (0 = ATTNRT_OK).
//
// Weights (ATTN_ROLE_WEIGHT) are f32 and named by their checkpoint tensor
// names; attnrt_weights_bind (AttnRuntime.h) may point their buffers into a
// read-only mapping of a safetensors file, aligned to 4 bytes only, so `run`
// must never write a weight nor assume more than 4-byte alignment for one.
//
// An executable built by attnc also defines `attn_main_model` (an alias of
// `<prefix>_model`), which the generic harness main (libAttnHarness.a) runs.
//
// Compatibility: the enums are append-only and `abi_version` changes when a
// struct's layout does. A reader must reject versions it does not know.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_ATTNMODEL_H
#define ATTN_RUNTIME_ATTNMODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTN_ABI_VERSION 1

/// Element types (storage). Append-only.
typedef enum attn_dtype {
  ATTN_DTYPE_F32 = 0,
  ATTN_DTYPE_I32 = 1,
  ATTN_DTYPE_F16 = 2,  // IEEE half: attention inputs and outputs
  ATTN_DTYPE_BF16 = 3, // bfloat16: attention inputs and outputs
  ATTN_DTYPE_I64 = 4,  // token ids
} attn_dtype;

/// What a tensor is to the caller. Append-only.
typedef enum attn_role {
  ATTN_ROLE_INPUT = 0,
  ATTN_ROLE_OUTPUT = 1,
  ATTN_ROLE_WEIGHT = 2,     // a model parameter (e.g. a layer's matrix)
  ATTN_ROLE_AUX_OUTPUT = 3, // reserved: not emitted yet (LSE, maps)
} attn_role;

/// What the values of an input mean: how a caller makes valid random ones and
/// which values the model rejects. Append-only.
typedef enum attn_content {
  ATTN_CONTENT_DATA = 0,     // any value (activations)
  ATTN_CONTENT_LENGTHS = 1,  // i32 valid lengths, each in [0, bound]
  ATTN_CONTENT_SEGMENTS = 2, // i32 segment ids, non-decreasing along the
                             // last dimension
  ATTN_CONTENT_TOKENS = 3,   // i32 token ids, each in [0, bound)
} attn_content;

/// One tensor of the model. 40 bytes, no padding.
typedef struct attn_tensor_info {
  const char *name;     // NUL-terminated, unique within the model
  int32_t dtype;        // attn_dtype
  int32_t role;         // attn_role
  int32_t content;      // attn_content
  int32_t rank;         // 0..8
  int64_t bound;        // LENGTHS: the largest valid value; TOKENS: the
                        // vocabulary size (ids are below it)
  const int64_t *shape; // `rank` dimensions
} attn_tensor_info;

/// A compiled model. 40 bytes, no padding.
typedef struct attn_model_info {
  uint32_t abi_version; // ATTN_ABI_VERSION
  uint32_t num_tensors;
  const char *name;                 // the model's name
  uint64_t flops;                   // useful FLOPs of one run
  const attn_tensor_info *tensors;  // num_tensors entries
  int32_t (*run)(void **buffers);   // returns an attnrt_status
} attn_model_info;

#ifdef __cplusplus
} // extern "C"
#endif

#endif // ATTN_RUNTIME_ATTNMODEL_H
