//===- FuzzSafetensors.cpp - libFuzzer target: .safetensors files ---------===//
//
// The bytes as a whole .safetensors file, validated by the runtime's reader
// (rules 1-7 of runtime/Safetensors.h). Every tensor of a file it accepts
// must lie inside the buffer; each f32, f16 or bf16 one is converted to
// f32 to touch its bytes.
//
//===----------------------------------------------------------------------===//
#include "runtime/Safetensors.h"

#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attn::safetensors::Header header;
  std::string error;
  if (!attn::safetensors::readHeader(data, size, "fuzz.safetensors", header,
                                     error))
    return 0;
  for (const attn::safetensors::Tensor &t : header.tensors) {
    if (t.data < data || t.data + (t.end - t.begin) > data + size)
      __builtin_trap();
    std::string name = t.dtype->name;
    if (name != "F32" && name != "F16" && name != "BF16")
      continue;
    int64_t count = 1;
    for (int64_t dim : t.shape)
      count *= dim;
    std::vector<float> values(static_cast<size_t>(count));
    attn::safetensors::convertToF32(*t.dtype, t.data, count, values.data());
  }
  return 0;
}
