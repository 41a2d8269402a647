//===- Weights.cpp - weights from safetensors files (C API) ---------------===//
//
// attnrt_weights_* and attnrt_safetensors_save (AttnRuntime.h) on the reader
// of Safetensors.h: files, index files and folders opened as one set of
// tensors, model weight names matched against checkpoint names, f16 and bf16
// converted to f32 (the conversions of Safetensors.h live here), and the
// writer.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"
#include "runtime/Json.h"
#include "runtime/Safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <unordered_set>

namespace attn::safetensors {

//===----------------------------------------------------------------------===//
// Conversion to f32
//===----------------------------------------------------------------------===//

float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) { // infinity or NaN (the payload is kept)
    bits = sign | 0x7F800000 | mantissa << 13;
  } else if (exponent != 0) { // normal: rebias 15 -> 127
    bits = sign | (exponent + 112) << 23 | mantissa << 13;
  } else if (mantissa == 0) { // zero
    bits = sign;
  } else {
    // Subnormal, mantissa * 2^-24: shift the leading 1 up to the implicit
    // bit; every shift halves the exponent (2^-14 is f32 exponent 113).
    uint32_t biased = 113;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --biased;
    }
    bits = sign | biased << 23 | (mantissa & 0x3FF) << 13;
  }
  float out;
  memcpy(&out, &bits, sizeof(out));
  return out;
}

float bfloat16ToFloat(uint16_t bits) {
  // bfloat16 is the upper half of an f32.
  const uint32_t wide = uint32_t(bits) << 16;
  float out;
  memcpy(&out, &wide, sizeof(out));
  return out;
}

uint16_t floatToHalf(float value) {
  uint32_t x;
  memcpy(&x, &value, sizeof(x));
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t magnitude = x & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) // NaN: stays a quiet NaN
    return uint16_t(sign | 0x7E00 | ((magnitude >> 13) & 0x3FF));
  if (magnitude >= 0x477FF000) // 65520 and up round to infinity
    return uint16_t(sign | 0x7C00);
  if (magnitude < 0x38800000) { // below 2^-14: a subnormal (or zero)
    float scaled;
    memcpy(&scaled, &magnitude, sizeof(scaled));
    // mantissa * 2^-24 exactly: round scaled * 2^24 to nearest even (1024
    // is the smallest normal, whose bits are the same).
    return uint16_t(sign | uint32_t(std::nearbyint(scaled * 16777216.0f)));
  }
  // Normal: rebias 127 -> 15 and round the mantissa from 23 to 10 bits to
  // nearest even; a carry moves into the exponent as it should.
  const uint32_t rebased = magnitude - (112u << 23);
  return uint16_t(sign |
                  ((rebased + 0xFFF + ((rebased >> 13) & 1)) >> 13));
}

uint16_t floatToBfloat16(float value) {
  uint32_t x;
  memcpy(&x, &value, sizeof(x));
  if ((x & 0x7FFFFFFF) > 0x7F800000) // NaN: stays a quiet NaN
    return uint16_t((x >> 16) | 0x40);
  return uint16_t((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

namespace {

struct ConvertTask {
  const DType *dtype;
  const unsigned char *data;
  float *out;
};

/// Elements [begin, end) of a ConvertTask; reads bytes, so any alignment
/// works.
void convertRange(int64_t begin, int64_t end, void *ctx) {
  const ConvertTask &task = *static_cast<const ConvertTask *>(ctx);
  if (task.dtype->attnDtype == ATTN_DTYPE_F32) {
    memcpy(task.out + begin, task.data + 4 * begin, size_t(end - begin) * 4);
    return;
  }
  // One loop per dtype, so that the bf16 one (a shift) vectorizes.
  const unsigned char *p = task.data;
  if (task.dtype->attnDtype == ATTN_DTYPE_BF16) {
    for (int64_t i = begin; i < end; ++i)
      task.out[i] = bfloat16ToFloat(uint16_t(p[2 * i] | p[2 * i + 1] << 8));
  } else {
    for (int64_t i = begin; i < end; ++i)
      task.out[i] = halfToFloat(uint16_t(p[2 * i] | p[2 * i + 1] << 8));
  }
}

} // namespace

void convertToF32(const DType &dtype, const unsigned char *data, int64_t count,
                  float *out) {
  ConvertTask task{&dtype, data, out};
  attnrt_parallel_for(count, convertRange, &task);
}

} // namespace attn::safetensors

using namespace attn::safetensors;

namespace {

/// Copies `message` into `err` (truncated to `errlen` bytes, NUL included)
/// and returns `status`.
attnrt_status fail(char *err, size_t errlen, attnrt_status status,
                   const std::string &message) {
  if (err && errlen) {
    const size_t n = std::min(message.size(), errlen - 1);
    memcpy(err, message.data(), n);
    err[n] = '\0';
  }
  return status;
}

void clearError(char *err, size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A tensor of an open file.
struct Located {
  const File *file;
  const Tensor *tensor;
};

} // namespace

struct attnrt_weights {
  std::vector<std::unique_ptr<File>> files;
  /// Every tensor by name, and by its name without a (non-empty) first
  /// component, for prefixed checkpoints: "model.norm.weight" under
  /// "norm.weight".
  std::unordered_map<std::string_view, Located> byName;
  std::unordered_map<std::string_view, std::vector<Located>> byTail;
  /// The paths of the files, for messages: "a.safetensors, b.safetensors".
  std::string searched;
  /// f32 copies of converted tensors (64-byte aligned, from
  /// aligned_alloc), made once each.
  std::unordered_map<const Tensor *, float *> converted;

  ~attnrt_weights() {
    for (auto &entry : converted)
      free(entry.second);
  }

  /// The three rules of attnrt_weights_find for one spelling of the name;
  /// `prefixed` collects the candidates when the prefix rule is ambiguous.
  const Located *match(std::string_view name,
                       std::vector<const Located *> &prefixed) const {
    if (auto it = byName.find(name); it != byName.end())
      return &it->second;
    if (auto it = byTail.find(name); it != byTail.end()) {
      if (it->second.size() == 1)
        return &it->second.front();
      for (const Located &candidate : it->second)
        prefixed.push_back(&candidate);
    }
    const size_t dot = name.find('.');
    if (dot != std::string_view::npos)
      if (auto it = byName.find(name.substr(dot + 1)); it != byName.end())
        return &it->second;
    return nullptr;
  }

  /// The tensor for weight `name` (with the legacy LayerNorm spellings), or
  /// null with `error` set.
  const Located *lookup(std::string_view name, std::string &error) const {
    std::vector<const Located *> prefixed;
    if (const Located *found = match(name, prefixed))
      return found;
    static const std::pair<std::string_view, std::string_view> kLegacy[] = {
        {"LayerNorm.weight", "LayerNorm.gamma"},
        {"LayerNorm.bias", "LayerNorm.beta"}};
    for (const auto &[modern, legacy] : kLegacy)
      if (endsWith(name, modern)) {
        std::string old(name.substr(0, name.size() - modern.size()));
        if (const Located *found = match(old.append(legacy), prefixed))
          return found;
      }
    error = fmt::format("weight '{}' not found in {}", name, searched);
    if (!prefixed.empty()) {
      std::vector<std::string> names;
      for (const Located *candidate : prefixed)
        names.push_back("'" + candidate->tensor->name + "'");
      error += fmt::format(" ({} match it with different prefixes)",
                           fmt::join(names, ", "));
    }
    return nullptr;
  }
};

namespace {

/// Opens one path of attnrt_weights_open into `files`.
attnrt_status openPath(const std::string &path,
                       std::vector<std::unique_ptr<File>> &files,
                       std::string &error) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    error = fmt::format("{}: cannot open: {}", path, strerror(errno));
    return ATTNRT_ERROR_IO;
  }
  std::string index = path;
  if (S_ISDIR(info.st_mode)) {
    const std::string folder = endsWith(path, "/") ? path : path + "/";
    index = folder + "model.safetensors.index.json";
    if (stat(index.c_str(), &info) != 0) {
      // No index: every *.safetensors file, by name.
      DIR *dir = opendir(path.c_str());
      if (!dir) {
        error = fmt::format("{}: cannot open: {}", path, strerror(errno));
        return ATTNRT_ERROR_IO;
      }
      std::vector<std::string> names;
      while (const dirent *entry = readdir(dir))
        if (endsWith(entry->d_name, ".safetensors"))
          names.push_back(entry->d_name);
      closedir(dir);
      if (names.empty()) {
        error = fmt::format("{}: the folder holds no "
                            "model.safetensors.index.json and no "
                            ".safetensors file",
                            path);
        return ATTNRT_ERROR_IO;
      }
      std::sort(names.begin(), names.end());
      for (const std::string &name : names) {
        std::unique_ptr<File> file;
        if (attnrt_status status = File::open(folder + name, file, error))
          return status;
        files.push_back(std::move(file));
      }
      return ATTNRT_OK;
    }
  }
  if (endsWith(index, ".json")) {
    std::vector<std::unique_ptr<File>> shards;
    if (attnrt_status status = openIndex(index, shards, error))
      return status;
    for (auto &shard : shards)
      files.push_back(std::move(shard));
    return ATTNRT_OK;
  }
  std::unique_ptr<File> file;
  if (attnrt_status status = File::open(path, file, error))
    return status;
  files.push_back(std::move(file));
  return ATTNRT_OK;
}

/// The tensor for weight `name`, or null with the error in `err`.
const Located *find(const attnrt_weights *w, const char *name, char *err,
                    size_t errlen) {
  std::string error;
  const Located *found = w->lookup(name, error);
  if (!found)
    fail(err, errlen, ATTNRT_ERROR_NOT_FOUND, error);
  return found;
}

} // namespace

attnrt_status attnrt_weights_open(const char *const *paths, int n,
                                  attnrt_weights **out, char *err,
                                  size_t errlen) {
  clearError(err, errlen);
  if (!out)
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_weights_open: null output");
  *out = nullptr;
  if (n < 0 || (n > 0 && !paths))
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_weights_open: invalid list of paths");
  std::vector<std::unique_ptr<File>> opened;
  std::string error;
  for (int i = 0; i < n; ++i) {
    if (!paths[i] || !*paths[i])
      return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                  "attnrt_weights_open: empty path");
    if (attnrt_status status = openPath(paths[i], opened, error))
      return fail(err, errlen, status, error);
  }

  // A file reached twice (a folder and a file in it) is kept once.
  auto weights = std::make_unique<attnrt_weights>();
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::string> kept;
  for (auto &file : opened) {
    struct stat info;
    if (stat(file->path().c_str(), &info) == 0 &&
        !seen.insert({info.st_dev, info.st_ino}).second)
      continue;
    kept.push_back(file->path());
    weights->files.push_back(std::move(file));
  }
  weights->searched =
      kept.empty() ? "no files" : fmt::format("{}", fmt::join(kept, ", "));
  for (const auto &file : weights->files)
    for (const Tensor &t : file->header().tensors) {
      const Located located{file.get(), &t};
      auto [it, inserted] = weights->byName.emplace(t.name, located);
      if (!inserted)
        return fail(err, errlen, ATTNRT_ERROR_FORMAT,
                    fmt::format("tensor '{}' is in both {} and {}", t.name,
                                it->second.file->path(), file->path()));
      const size_t dot = t.name.find('.');
      if (dot != std::string::npos && dot > 0)
        weights->byTail[std::string_view(t.name).substr(dot + 1)].push_back(
            located);
    }
  *out = weights.release();
  return ATTNRT_OK;
}

void attnrt_weights_close(attnrt_weights *w) { delete w; }

attnrt_status attnrt_weights_find(const attnrt_weights *w, const char *name,
                                  attnrt_weight_info *out, char *err,
                                  size_t errlen) {
  clearError(err, errlen);
  if (!w || !name || !out)
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_weights_find: null argument");
  const Located *found = find(w, name, err, errlen);
  if (!found)
    return ATTNRT_ERROR_NOT_FOUND;
  const Tensor &t = *found->tensor;
  *out = {t.name.c_str(),
          found->file->path().c_str(),
          t.dtype->name,
          t.dtype->attnDtype,
          int32_t(t.shape.size()),
          t.shape.data(),
          t.data,
          t.end - t.begin};
  return ATTNRT_OK;
}

attnrt_status attnrt_weights_get_f32(attnrt_weights *w, const char *name,
                                     int64_t rank, const int64_t *shape,
                                     const float **data, char *err,
                                     size_t errlen) {
  clearError(err, errlen);
  if (!w || !name || !data || rank < 0 || (rank && !shape))
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_weights_get_f32: invalid argument");
  const Located *found = find(w, name, err, errlen);
  if (!found)
    return ATTNRT_ERROR_NOT_FOUND;
  const Tensor &t = *found->tensor;
  const std::string &path = found->file->path();
  const std::string subject =
      t.name == name ? fmt::format("weight '{}'", name)
                     : fmt::format("tensor '{}' for weight '{}'", t.name, name);
  const int32_t dtype = t.dtype->attnDtype;
  if (dtype != ATTN_DTYPE_F32 && dtype != ATTN_DTYPE_F16 &&
      dtype != ATTN_DTYPE_BF16)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT,
                fmt::format("{}: {} has dtype {} (weights must be f32, f16 or "
                            "bf16)",
                            path, subject, dtypeName(*t.dtype)));
  if (!std::equal(shape, shape + rank, t.shape.begin(), t.shape.end()))
    return fail(err, errlen, ATTNRT_ERROR_SHAPE,
                fmt::format("{}: {} has shape [{}] but the model expects [{}]",
                            path, subject, fmt::join(t.shape, ", "),
                            fmt::join(shape, shape + rank, ", ")));
  // In place when possible, else converted (or copied) once.
  if (dtype == ATTN_DTYPE_F32 &&
      reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0) {
    *data = reinterpret_cast<const float *>(t.data);
    return ATTNRT_OK;
  }
  auto it = w->converted.find(&t);
  if (it == w->converted.end()) {
    // Not zero-filled first: the conversion writes every element. No size
    // overflows: the mapped file holds count * (2 or 4) bytes.
    const uint64_t count = (t.end - t.begin) / t.dtype->size;
    constexpr uint64_t kAlignment = 64;
    const uint64_t blocks = (count * 4 + kAlignment - 1) / kAlignment;
    auto *copy = static_cast<float *>(aligned_alloc(
        kAlignment, size_t(std::max<uint64_t>(blocks, 1)) * kAlignment));
    if (!copy)
      return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                  fmt::format("cannot allocate the f32 copy of {}", subject));
    convertToF32(*t.dtype, t.data, int64_t(count), copy);
    it = w->converted.emplace(&t, copy).first;
  }
  *data = it->second;
  return ATTNRT_OK;
}

attnrt_status attnrt_weights_bind(attnrt_weights *w,
                                  const attn_model_info *model, void **buffers,
                                  char *err, size_t errlen) {
  clearError(err, errlen);
  if (!w || !model || !buffers || (model->num_tensors && !model->tensors))
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_weights_bind: invalid argument");
  for (uint32_t i = 0; i < model->num_tensors; ++i) {
    const attn_tensor_info &t = model->tensors[i];
    if (t.role != ATTN_ROLE_WEIGHT)
      continue;
    const float *data;
    if (attnrt_status status = attnrt_weights_get_f32(
            w, t.name, t.rank, t.shape, &data, err, errlen))
      return status;
    // Generated code never writes weights (and the mapping is read-only).
    buffers[i] = const_cast<float *>(data);
  }
  return ATTNRT_OK;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

attnrt_status attnrt_safetensors_save(const char *path, int n,
                                      const char *const *names,
                                      const attnrt_tensor *tensors, char *err,
                                      size_t errlen) {
  clearError(err, errlen);
  if (!path || n < 0 || (n && (!names || !tensors)))
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG,
                "attnrt_safetensors_save: invalid argument");
  auto bad = [&](attnrt_status status, const std::string &what) {
    return fail(err, errlen, status, fmt::format("{}: {}", path, what));
  };
  // The header: metadata, then the tensors in order, contiguous.
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  std::unordered_set<std::string_view> unique;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    const attnrt_tensor &t = tensors[i];
    const std::string_view name = names[i] ? names[i] : "";
    size_t badByte;
    if (name.empty() || name == "__metadata__" ||
        !attn::json::isValidUtf8(name, badByte) || !unique.insert(name).second)
      return bad(ATTNRT_ERROR_INVALID_ARG,
                 fmt::format("cannot write a tensor named '{}' (names must be "
                             "unique, non-empty utf-8 and not __metadata__)",
                             name));
    const char *dtype = t.dtype == ATTN_DTYPE_F32    ? "F32"
                        : t.dtype == ATTN_DTYPE_F16  ? "F16"
                        : t.dtype == ATTN_DTYPE_BF16 ? "BF16"
                        : t.dtype == ATTN_DTYPE_I32  ? "I32"
                                                     : nullptr;
    if (!dtype || t.rank < 0 || t.rank > ATTNRT_MAX_RANK)
      return bad(ATTNRT_ERROR_INVALID_ARG,
                 fmt::format("cannot write tensor '{}' of dtype {} and rank {}",
                             name, attnrt_dtype_name(t.dtype), t.rank));
    const uint64_t bytes = uint64_t(attnrt_tensor_numel(&t)) *
                           uint64_t(attnrt_dtype_size(t.dtype));
    header += fmt::format(
        ",{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
        attn::json::quote(name), dtype,
        fmt::join(t.shape, t.shape + t.rank, ","), offset, offset + bytes);
    sizes.push_back(bytes);
    offset += bytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  // Written next to `path`, then renamed over it: a file mapped by an open
  // attnrt_weights (--weights w --save-weights w) keeps its contents
  // instead of being truncated under the mapping.
  const std::string temporary = std::string(path) + ".tmp";
  FILE *file = fopen(temporary.c_str(), "wb");
  if (!file)
    return bad(ATTNRT_ERROR_IO,
               fmt::format("cannot create: {}", strerror(errno)));
  unsigned char size[8];
  for (int i = 0; i < 8; ++i)
    size[i] = (uint64_t(header.size()) >> (8 * i)) & 0xFF;
  bool ok = fwrite(size, 1, 8, file) == 8 &&
            fwrite(header.data(), 1, header.size(), file) == header.size();
  for (int i = 0; ok && i < n; ++i)
    ok = fwrite(tensors[i].data, 1, sizes[size_t(i)], file) == sizes[size_t(i)];
  int savedErrno = errno;
  if (fclose(file) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (ok && rename(temporary.c_str(), path) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    remove(temporary.c_str());
    return bad(ATTNRT_ERROR_IO,
               fmt::format("write failed: {}", strerror(savedErrno)));
  }
  return ATTNRT_OK;
}

//===----------------------------------------------------------------------===//
// The C API of the conversions (harness, references)
//===----------------------------------------------------------------------===//

extern "C" void attnrt_to_f32(float *out, const void *in, int32_t dtype,
                              int64_t n) {
  const auto *bits = static_cast<const uint16_t *>(in);
  if (dtype == ATTN_DTYPE_F16)
    for (int64_t i = 0; i < n; ++i)
      out[i] = attn::safetensors::halfToFloat(bits[i]);
  else if (dtype == ATTN_DTYPE_BF16)
    for (int64_t i = 0; i < n; ++i)
      out[i] = attn::safetensors::bfloat16ToFloat(bits[i]);
  else if (n > 0) // an empty tensor may have no buffer
    memcpy(out, in, size_t(n) * sizeof(float));
}

extern "C" void attnrt_from_f32(void *out, int32_t dtype, const float *in,
                                int64_t n) {
  auto *bits = static_cast<uint16_t *>(out);
  if (dtype == ATTN_DTYPE_F16)
    for (int64_t i = 0; i < n; ++i)
      bits[i] = attn::safetensors::floatToHalf(in[i]);
  else if (dtype == ATTN_DTYPE_BF16)
    for (int64_t i = 0; i < n; ++i)
      bits[i] = attn::safetensors::floatToBfloat16(in[i]);
  else if (n > 0)
    memcpy(out, in, size_t(n) * sizeof(float));
}
