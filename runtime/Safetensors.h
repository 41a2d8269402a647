//===- Safetensors.h - a strict safetensors reader and writer ---*- C++ -*-===//
//
// Internal to the runtime (the C API is attnrt_weights_* in AttnRuntime.h).
//
// A safetensors file is [N: u64 little-endian][N bytes of JSON][data]: the
// JSON object maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} (byte offsets into the data buffer, which starts at 8 + N)
// and may hold "__metadata__", an object of strings. The reader maps the
// file read-only and accepts it only if it follows every rule of the
// reference reader (huggingface/safetensors `Metadata::validate`):
//
//   1. the file has at least 8 bytes, N <= kMaxHeaderSize and 8 + N <= the
//      file size;
//   2. the header is valid UTF-8 and strict JSON without duplicate keys
//      (Json.h);
//   3. every dtype is known and every shape's byte size fits in 64 bits;
//   4. end - begin == the shape's element count * the dtype's size;
//   5. sorted by offsets, the tensors begin at 0 and each begins where the
//      previous one ends (no gap, no overlap);
//   6. the data buffer ends exactly where the last tensor does (no trailing
//      bytes);
//   7. "__metadata__", if present, maps strings to strings.
//
// Values are not checked (NaN and infinity are data). Every error message
// is lowercase and starts with the file's path.
//
// A sharded checkpoint is a `model.safetensors.index.json`, {"weight_map":
// {name: shard file}, "metadata": {...}}, shard files relative to the
// index's folder; openIndex checks that every shard is valid, that each name
// is in the shard the map names and that no name is in two shards.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_SAFETENSORS_H
#define ATTN_RUNTIME_SAFETENSORS_H

#include "runtime/AttnRuntime.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace attn::safetensors {

/// Headers longer than this are rejected (the reference's HeaderTooLarge).
constexpr uint64_t kMaxHeaderSize = 100000000;
/// Shapes with more dimensions are rejected.
constexpr size_t kMaxFileRank = 64;

/// A dtype of the format.
struct DType {
  const char *name;  // as spelled in files: "F32", "BF16", ...
  uint32_t size;     // bytes per element
  int32_t attnDtype; // the matching attn_dtype, or -1
};

/// The dtype spelled `name` in a file, or null for an unknown one.
const DType *findDType(std::string_view name);
/// The name in lowercase, as messages spell dtypes: "f32", "bf16".
std::string dtypeName(const DType &dtype);
/// The dtype and shape, e.g. "f32[2, 2]".
std::string typeString(const DType &dtype, const std::vector<int64_t> &shape);

struct Tensor {
  std::string name;
  const DType *dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;       // data_offsets, relative to the data buffer
  const unsigned char *data; // the first byte, in the mapping
};

/// The contents of a header, validated against the whole file.
struct Header {
  uint64_t size = 0;           // N
  std::vector<Tensor> tensors; // sorted by data offsets
  std::vector<std::pair<std::string, std::string>> metadata; // file order
};

/// Validates the `size` bytes of a whole file (rules 1-7 above) and fills
/// `out`, whose tensors point into `bytes`. On failure returns false with
/// `error` = "<path>: <what is wrong>".
bool readHeader(const unsigned char *bytes, uint64_t size,
                const std::string &path, Header &out, std::string &error);

/// A valid safetensors file, mapped read-only until destroyed.
class File {
public:
  /// Maps and validates `path` into `out`; on failure returns
  /// ATTNRT_ERROR_IO (cannot open or map) or ATTNRT_ERROR_FORMAT with
  /// `error` set.
  static attnrt_status open(const std::string &path, std::unique_ptr<File> &out,
                            std::string &error);
  ~File();
  File(const File &) = delete;
  File &operator=(const File &) = delete;

  const std::string &path() const { return filePath; }
  const Header &header() const { return contents; }
  /// The tensor named `name`, or null.
  const Tensor *find(std::string_view name) const;

private:
  File() = default;
  std::string filePath;
  void *mapping = nullptr;
  size_t mappedSize = 0;
  Header contents;
  std::unordered_map<std::string_view, const Tensor *> byName;
};

/// Opens the shards of the index file `path` (in the order of their first
/// appearance in the weight map) into `shards` and checks the map against
/// them; on failure returns ATTNRT_ERROR_IO or ATTNRT_ERROR_FORMAT with
/// `error` set.
attnrt_status openIndex(const std::string &path,
                        std::vector<std::unique_ptr<File>> &shards,
                        std::string &error);

/// IEEE binary16 and bfloat16 to f32, exact for every value (subnormals,
/// infinities; NaNs stay NaNs with their sign and payload bits). These and
/// convertToF32 are defined in Weights.cpp.
float halfToFloat(uint16_t bits);
float bfloat16ToFloat(uint16_t bits);
/// f32 to f16 / bf16, rounding to nearest even (overflow: infinity; NaN
/// stays NaN).
uint16_t floatToHalf(float value);
uint16_t floatToBfloat16(float value);

/// Converts the `count` elements of an F32, F16 or BF16 tensor at `data`
/// (any alignment) to f32 at `out`, in parallel on the runtime's threads.
void convertToF32(const DType &dtype, const unsigned char *data, int64_t count,
                  float *out);

} // namespace attn::safetensors

#endif // ATTN_RUNTIME_SAFETENSORS_H
