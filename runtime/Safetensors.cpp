//===- Safetensors.cpp - a strict safetensors reader and writer -----------===//
//
// The rules are listed in Safetensors.h; the reference is
// huggingface/safetensors `safetensors/src/tensor.rs` (`read_metadata`,
// `Metadata::validate`). Files are mapped read-only, so a tensor's data is
// used where it lies and pages are read only when touched.
//
//===----------------------------------------------------------------------===//
#include "runtime/Safetensors.h"

#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"
#include "runtime/Json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors reader assumes a little-endian host"
#endif

namespace attn::safetensors {

using json::JsonReader;
using json::Kind;

namespace {

/// Every dtype of the format as documented (README @0034b77c); newer
/// releases add sub-byte types, which files here must not hold.
constexpr DType kDTypes[] = {
    {"BOOL", 1, -1},
    {"U8", 1, -1},
    {"I8", 1, -1},
    {"F8_E5M2", 1, -1},
    {"F8_E4M3", 1, -1},
    {"I16", 2, -1},
    {"U16", 2, -1},
    {"F16", 2, ATTN_DTYPE_F16},
    {"BF16", 2, ATTN_DTYPE_BF16},
    {"I32", 4, ATTN_DTYPE_I32},
    {"U32", 4, -1},
    {"F32", 4, ATTN_DTYPE_F32},
    {"I64", 8, -1},
    {"U64", 8, -1},
    {"F64", 8, -1},
};

/// Index files larger than this are rejected (real ones are below 100 KB
/// per thousand tensors).
constexpr size_t kMaxIndexSize = 100000000;

/// A tensor name for messages: quoted, control characters escaped.
std::string shown(std::string_view name) {
  std::string out = "'";
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\x{:02x}", unsigned(c));
    else
      out += c;
  return out + "'";
}

/// Reads an array of non-negative integers (at most `maxCount`) into
/// `out`; false if the value is anything else (or on a JSON error).
bool readUInts(JsonReader &reader, std::vector<uint64_t> &out,
               size_t maxCount) {
  out.clear();
  if (reader.peek() != Kind::Array || !reader.enterArray())
    return false;
  json::Number number;
  while (reader.nextElement()) {
    if (reader.peek() != Kind::Number || !reader.readNumber(number) ||
        !number.isUInt || out.size() == maxCount)
      return false;
    out.push_back(number.value);
  }
  return reader.ok();
}

/// Reads the {dtype, shape, data_offsets} object of tensor `t` (its name
/// set) and checks its byte size (rule 4); false with `what` set, or with
/// the reader failed.
bool readTensor(JsonReader &reader, Tensor &t, std::string &what) {
  const std::string name = shown(t.name);
  if (reader.peek() != Kind::Object) {
    what = fmt::format("tensor {} is not an object of dtype, shape and "
                       "data_offsets",
                       name);
    return false;
  }
  reader.enterObject();
  std::string field, dtypeName;
  std::vector<uint64_t> dims, offsets;
  bool hasDtype = false, hasShape = false, hasOffsets = false;
  while (reader.nextKey(field)) {
    if (field == "dtype") {
      hasDtype = true;
      if (reader.peek() != Kind::String) {
        what = fmt::format("tensor {} dtype is not a string", name);
        return false;
      }
      if (!reader.readString(dtypeName))
        return false;
      t.dtype = findDType(dtypeName);
      if (!t.dtype) {
        what = fmt::format("tensor {} has an unknown dtype {}", name,
                           shown(dtypeName));
        return false;
      }
    } else if (field == "shape") {
      hasShape = true;
      if (!readUInts(reader, dims, kMaxFileRank)) {
        what = fmt::format("tensor {} shape is not an array of at most {} "
                           "non-negative integers",
                           name, kMaxFileRank);
        return false;
      }
    } else if (field == "data_offsets") {
      hasOffsets = true;
      if (!readUInts(reader, offsets, 2) || offsets.size() != 2) {
        what = fmt::format("tensor {} data_offsets is not an array of two "
                           "non-negative integers",
                           name);
        return false;
      }
    } else {
      what = fmt::format("tensor {} has an unexpected field {} (expected "
                         "dtype, shape and data_offsets)",
                         name, shown(field));
      return false;
    }
  }
  if (!reader.ok())
    return false;
  if (!hasDtype || !hasShape || !hasOffsets) {
    what = fmt::format("tensor {} lacks '{}'", name,
                       !hasDtype   ? "dtype"
                       : !hasShape ? "shape"
                                   : "data_offsets");
    return false;
  }
  t.begin = offsets[0];
  t.end = offsets[1];
  // Rule 4, overflow-checked: a dimension must fit in int64 and the byte
  // size in uint64 (a zero dimension makes 0 bytes).
  uint64_t bytes = t.dtype->size;
  bool overflow = false;
  for (uint64_t dim : dims) {
    overflow |= dim > uint64_t(INT64_MAX);
    if (dim && bytes > UINT64_MAX / dim)
      overflow = true;
    else
      bytes *= dim;
    t.shape.push_back(int64_t(dim));
  }
  if (overflow) {
    what = fmt::format("tensor {} shape [{}] is too large (its byte size "
                       "overflows 64 bits)",
                       name, fmt::join(dims, ", "));
    return false;
  }
  if (t.end < t.begin) {
    what = fmt::format("tensor {} data_offsets [{}, {}] end before they begin",
                       name, t.begin, t.end);
    return false;
  }
  if (t.end - t.begin != bytes) {
    what = fmt::format("tensor {} data_offsets [{}, {}] hold {} bytes but {} "
                       "needs {}",
                       name, t.begin, t.end, t.end - t.begin,
                       typeString(*t.dtype, t.shape), bytes);
    return false;
  }
  return true;
}

/// Reads "__metadata__" (rule 7); false with `what` set, or with the
/// reader failed.
bool readMetadata(JsonReader &reader,
                  std::vector<std::pair<std::string, std::string>> &out,
                  std::string &what) {
  if (reader.peek() != Kind::Object) {
    what = "__metadata__ is not an object of strings";
    return false;
  }
  reader.enterObject();
  std::string key, value;
  while (reader.nextKey(key)) {
    if (reader.peek() != Kind::String) {
      what =
          fmt::format("__metadata__ value of {} is not a string", shown(key));
      return false;
    }
    if (!reader.readString(value))
      return false;
    out.emplace_back(key, value);
  }
  return reader.ok();
}

std::string errnoString() { return strerror(errno); }

} // namespace

const DType *findDType(std::string_view name) {
  for (const DType &dtype : kDTypes)
    if (name == dtype.name)
      return &dtype;
  return nullptr;
}

std::string dtypeName(const DType &dtype) {
  std::string name = dtype.name;
  for (char &c : name)
    if (c >= 'A' && c <= 'Z')
      c = char(c - 'A' + 'a');
  return name;
}

std::string typeString(const DType &dtype, const std::vector<int64_t> &shape) {
  return fmt::format("{}[{}]", dtypeName(dtype), fmt::join(shape, ", "));
}

bool readHeader(const unsigned char *bytes, uint64_t size,
                const std::string &path, Header &out, std::string &error) {
  auto bad = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  // Rule 1.
  if (size < 8)
    return bad(fmt::format("file of {} bytes is too short for a safetensors "
                           "file (at least 8 bytes)",
                           size));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(bytes[i]) << (8 * i);
  if (n > kMaxHeaderSize)
    return bad(fmt::format("header size {} exceeds the limit of {} bytes", n,
                           kMaxHeaderSize));
  if (n > size - 8)
    return bad(fmt::format("truncated header: a header of {} bytes does not "
                           "fit in the file of {} bytes",
                           n, size));
  out.size = n;
  const std::string_view text(reinterpret_cast<const char *>(bytes + 8),
                              size_t(n));

  // Rules 2, 3, 4 and 7, entry by entry.
  size_t badByte;
  if (!json::isValidUtf8(text, badByte))
    return bad(fmt::format("header is not valid utf-8 (at byte {} of the "
                           "header)",
                           badByte));
  JsonReader reader(text);
  std::string what, key;
  auto failed = [&] {
    return bad(reader.ok() ? what
                           : "invalid json in the header: " + reader.error());
  };
  if (reader.peek() != Kind::Object)
    return bad(reader.ok() ? "header is not a json object"
                           : "invalid json in the header: " + reader.error());
  reader.enterObject();
  while (reader.nextKey(key)) {
    if (key == "__metadata__") {
      if (!readMetadata(reader, out.metadata, what))
        return failed();
      continue;
    }
    if (key.find('\0') != std::string::npos)
      return bad(
          fmt::format("tensor name {} contains a nul character", shown(key)));
    Tensor t{key, nullptr, {}, 0, 0, nullptr};
    if (!readTensor(reader, t, what))
      return failed();
    out.tensors.push_back(std::move(t));
  }
  if (!reader.finish())
    return failed();

  // Rule 5: sorted by offsets, contiguous from 0.
  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const Tensor &a, const Tensor &b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t expected = 0;
  const Tensor *previous = nullptr;
  for (const Tensor &t : out.tensors) {
    if (t.begin != expected) {
      const std::string where = fmt::format("tensor {} data_offsets [{}, {}]",
                                            shown(t.name), t.begin, t.end);
      if (!previous)
        return bad(where + " begin after 0 but the first tensor must begin "
                           "at 0");
      return bad(
          fmt::format("{} {} tensor {}, which ends at {}", where,
                      t.begin > expected ? "leave a gap after" : "overlap",
                      shown(previous->name), expected));
    }
    expected = t.end;
    previous = &t;
  }
  // Rule 6.
  const uint64_t available = size - 8 - n;
  if (expected > available)
    return bad(fmt::format("truncated data: the tensors need {} bytes but the "
                           "file holds {} after the header",
                           expected, available));
  if (expected < available)
    return bad(fmt::format("{} unexpected bytes after the last tensor",
                           available - expected));
  for (Tensor &t : out.tensors)
    t.data = bytes + 8 + n + t.begin;
  return true;
}

attnrt_status File::open(const std::string &path, std::unique_ptr<File> &out,
                         std::string &error) {
  out.reset();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("{}: cannot open: {}", path, errnoString());
    return ATTNRT_ERROR_IO;
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = fmt::format("{}: cannot open: not a regular file", path);
    ::close(fd);
    return ATTNRT_ERROR_IO;
  }
  std::unique_ptr<File> file(new File());
  file->filePath = path;
  file->mappedSize = size_t(info.st_size);
  if (file->mappedSize) {
    void *mapping =
        mmap(nullptr, file->mappedSize, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      error = fmt::format("{}: cannot map: {}", path, errnoString());
      ::close(fd);
      return ATTNRT_ERROR_IO;
    }
    file->mapping = mapping;
  }
  ::close(fd);
  if (!readHeader(static_cast<const unsigned char *>(file->mapping),
                  file->mappedSize, path, file->contents, error))
    return ATTNRT_ERROR_FORMAT;
  for (const Tensor &t : file->contents.tensors)
    file->byName.emplace(t.name, &t);
  out = std::move(file);
  return ATTNRT_OK;
}

File::~File() {
  if (mapping)
    munmap(mapping, mappedSize);
}

const Tensor *File::find(std::string_view name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : it->second;
}

attnrt_status openIndex(const std::string &path,
                        std::vector<std::unique_ptr<File>> &shards,
                        std::string &error) {
  auto bad = [&](const std::string &what) {
    error = path + ": " + what;
    return ATTNRT_ERROR_FORMAT;
  };
  auto ioError = [&](const std::string &what) {
    error = path + ": " + what;
    return ATTNRT_ERROR_IO;
  };
  // The whole file, size-checked first.
  FILE *in = fopen(path.c_str(), "rb");
  if (!in)
    return ioError("cannot open: " + errnoString());
  std::string text;
  char buffer[1 << 16];
  for (size_t got; (got = fread(buffer, 1, sizeof(buffer), in)) > 0;) {
    text.append(buffer, got);
    if (text.size() > kMaxIndexSize)
      break;
  }
  const bool readFailed = ferror(in);
  fclose(in);
  if (readFailed)
    return ioError("cannot read: " + errnoString());
  if (text.size() > kMaxIndexSize)
    return bad(
        fmt::format("index file is larger than {} bytes", kMaxIndexSize));

  // {"weight_map": {name: shard}, ...}; other members are informational.
  JsonReader reader(text);
  std::string key, name, shard, what;
  std::vector<std::string> shardNames;
  std::vector<std::pair<std::string, size_t>> weightMap; // name, shard
  bool hasMap = false;
  auto failed = [&] {
    return bad(reader.ok() ? what : "invalid json: " + reader.error());
  };
  if (reader.peek() != Kind::Object) {
    what = "index is not a json object";
    return failed();
  }
  reader.enterObject();
  while (reader.nextKey(key)) {
    if (key != "weight_map") {
      reader.skipValue();
      continue;
    }
    hasMap = true;
    if (reader.peek() != Kind::Object) {
      what = "weight_map is not an object of strings";
      return failed();
    }
    reader.enterObject();
    while (reader.nextKey(name)) {
      if (reader.peek() != Kind::String || !reader.readString(shard)) {
        what =
            fmt::format("weight_map value of {} is not a string", shown(name));
        return failed();
      }
      if (shard.empty() || shard[0] == '/' ||
          shard.find('\0') != std::string::npos) {
        what = fmt::format("weight_map maps {} to {}, which is not a file "
                           "name relative to the index's folder",
                           shown(name), shown(shard));
        return failed();
      }
      auto known = std::find(shardNames.begin(), shardNames.end(), shard);
      weightMap.emplace_back(name, size_t(known - shardNames.begin()));
      if (known == shardNames.end())
        shardNames.push_back(shard);
    }
  }
  if (!reader.finish())
    return failed();
  if (!hasMap)
    return bad("index lacks 'weight_map'");

  // Every shard must be valid; then the map is checked against them.
  const size_t slash = path.rfind('/');
  const std::string folder =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  shards.clear();
  for (const std::string &file : shardNames) {
    std::unique_ptr<File> opened;
    if (attnrt_status status = File::open(folder + file, opened, what)) {
      error = path + ": shard " + what;
      return status;
    }
    shards.push_back(std::move(opened));
  }
  for (const auto &[tensor, index] : weightMap)
    if (!shards[index]->find(tensor))
      return bad(fmt::format("weight_map maps {} to {}, which does not hold "
                             "it",
                             shown(tensor), shown(shardNames[index])));
  std::unordered_map<std::string_view, size_t> owner;
  for (size_t i = 0; i < shards.size(); ++i)
    for (const Tensor &t : shards[i]->header().tensors) {
      auto [it, inserted] = owner.emplace(t.name, i);
      if (!inserted)
        return bad(fmt::format("tensor {} is in both {} and {}", shown(t.name),
                               shown(shardNames[it->second]),
                               shown(shardNames[i])));
    }
  return ATTNRT_OK;
}

} // namespace attn::safetensors
