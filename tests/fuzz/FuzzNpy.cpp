//===- FuzzNpy.cpp - libFuzzer target: .npy files -------------------------===//
//
// The bytes as a .npy file, read through fmemopen by the runtime's reader
// (what `--input NAME=FILE.npy` calls). A file it accepts must hold exactly
// the bytes its header announces; a float one is converted to f32 to touch
// them all.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"
#include "runtime/Npy.h"

#include <cstdint>
#include <cstdio>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // fmemopen of 0 bytes fails; a one-byte buffer with 0 bytes readable
  // stands for the empty file.
  std::vector<uint8_t> copy(data, data + size);
  copy.push_back(0);
  FILE *file = fmemopen(copy.data(), size == 0 ? 1 : size, "rb");
  if (!file)
    return 0;
  if (size == 0)
    fgetc(file);
  attnrt_tensor tensor;
  char err[512];
  if (attn::npyLoadStream(file, "fuzz.npy", &tensor, err, sizeof(err)) ==
      ATTNRT_OK) {
    int64_t n = attnrt_tensor_numel(&tensor);
    std::vector<float> values(static_cast<size_t>(n));
    if (tensor.dtype == ATTN_DTYPE_F32 || tensor.dtype == ATTN_DTYPE_F16 ||
        tensor.dtype == ATTN_DTYPE_BF16)
      attnrt_to_f32(values.data(), tensor.data, tensor.dtype, n);
    attnrt_tensor_free(&tensor);
  }
  fclose(file);
  return 0;
}
