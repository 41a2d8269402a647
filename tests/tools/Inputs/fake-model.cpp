//===- fake-model.cpp - A hand-written model table for harness tests ------===//
//
// Test code only. Stands in for an object emitted by attnc: it defines
// `attn_main_model` (see runtime/AttnModel.h) with inputs of every content
// kind, f32 and i32 outputs, and a `run` that copies `x` to `y` and `seg` to
// `seg_copy` and returns the status stored in `status[0]`. CMake links it
// with libAttnHarness.a and libAttnRuntime.a, as attnc links a generated
// object. FAKE_ABI_VERSION overrides the table's ABI version, so that a
// second build tests its rejection.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnModel.h"

#include <cstring>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION ATTN_ABI_VERSION
#endif

namespace {

const int64_t kMatrix[] = {2, 3};
const int64_t kLens[] = {2};
const int64_t kSeg[] = {2, 6};
const int64_t kStatus[] = {1};

const attn_tensor_info kTensors[] = {
    {"x", ATTN_DTYPE_F32, ATTN_ROLE_INPUT, ATTN_CONTENT_DATA, 2, 0, kMatrix},
    {"lens", ATTN_DTYPE_I32, ATTN_ROLE_INPUT, ATTN_CONTENT_LENGTHS, 1, 5,
     kLens},
    {"seg", ATTN_DTYPE_I32, ATTN_ROLE_INPUT, ATTN_CONTENT_SEGMENTS, 2, 0, kSeg},
    {"status", ATTN_DTYPE_I32, ATTN_ROLE_INPUT, ATTN_CONTENT_DATA, 1, 0,
     kStatus},
    {"y", ATTN_DTYPE_F32, ATTN_ROLE_OUTPUT, ATTN_CONTENT_DATA, 2, 0, kMatrix},
    {"seg_copy", ATTN_DTYPE_I32, ATTN_ROLE_OUTPUT, ATTN_CONTENT_DATA, 2, 0,
     kSeg},
};

int32_t run(void **buffers) {
  std::memcpy(buffers[4], buffers[0], 2 * 3 * sizeof(float));
  std::memcpy(buffers[5], buffers[2], 2 * 6 * sizeof(int32_t));
  return *static_cast<const int32_t *>(buffers[3]);
}

} // namespace

extern "C" const attn_model_info attn_main_model = {
    FAKE_ABI_VERSION, sizeof(kTensors) / sizeof(kTensors[0]),
    "fake",           1000,
    kTensors,         run};
