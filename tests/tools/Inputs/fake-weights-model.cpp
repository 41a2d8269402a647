//===- fake-weights-model.cpp - A hand-written model table with weights ---===//
//
// Test code only. Stands in for an object emitted by attnc whose model has
// weights (role ATTN_ROLE_WEIGHT, named like Hugging Face tensors): input
// x f32[2, 3], weights `model.layers.0.w` f32[2, 3], `norm.weight` f32[3]
// and `encoder.LayerNorm.bias` f32[3], and output
//
//   y[i][j] = (x[i][j] + w[i][j]) * norm[j] + bias[j]
//
// computed by `run` in plain C++, so that a test can predict y from the
// weights it wrote. Linked with libAttnHarness.a like attn-fake-model.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnModel.h"

namespace {

const int64_t kMatrix[] = {2, 3};
const int64_t kVector[] = {3};

const attn_tensor_info kTensors[] = {
    {"x", ATTN_DTYPE_F32, ATTN_ROLE_INPUT, ATTN_CONTENT_DATA, 2, 0, kMatrix},
    {"model.layers.0.w", ATTN_DTYPE_F32, ATTN_ROLE_WEIGHT, ATTN_CONTENT_DATA, 2,
     0, kMatrix},
    {"norm.weight", ATTN_DTYPE_F32, ATTN_ROLE_WEIGHT, ATTN_CONTENT_DATA, 1, 0,
     kVector},
    {"encoder.LayerNorm.bias", ATTN_DTYPE_F32, ATTN_ROLE_WEIGHT,
     ATTN_CONTENT_DATA, 1, 0, kVector},
    {"y", ATTN_DTYPE_F32, ATTN_ROLE_OUTPUT, ATTN_CONTENT_DATA, 2, 0, kMatrix},
};

int32_t run(void **buffers) {
  const float *x = static_cast<const float *>(buffers[0]);
  const float *w = static_cast<const float *>(buffers[1]);
  const float *norm = static_cast<const float *>(buffers[2]);
  const float *bias = static_cast<const float *>(buffers[3]);
  float *y = static_cast<float *>(buffers[4]);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      y[i * 3 + j] = (x[i * 3 + j] + w[i * 3 + j]) * norm[j] + bias[j];
  return 0;
}

} // namespace

extern "C" const attn_model_info attn_main_model = {
    ATTN_ABI_VERSION, sizeof(kTensors) / sizeof(kTensors[0]),
    "fake_weights",   12,
    kTensors,         run};
