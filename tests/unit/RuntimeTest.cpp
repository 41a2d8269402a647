//===- RuntimeTest.cpp - Unit tests of the attnc runtime ------------------===//
//
// Tests of the runtime's C ABI: dtypes, .npy round trips (f32 and i32) and
// every load error, tensor allocation, the seeded random fill, timing,
// memory and status strings (the thread pool: ThreadPoolTest.cpp). Files go to a fresh temporary directory
// per run.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

/// A temporary directory shared by the tests of this process, removed at
/// exit.
const std::string &tempDir() {
  static const struct TempDir {
    std::string path;
    TempDir() {
      char pattern[] = "/tmp/attnrt-test-XXXXXX";
      REQUIRE(mkdtemp(pattern) != nullptr);
      path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
  } dir;
  return dir.path;
}

std::string tempPath(const std::string &name) { return tempDir() + "/" + name; }

void writeFile(const std::string &path, const std::string &bytes) {
  FILE *file = fopen(path.c_str(), "wb");
  REQUIRE(file);
  REQUIRE(fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  fclose(file);
}

std::string readFile(const std::string &path) {
  FILE *file = fopen(path.c_str(), "rb");
  REQUIRE(file);
  std::string bytes;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), file)) > 0;)
    bytes.append(buffer, n);
  fclose(file);
  return bytes;
}

/// A .npy file with the given version, header dict and data bytes.
std::string npyBytes(int major, const std::string &dict,
                     const std::string &data) {
  std::string header = dict + "\n";
  std::string bytes = std::string("\x93NUMPY", 6) + char(major) + '\0';
  const size_t len = header.size();
  bytes += char(len & 0xff);
  bytes += char((len >> 8) & 0xff);
  if (major > 1)
    bytes += std::string(2, '\0');
  return bytes + header + data;
}

struct LoadResult {
  attnrt_status status;
  std::string message;
};

/// Loads `path`, expecting failure, and returns the status and message.
LoadResult loadError(const std::string &path) {
  attnrt_tensor t;
  char err[256];
  attnrt_status status = attnrt_npy_load(path.c_str(), &t, err, sizeof(err));
  CHECK(t.data == nullptr);
  return {status, err};
}

const char *kF32Dict =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

std::string floatBytes(size_t count) { return std::string(count * 4, '\0'); }

} // namespace

TEST_CASE("status strings name every code", "[runtime]") {
  const attnrt_status codes[] = {
      ATTNRT_OK,          ATTNRT_ERROR_IO,          ATTNRT_ERROR_FORMAT,
      ATTNRT_ERROR_SHAPE, ATTNRT_ERROR_INVALID_ARG, ATTNRT_ERROR_UNSUPPORTED,
      ATTNRT_ERROR_NOT_FOUND};
  std::vector<std::string> names;
  for (attnrt_status code : codes) {
    std::string name = attnrt_status_string(code);
    CHECK(!name.empty());
    CHECK(std::find(names.begin(), names.end(), name) == names.end());
    names.push_back(name);
  }
  CHECK(std::string(attnrt_status_string(attnrt_status(99))) ==
        "unknown status");
}

// The model table is read by code that other compilers built (and written as
// LLVM globals by attnc): its layout is the ABI.
static_assert(sizeof(attn_tensor_info) == 40, "attn_tensor_info layout");
static_assert(offsetof(attn_tensor_info, dtype) == 8, "");
static_assert(offsetof(attn_tensor_info, role) == 12, "");
static_assert(offsetof(attn_tensor_info, content) == 16, "");
static_assert(offsetof(attn_tensor_info, rank) == 20, "");
static_assert(offsetof(attn_tensor_info, bound) == 24, "");
static_assert(offsetof(attn_tensor_info, shape) == 32, "");
static_assert(sizeof(attn_model_info) == 40, "attn_model_info layout");
static_assert(offsetof(attn_model_info, num_tensors) == 4, "");
static_assert(offsetof(attn_model_info, name) == 8, "");
static_assert(offsetof(attn_model_info, flops) == 16, "");
static_assert(offsetof(attn_model_info, tensors) == 24, "");
static_assert(offsetof(attn_model_info, run) == 32, "");

TEST_CASE("dtype sizes and names", "[runtime]") {
  CHECK(attnrt_dtype_size(ATTN_DTYPE_F32) == 4);
  CHECK(attnrt_dtype_size(ATTN_DTYPE_I32) == 4);
  CHECK(attnrt_dtype_size(ATTN_DTYPE_F16) == 2);
  CHECK(attnrt_dtype_size(ATTN_DTYPE_BF16) == 2);
  CHECK(attnrt_dtype_size(ATTN_DTYPE_I64) == 8);
  CHECK(attnrt_dtype_size(5) == 0);
  CHECK(attnrt_dtype_size(-1) == 0);
  CHECK(std::string(attnrt_dtype_name(ATTN_DTYPE_F32)) == "f32");
  CHECK(std::string(attnrt_dtype_name(ATTN_DTYPE_I32)) == "i32");
  CHECK(std::string(attnrt_dtype_name(ATTN_DTYPE_F16)) == "f16");
  CHECK(std::string(attnrt_dtype_name(ATTN_DTYPE_BF16)) == "bf16");
  CHECK(std::string(attnrt_dtype_name(ATTN_DTYPE_I64)) == "i64");
  CHECK(std::string(attnrt_dtype_name(17)) == "unknown");
}

TEST_CASE("tensor alloc is aligned, zeroed and validated", "[runtime]") {
  attnrt_tensor t;
  const int64_t shape[] = {3, 5, 7};
  REQUIRE(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, 3, shape) == ATTNRT_OK);
  CHECK(t.dtype == ATTN_DTYPE_F32);
  CHECK(reinterpret_cast<uintptr_t>(t.data) % 64 == 0);
  CHECK(attnrt_tensor_numel(&t) == 105);
  for (int64_t i = 0; i < 105; ++i)
    CHECK(static_cast<float *>(t.data)[i] == 0.0f);
  attnrt_tensor_free(&t);
  CHECK(t.data == nullptr);

  for (int32_t dtype : {ATTN_DTYPE_I32, ATTN_DTYPE_F16, ATTN_DTYPE_BF16}) {
    CAPTURE(dtype);
    REQUIRE(attnrt_tensor_alloc(&t, dtype, 3, shape) == ATTNRT_OK);
    CHECK(t.dtype == dtype);
    const std::string zeros(size_t(105 * attnrt_dtype_size(dtype)), '\0');
    CHECK(std::memcmp(t.data, zeros.data(), zeros.size()) == 0);
    attnrt_tensor_free(&t);
  }

  REQUIRE(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, 0, nullptr) == ATTNRT_OK);
  CHECK(attnrt_tensor_numel(&t) == 1);
  attnrt_tensor_free(&t);

  const int64_t negative[] = {2, -1};
  CHECK(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, 2, negative) ==
        ATTNRT_ERROR_INVALID_ARG);
  CHECK(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, ATTNRT_MAX_RANK + 1, shape) ==
        ATTNRT_ERROR_INVALID_ARG);
  const int64_t huge[] = {INT64_MAX / 2, 4};
  CHECK(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, 2, huge) ==
        ATTNRT_ERROR_INVALID_ARG);
  CHECK(attnrt_tensor_alloc(&t, 9, 3, shape) == ATTNRT_ERROR_INVALID_ARG);
  CHECK(t.data == nullptr);
}

TEST_CASE("npy save/load round trip", "[runtime][npy]") {
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {5}, {1}, {2, 3}, {0, 4}, {2, 3, 4, 5}, {1, 1, 1, 1, 1, 1, 1, 2}};
  for (const std::vector<int64_t> &shape : shapes) {
    CAPTURE(shape);
    for (int32_t dtype : {ATTN_DTYPE_F32, ATTN_DTYPE_I32}) {
      CAPTURE(dtype);
      attnrt_tensor t;
      REQUIRE(attnrt_tensor_alloc(&t, dtype, int64_t(shape.size()),
                                  shape.data()) == ATTNRT_OK);
      const int64_t numel = attnrt_tensor_numel(&t);
      // Random bits; as i32 they are arbitrary integers.
      attnrt_fill_random(static_cast<float *>(t.data), numel, 42);
      const std::string path = tempPath("roundtrip.npy");
      char err[256];
      REQUIRE(attnrt_npy_save(path.c_str(), &t, err, sizeof(err)) == ATTNRT_OK);

      // Version 1.0, data aligned to 64 bytes, header ending in a newline.
      const std::string bytes = readFile(path);
      REQUIRE(bytes.size() > 10);
      CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
      const size_t headerLen = size_t((unsigned char)bytes[8]) |
                               size_t((unsigned char)bytes[9]) << 8;
      CHECK((10 + headerLen) % 64 == 0);
      CHECK(bytes[10 + headerLen - 1] == '\n');
      CHECK(bytes.size() == 10 + headerLen + size_t(numel) * 4);
      const std::string descr = dtype == ATTN_DTYPE_F32 ? "'<f4'" : "'<i4'";
      CHECK(bytes.find("'descr': " + descr) != std::string::npos);

      attnrt_tensor loaded;
      REQUIRE(attnrt_npy_load(path.c_str(), &loaded, err, sizeof(err)) ==
              ATTNRT_OK);
      CHECK(loaded.dtype == dtype);
      REQUIRE(loaded.rank == t.rank);
      for (int64_t i = 0; i < t.rank; ++i)
        CHECK(loaded.shape[i] == t.shape[i]);
      CHECK(std::memcmp(loaded.data, t.data, size_t(numel) * 4) == 0);
      attnrt_tensor_free(&loaded);
      attnrt_tensor_free(&t);
    }
  }
}

TEST_CASE("npy save writes the shape tuple as numpy does", "[runtime][npy]") {
  const std::vector<std::pair<std::vector<int64_t>, std::string>> cases = {
      {{}, "'shape': (), }"},
      {{5}, "'shape': (5,), }"},
      {{2, 3}, "'shape': (2, 3), }"}};
  for (const auto &[shape, expected] : cases) {
    attnrt_tensor t;
    REQUIRE(attnrt_tensor_alloc(&t, ATTN_DTYPE_I32, int64_t(shape.size()),
                                shape.data()) == ATTNRT_OK);
    const std::string path = tempPath("tuple.npy");
    REQUIRE(attnrt_npy_save(path.c_str(), &t, nullptr, 0) == ATTNRT_OK);
    CHECK(readFile(path).find("{'descr': '<i4', 'fortran_order': False, " +
                              expected) != std::string::npos);
    attnrt_tensor_free(&t);
  }
}

TEST_CASE("npy save rejects dtypes that .npy cannot hold", "[runtime][npy]") {
  float data[4] = {};
  attnrt_tensor t = {};
  t.data = data;
  t.dtype = 99; // no such attn_dtype
  t.rank = 1;
  t.shape[0] = 4;
  char err[256];
  const std::string path = tempPath("unknown.npy");
  CHECK(attnrt_npy_save(path.c_str(), &t, err, sizeof(err)) ==
        ATTNRT_ERROR_UNSUPPORTED);
  CHECK(std::string(err) == path + ": cannot write dtype " +
                                attnrt_dtype_name(99) +
                                " (.npy files hold f32, f16, bf16, i32 or "
                                "i64)");
}

TEST_CASE("npy load accepts versions 2.0 and 3.0", "[runtime][npy]") {
  for (int major : {2, 3}) {
    const std::string path = tempPath("version.npy");
    std::string data = floatBytes(6);
    const float two = 2.0f;
    std::memcpy(&data[4], &two, 4);
    writeFile(path, npyBytes(major, kF32Dict, data));
    attnrt_tensor t;
    REQUIRE(attnrt_npy_load(path.c_str(), &t, nullptr, 0) == ATTNRT_OK);
    CHECK(t.dtype == ATTN_DTYPE_F32);
    CHECK(t.rank == 2);
    CHECK(t.shape[0] == 2);
    CHECK(t.shape[1] == 3);
    CHECK(static_cast<float *>(t.data)[1] == 2.0f);
    attnrt_tensor_free(&t);
  }
}

TEST_CASE("an empty .npy tensor loads and converts", "[runtime][npy]") {
  // Found by attn-fuzz-npy: a (0, 5) tensor has no buffer, and converting
  // it passed a null pointer to memcpy (undefined behaviour).
  const std::string path = tempPath("empty.npy");
  writeFile(path, npyBytes(1,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': "
                           "(0, 5), }",
                           ""));
  attnrt_tensor t;
  REQUIRE(attnrt_npy_load(path.c_str(), &t, nullptr, 0) == ATTNRT_OK);
  CHECK(attnrt_tensor_numel(&t) == 0);
  float none[1] = {1.0f};
  attnrt_to_f32(none, t.data, t.dtype, 0);
  attnrt_from_f32(none, t.dtype, static_cast<const float *>(t.data), 0);
  CHECK(none[0] == 1.0f);
  attnrt_tensor_free(&t);
}

TEST_CASE("npy load reads int32 files", "[runtime][npy]") {
  const std::string path = tempPath("int32.npy");
  std::string data = floatBytes(3);
  const int32_t values[3] = {7, -1, 512};
  std::memcpy(&data[0], values, sizeof(values));
  writeFile(path, npyBytes(1,
                           "{'descr': '<i4', 'fortran_order': False, 'shape': "
                           "(3,), }",
                           data));
  attnrt_tensor t;
  REQUIRE(attnrt_npy_load(path.c_str(), &t, nullptr, 0) == ATTNRT_OK);
  CHECK(t.dtype == ATTN_DTYPE_I32);
  REQUIRE(t.rank == 1);
  CHECK(t.shape[0] == 3);
  const int32_t *loaded = static_cast<const int32_t *>(t.data);
  CHECK(loaded[0] == 7);
  CHECK(loaded[1] == -1);
  CHECK(loaded[2] == 512);
  attnrt_tensor_free(&t);
}

TEST_CASE("npy load reports each error with the file name", "[runtime][npy]") {
  struct Case {
    const char *name;
    std::string bytes;
    attnrt_status status;
    const char *message;
  };
  const Case cases[] = {
      {"f8.npy",
       npyBytes(1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                floatBytes(12)),
       ATTNRT_ERROR_FORMAT,
       "f8.npy: unsupported dtype '<f8' (expected '<f4' float32, '<f2' "
       "float16, '<u2' bfloat16 bits, '<i4' int32 or '<i8' int64)"},
      {"i2.npy",
       npyBytes(1,
                "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }",
                floatBytes(3)),
       ATTNRT_ERROR_FORMAT, "i2.npy: unsupported dtype '<i2'"},
      {"bigendian.npy",
       npyBytes(1,
                "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }",
                floatBytes(6)),
       ATTNRT_ERROR_FORMAT, "bigendian.npy: unsupported dtype '>i4'"},
      {"i4-truncated.npy",
       npyBytes(1,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                floatBytes(5)),
       ATTNRT_ERROR_FORMAT,
       "i4-truncated.npy: truncated data: expected 24 bytes, found 20"},
      {"fortran.npy",
       npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                floatBytes(6)),
       ATTNRT_ERROR_FORMAT, "fortran.npy: Fortran-order arrays are not"},
      {"truncated.npy", npyBytes(1, kF32Dict, floatBytes(5)),
       ATTNRT_ERROR_FORMAT,
       "truncated.npy: truncated data: expected 24 bytes, found 20"},
      {"trailing.npy", npyBytes(1, kF32Dict, floatBytes(7)),
       ATTNRT_ERROR_FORMAT, "trailing.npy: 4 unexpected bytes after the data"},
      {"header.npy", npyBytes(1, kF32Dict, "").substr(0, 20),
       ATTNRT_ERROR_FORMAT, "header.npy: truncated header"},
      {"magic.npy", "PK\x03\x04 not numpy at all", ATTNRT_ERROR_FORMAT,
       "magic.npy: not a .npy file (bad magic string)"},
      {"empty.npy", "", ATTNRT_ERROR_FORMAT, "empty.npy: not a .npy file"},
      {"version.npy", std::string("\x93NUMPY\x04\x00", 8), ATTNRT_ERROR_FORMAT,
       "version.npy: unsupported .npy format version 4.0"},
      {"dict.npy", npyBytes(1, "{'descr': '<f4', 'shape': (2, 3}", ""),
       ATTNRT_ERROR_FORMAT, "dict.npy: malformed"},
      {"keys.npy", npyBytes(1, "{'descr': '<f4', 'shape': (2,), }", ""),
       ATTNRT_ERROR_FORMAT, "keys.npy: header lacks"},
      {"rank.npy",
       npyBytes(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                "(1, 1, 1, 1, 1, 1, 1, 1, 1), }",
                floatBytes(1)),
       ATTNRT_ERROR_FORMAT, "rank.npy: rank 9 exceeds the maximum of 8"},
      {"big.npy",
       npyBytes(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                "(1000000000, 1000000000, 1000000000), }",
                ""),
       ATTNRT_ERROR_FORMAT, "big.npy: the shape in the header is too large"},
      // Found by attn-fuzz-npy: the '}' of this message was read as a
      // format field, and formatting it threw (a crash).
      {"comma.npy",
       npyBytes(1,
                "{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }",
                floatBytes(1)),
       ATTNRT_ERROR_FORMAT,
       "comma.npy: malformed header (expected ',' or '}')"},
  };
  for (const Case &c : cases) {
    CAPTURE(c.name);
    const std::string path = tempPath(c.name);
    writeFile(path, c.bytes);
    LoadResult result = loadError(path);
    CHECK(result.status == c.status);
    CHECK_THAT(result.message,
               Catch::Matchers::StartsWith(tempDir() + "/" + c.message));
  }

  LoadResult missing = loadError(tempPath("missing.npy"));
  CHECK(missing.status == ATTNRT_ERROR_IO);
  CHECK(missing.message ==
        tempPath("missing.npy") + ": cannot open: No such file or directory");
}

TEST_CASE("npy errors fit small buffers and tolerate none", "[runtime][npy]") {
  attnrt_tensor t;
  char err[8];
  CHECK(attnrt_npy_load("/nonexistent/x.npy", &t, err, sizeof(err)) ==
        ATTNRT_ERROR_IO);
  CHECK(std::strlen(err) == sizeof(err) - 1);
  CHECK(attnrt_npy_load("/nonexistent/x.npy", &t, nullptr, 0) ==
        ATTNRT_ERROR_IO);
}

TEST_CASE("npy save reports unwritable paths", "[runtime][npy]") {
  attnrt_tensor t;
  const int64_t shape[] = {4};
  REQUIRE(attnrt_tensor_alloc(&t, ATTN_DTYPE_F32, 1, shape) == ATTNRT_OK);
  char err[256];
  CHECK(attnrt_npy_save("/nonexistent/dir/x.npy", &t, err, sizeof(err)) ==
        ATTNRT_ERROR_IO);
  CHECK(std::string(err).find("/nonexistent/dir/x.npy: cannot create") == 0);
  attnrt_tensor_free(&t);
}

TEST_CASE("random token ids are seeded, below the bound, equal in i32 and "
          "i64",
          "[runtime]") {
  const int64_t n = 10000, bound = 37;
  std::vector<int32_t> a(n), b(n);
  std::vector<int64_t> wide(n);
  attnrt_fill_random_ids(a.data(), ATTN_DTYPE_I32, n, bound, 5);
  attnrt_fill_random_ids(b.data(), ATTN_DTYPE_I32, n, bound, 6);
  attnrt_fill_random_ids(wide.data(), ATTN_DTYPE_I64, n, bound, 5);
  CHECK(a != b);
  CHECK(std::equal(a.begin(), a.end(), wide.begin()));
  std::vector<int64_t> counts(bound);
  for (int32_t id : a) {
    REQUIRE(id >= 0);
    REQUIRE(id < bound);
    ++counts[id];
  }
  // Every id appears, none far more often than n / bound.
  for (int64_t count : counts) {
    CHECK(count > 0);
    CHECK(count < 2 * n / bound);
  }
}

TEST_CASE("random fill is deterministic and within -1 to 1", "[runtime]") {
  const int64_t n = 100000;
  std::vector<float> a(n), b(n), c(n), prefix(10);
  attnrt_fill_random(a.data(), n, 7);
  attnrt_fill_random(b.data(), n, 7);
  attnrt_fill_random(c.data(), n, 8);
  attnrt_fill_random(prefix.data(), 10, 7);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::equal(prefix.begin(), prefix.end(), a.begin()));
  double sum = 0;
  float lo = 1, hi = -1;
  for (float x : a) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  CHECK(lo >= -1.0f);
  CHECK(hi < 1.0f);
  CHECK(lo < -0.999f);
  CHECK(hi > 0.999f);
  CHECK(std::abs(sum / n) < 0.01);
  // The same seed gives the same data everywhere: pin the first values.
  float first[3];
  attnrt_fill_random(first, 3, 0);
  CHECK(first[0] == 0.304896951f);
  CHECK(first[1] == 0.402424216f);
  CHECK(first[2] == -0.225751758f);
}

TEST_CASE("clock is monotonic and peak RSS is positive", "[runtime]") {
  const double a = attnrt_now_seconds();
  const double b = attnrt_now_seconds();
  CHECK(b >= a);
  CHECK(attnrt_peak_rss_bytes() > 0);
}
