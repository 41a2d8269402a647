//===- TensorIO.cpp - Runtime tensors and .npy files ----------------------===//
//
// Allocation of runtime tensors and reading/writing them as NumPy .npy files.
// The loader accepts format versions 1.0, 2.0 and 3.0 holding a C-order
// '<f4', '<f2', bf16 bits ('<u2' or '|V2'), '<i4' or '<i8' array and rejects
// everything else with a
// message naming the file and the problem; it checks the file size before
// allocating, so a corrupt header cannot trigger a huge allocation. The writer
// emits version 1.0 with the header padded so that the data starts at a
// multiple of 64 bytes.
//
// Format reference: numpy/lib/format.py ("NEP 1").
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"
#include "runtime/Npy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader/writer assumes a little-endian host"
#endif

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlignment = 64;
/// Headers longer than this are rejected (numpy's own limit is 10000).
constexpr uint32_t kMaxHeaderSize = 1 << 16;

/// The .npy type descriptors of the dtypes that files may hold.
struct NpyDtype {
  const char *descr;
  int32_t dtype;
};
/// Read and written; bfloat16 (no numpy dtype) is its bits as '<u2', and
/// '|V2' (ml_dtypes' bfloat16) is read too.
constexpr NpyDtype kNpyDtypes[] = {{"<f4", ATTN_DTYPE_F32},
                                   {"<f2", ATTN_DTYPE_F16},
                                   {"<u2", ATTN_DTYPE_BF16},
                                   {"|V2", ATTN_DTYPE_BF16},
                                   {"<i4", ATTN_DTYPE_I32},
                                   {"<i8", ATTN_DTYPE_I64}};
constexpr const char *kExpectedDtypes =
    "'<f4' float32, '<f2' float16, '<u2' bfloat16 bits, '<i4' int32 or '<i8' "
    "int64";

/// Formats "path: message" into `err` (truncated to `errlen` bytes, NUL
/// included) and returns `status`.
template <typename... Args>
attnrt_status fail(char *err, size_t errlen, attnrt_status status,
                   const char *path, fmt::format_string<Args...> format,
                   Args &&...args) {
  if (!err || errlen == 0)
    return status;
  const std::string message = fmt::format(
      "{}: {}", path, fmt::format(format, std::forward<Args>(args)...));
  const size_t n = std::min(message.size(), errlen - 1);
  memcpy(err, message.data(), n);
  err[n] = '\0';
  return status;
}

/// The element count of a shape and its size in bytes for `elementSize`-byte
/// elements; false if a dimension is negative or the size overflows.
bool checkedSize(int64_t rank, const int64_t *shape, int64_t elementSize,
                 int64_t &numel, size_t &bytes) {
  numel = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (shape[i] < 0 || (shape[i] > 0 && numel > INT64_MAX / shape[i]))
      return false;
    numel *= shape[i];
  }
  if (elementSize <= 0 ||
      uint64_t(numel) > (SIZE_MAX - kAlignment) / uint64_t(elementSize))
    return false;
  bytes = size_t(numel) * size_t(elementSize);
  return true;
}

/// A cursor over the header, a Python dict literal such as
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// Every parse method returns false on a syntax error.
struct HeaderParser {
  const char *pos;
  const char *end;

  void skipSpace() {
    while (pos < end &&
           (*pos == ' ' || *pos == '\t' || *pos == '\n' || *pos == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos == end || *pos != c)
      return false;
    ++pos;
    return true;
  }
  bool peek(char c) {
    skipSpace();
    return pos < end && *pos == c;
  }
  bool parseString(std::string &out) {
    skipSpace();
    if (pos == end || (*pos != '\'' && *pos != '"'))
      return false;
    const char quote = *pos++;
    const char *start = pos;
    while (pos < end && *pos != quote)
      ++pos;
    if (pos == end)
      return false;
    out.assign(start, pos);
    ++pos;
    return true;
  }
  bool parseBool(bool &out) {
    skipSpace();
    for (bool value : {false, true}) {
      const char *word = value ? "True" : "False";
      size_t len = strlen(word);
      if (size_t(end - pos) >= len && memcmp(pos, word, len) == 0) {
        pos += len;
        out = value;
        return true;
      }
    }
    return false;
  }
  bool parseInt(int64_t &out) {
    skipSpace();
    if (pos == end || *pos < '0' || *pos > '9')
      return false;
    out = 0;
    while (pos < end && *pos >= '0' && *pos <= '9') {
      if (out > (INT64_MAX - 9) / 10)
        return false;
      out = out * 10 + (*pos++ - '0');
    }
    if (pos < end && *pos == 'L') // Python 2 longs
      ++pos;
    return true;
  }
  /// `()`, `(5,)`, `(2, 3)`, `(2, 3,)`; any rank, reported by the caller.
  bool parseShape(int64_t *shape, int64_t &rank) {
    if (!consume('('))
      return false;
    rank = 0;
    while (!peek(')')) {
      int64_t dim;
      if (!parseInt(dim))
        return false;
      if (rank < ATTNRT_MAX_RANK)
        shape[rank] = dim;
      ++rank;
      if (!consume(',') && !peek(')'))
        return false;
    }
    return consume(')');
  }
};

} // namespace

int64_t attnrt_dtype_size(int32_t dtype) {
  switch (dtype) {
  case ATTN_DTYPE_F32:
  case ATTN_DTYPE_I32:
    return 4;
  case ATTN_DTYPE_F16:
  case ATTN_DTYPE_BF16:
    return 2;
  case ATTN_DTYPE_I64:
    return 8;
  }
  return 0;
}

const char *attnrt_dtype_name(int32_t dtype) {
  switch (dtype) {
  case ATTN_DTYPE_F32:
    return "f32";
  case ATTN_DTYPE_I32:
    return "i32";
  case ATTN_DTYPE_F16:
    return "f16";
  case ATTN_DTYPE_BF16:
    return "bf16";
  case ATTN_DTYPE_I64:
    return "i64";
  }
  return "unknown";
}

int64_t attnrt_tensor_numel(const attnrt_tensor *t) {
  int64_t numel = 1;
  for (int64_t i = 0; i < t->rank; ++i)
    numel *= t->shape[i];
  return numel;
}

/// Fails with ATTNRT_ERROR_INVALID_ARG for an unknown dtype, a bad rank or
/// shape, a size that overflows, or an allocation that cannot be satisfied.
attnrt_status attnrt_tensor_alloc(attnrt_tensor *t, int32_t dtype, int64_t rank,
                                  const int64_t *shape) {
  t->data = nullptr;
  t->dtype = dtype;
  t->rank = 0;
  int64_t numel;
  size_t bytes;
  if (rank < 0 || rank > ATTNRT_MAX_RANK ||
      !checkedSize(rank, shape, attnrt_dtype_size(dtype), numel, bytes))
    return ATTNRT_ERROR_INVALID_ARG;
  // aligned_alloc needs a non-zero multiple of the alignment.
  size_t padded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void *data = aligned_alloc(kAlignment, padded ? padded : kAlignment);
  if (!data)
    return ATTNRT_ERROR_INVALID_ARG;
  memset(data, 0, bytes);
  t->data = data;
  t->rank = rank;
  for (int64_t i = 0; i < rank; ++i)
    t->shape[i] = shape[i];
  return ATTNRT_OK;
}

void attnrt_tensor_free(attnrt_tensor *t) {
  free(t->data);
  t->data = nullptr;
  t->rank = 0;
}

namespace attn {

attnrt_status npyLoadStream(FILE *file, const char *path, attnrt_tensor *out,
                            char *err, size_t errlen) {
  unsigned char prefix[kMagicSize + 2];
  const size_t got = fread(prefix, 1, sizeof(prefix), file);
  if (ferror(file)) // e.g. a directory
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "cannot read: {}",
                strerror(errno));
  if (got != sizeof(prefix) || memcmp(prefix, kMagic, kMagicSize) != 0)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "not a .npy file (bad magic string)");
  const unsigned major = prefix[kMagicSize], minor = prefix[kMagicSize + 1];
  if (major < 1 || major > 3 || minor != 0)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "unsupported .npy format version {}.{} (expected 1.0, 2.0 "
                "or 3.0)",
                major, minor);

  // Version 1.0 stores the header length in 2 bytes, later versions in 4.
  unsigned char lenBytes[4] = {0, 0, 0, 0};
  const size_t lenSize = major == 1 ? 2 : 4;
  if (fread(lenBytes, 1, lenSize, file) != lenSize)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path, "truncated header");
  const uint32_t headerLen =
      uint32_t(lenBytes[0]) | uint32_t(lenBytes[1]) << 8 |
      uint32_t(lenBytes[2]) << 16 | uint32_t(lenBytes[3]) << 24;
  if (headerLen > kMaxHeaderSize)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "header of {} bytes is too large (limit {})", headerLen,
                kMaxHeaderSize);
  std::string header(headerLen, '\0');
  if (fread(&header[0], 1, headerLen, file) != headerLen)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path, "truncated header");

  HeaderParser parser{header.data(), header.data() + header.size()};
  std::string descr;
  bool fortranOrder = false;
  int64_t rank = -1;
  int64_t shape[ATTNRT_MAX_RANK] = {};
  bool hasDescr = false, hasOrder = false;
  if (!parser.consume('{'))
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "malformed header (expected a dict)");
  while (!parser.peek('}')) {
    std::string key;
    if (!parser.parseString(key) || !parser.consume(':'))
      return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                  "malformed header (expected 'key': value)");
    bool ok;
    if (key == "descr") {
      if (parser.peek('['))
        return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                    "unsupported structured dtype (expected {})",
                    kExpectedDtypes);
      ok = parser.parseString(descr);
      hasDescr = true;
    } else if (key == "fortran_order") {
      ok = parser.parseBool(fortranOrder);
      hasOrder = true;
    } else if (key == "shape") {
      ok = parser.parseShape(shape, rank);
    } else {
      return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                  "unexpected header key '{}'", key);
    }
    if (!ok)
      return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                  "malformed value of '{}' in the header", key);
    if (!parser.consume(',') && !parser.peek('}'))
      return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                  "malformed header (expected ',' or '}}')");
  }
  parser.consume('}');
  if (!hasDescr || !hasOrder || rank < 0)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "header lacks one of 'descr', 'fortran_order', 'shape'");
  int32_t dtype = -1;
  for (const NpyDtype &entry : kNpyDtypes)
    if (descr == entry.descr)
      dtype = entry.dtype;
  if (dtype < 0)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "unsupported dtype '{}' (expected {})", descr, kExpectedDtypes);
  if (fortranOrder)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "Fortran-order arrays are not supported (expected "
                "fortran_order False)");
  if (rank > ATTNRT_MAX_RANK)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "rank {} exceeds the maximum of {}", rank, ATTNRT_MAX_RANK);

  // Compare the announced size with what the file holds before allocating.
  int64_t numel;
  size_t bytes;
  if (!checkedSize(rank, shape, attnrt_dtype_size(dtype), numel, bytes))
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "the shape in the header is too large");
  const long dataStart = ftell(file);
  if (dataStart < 0 || fseek(file, 0, SEEK_END) != 0)
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "cannot seek: {}",
                strerror(errno));
  const long fileEnd = ftell(file);
  if (fileEnd < 0 || fseek(file, dataStart, SEEK_SET) != 0)
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "cannot seek: {}",
                strerror(errno));
  const uint64_t available = uint64_t(fileEnd - dataStart);
  if (available < bytes)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "truncated data: expected {} bytes, found {}", bytes,
                available);
  if (available > bytes)
    return fail(err, errlen, ATTNRT_ERROR_FORMAT, path,
                "{} unexpected bytes after the data", available - bytes);

  attnrt_tensor tensor;
  if (attnrt_tensor_alloc(&tensor, dtype, rank, shape) != ATTNRT_OK)
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG, path,
                "cannot allocate {} bytes", bytes);
  if (fread(tensor.data, 1, bytes, file) != bytes) {
    attnrt_tensor_free(&tensor);
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "read failed: {}",
                strerror(errno));
  }
  *out = tensor;
  return ATTNRT_OK;
}

} // namespace attn

attnrt_status attnrt_npy_load(const char *path, attnrt_tensor *out, char *err,
                              size_t errlen) {
  out->data = nullptr;
  out->dtype = ATTN_DTYPE_F32;
  out->rank = 0;
  if (err && errlen)
    err[0] = '\0';
  FILE *file = fopen(path, "rb");
  if (!file)
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "cannot open: {}",
                strerror(errno));
  attnrt_status status = attn::npyLoadStream(file, path, out, err, errlen);
  fclose(file);
  return status;
}

attnrt_status attnrt_npy_save(const char *path, const attnrt_tensor *t,
                              char *err, size_t errlen) {
  if (err && errlen)
    err[0] = '\0';
  if (t->rank < 0 || t->rank > ATTNRT_MAX_RANK)
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG, path,
                "invalid tensor rank {}", t->rank);
  const char *descr = nullptr;
  for (const NpyDtype &entry : kNpyDtypes)
    if (t->dtype == entry.dtype && !descr)
      descr = entry.descr;
  if (!descr)
    return fail(err, errlen, ATTNRT_ERROR_UNSUPPORTED, path,
                "cannot write dtype {} (.npy files hold f32, f16, bf16, i32 "
                "or i64)",
                attnrt_dtype_name(t->dtype));
  int64_t numel;
  size_t bytes;
  if (!checkedSize(t->rank, t->shape, attnrt_dtype_size(t->dtype), numel,
                   bytes) ||
      (bytes && !t->data))
    return fail(err, errlen, ATTNRT_ERROR_INVALID_ARG, path,
                "invalid tensor shape or data");

  // A 1-tuple needs its trailing comma: (5,).
  std::string header = fmt::format(
      "{{'descr': '{}', 'fortran_order': False, 'shape': ({}{}), }}", descr,
      fmt::join(t->shape, t->shape + t->rank, ", "), t->rank == 1 ? "," : "");
  // Pad with spaces and a final newline so that the data is aligned.
  const size_t prefixSize = kMagicSize + 2 + 2;
  size_t total = prefixSize + header.size() + 1;
  header.append((kAlignment - total % kAlignment) % kAlignment, ' ');
  header += '\n';
  // Magic, version 1.0, little-endian 16-bit header length, header.
  std::string head(kMagic, kMagicSize);
  head += {'\x01', '\0', char(header.size() & 0xff), char(header.size() >> 8)};
  head += header;

  FILE *file = fopen(path, "wb");
  if (!file)
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "cannot create: {}",
                strerror(errno));
  bool ok = fwrite(head.data(), 1, head.size(), file) == head.size() &&
            fwrite(t->data, 1, bytes, file) == bytes;
  int savedErrno = errno;
  if (fclose(file) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok)
    return fail(err, errlen, ATTNRT_ERROR_IO, path, "write failed: {}",
                strerror(savedErrno));
  return ATTNRT_OK;
}
