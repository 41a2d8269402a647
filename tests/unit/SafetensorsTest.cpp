//===- SafetensorsTest.cpp - Unit tests of the safetensors reader ---------===//
//
// runtime/Safetensors.h: every validation rule of the reader on hostile
// headers built in memory (readHeader), mapped files, sharded indexes, and
// the exactness of the f16 and bf16 conversions over all 65536 values of
// each, against formulas written independently with ldexp.
//
//===----------------------------------------------------------------------===//

#include "runtime/Safetensors.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace attn::safetensors;

namespace {

/// A file: the 8-byte size (`size`, or the header's length), the header,
/// then `data`.
std::string fileBytes(const std::string &header, const std::string &data = "",
                      uint64_t size = UINT64_MAX) {
  if (size == UINT64_MAX)
    size = header.size();
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes += char((size >> (8 * i)) & 0xFF);
  return bytes + header + data;
}

/// readHeader on `bytes` as the file "t.safetensors": "" if valid, else
/// the message.
std::string check(const std::string &bytes, Header *out = nullptr) {
  Header header;
  std::string error;
  if (readHeader(reinterpret_cast<const unsigned char *>(bytes.data()),
                 bytes.size(), "t.safetensors", header, error)) {
    if (out)
      *out = header;
    return "";
  }
  return error;
}

/// One tensor entry of a header.
std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," +
         std::to_string(end) + "]}";
}

const std::string &tempDir() {
  static const struct TempDir {
    std::string path;
    TempDir() {
      char pattern[] = "/tmp/attnrt-st-test-XXXXXX";
      REQUIRE(mkdtemp(pattern) != nullptr);
      path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
  } dir;
  return dir.path;
}

std::string writeTemp(const std::string &name, const std::string &bytes) {
  const std::string path = tempDir() + "/" + name;
  FILE *file = fopen(path.c_str(), "wb");
  REQUIRE(file);
  REQUIRE(fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  fclose(file);
  return path;
}

float fromBits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t toBits(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return bits;
}

} // namespace

TEST_CASE("safetensors: valid headers", "[safetensors]") {
  Header header;
  CHECK(check(fileBytes("{}"), &header) == "");
  CHECK(header.tensors.empty());
  // Spaces after the JSON (the writer's padding), metadata, tensors listed
  // out of offset order, a scalar and a zero-size tensor.
  const std::string text =
      "{\"__metadata__\":{\"format\":\"pt\",\"k\":\"\\u00e9\"}," +
      entry("b", "F16", "[3]", 4, 10) + "," + entry("a", "F32", "[]", 0, 4) +
      "," + entry("empty", "BF16", "[0,7]", 10, 10) + "," +
      entry("c", "I64", "[1,1]", 10, 18) + "}   ";
  const std::string bytes = fileBytes(text, std::string(18, 'x'));
  REQUIRE(check(bytes, &header) == "");
  CHECK(header.size == text.size());
  REQUIRE(header.metadata.size() == 2);
  CHECK(header.metadata[0] ==
        std::pair<std::string, std::string>("format", "pt"));
  CHECK(header.metadata[1].second == "\xc3\xa9");
  REQUIRE(header.tensors.size() == 4);
  CHECK(header.tensors[0].name == "a");
  CHECK(header.tensors[0].shape.empty());
  CHECK(header.tensors[1].name == "b");
  CHECK(header.tensors[1].dtype == findDType("F16"));
  CHECK(header.tensors[1].shape == std::vector<int64_t>{3});
  CHECK(header.tensors[2].name == "empty");
  CHECK(header.tensors[3].name == "c");
  CHECK(header.tensors[3].data ==
        reinterpret_cast<const unsigned char *>(bytes.data()) + 8 +
            text.size() + 10);
  // Several zero-size tensors at the same offset.
  CHECK(check(fileBytes("{" + entry("a", "F32", "[0]", 0, 0) + "," +
                        entry("b", "F32", "[2,0]", 0, 0) + "}")) == "");
}

TEST_CASE("safetensors: dtypes", "[safetensors]") {
  for (const char *name :
       {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "I64", "U64", "F64"}) {
    INFO(name);
    const DType *dtype = findDType(name);
    REQUIRE(dtype);
    const std::string end = std::to_string(2 * dtype->size);
    CHECK(
        check(fileBytes("{" + entry("x", name, "[2]", 0, 2 * dtype->size) + "}",
                        std::string(2 * dtype->size, '\0'))) == "");
  }
  CHECK(findDType("F32")->attnDtype == ATTN_DTYPE_F32);
  CHECK(findDType("BF16")->attnDtype == ATTN_DTYPE_BF16);
  CHECK(findDType("F64")->attnDtype == -1);
  CHECK(dtypeName(*findDType("F8_E4M3")) == "f8_e4m3");
  CHECK(check(fileBytes("{" + entry("x", "F13", "[1]", 0, 4) + "}", "abcd")) ==
        "t.safetensors: tensor 'x' has an unknown dtype 'F13'");
  CHECK(check(fileBytes("{" + entry("x", "f32", "[1]", 0, 4) + "}", "abcd")) ==
        "t.safetensors: tensor 'x' has an unknown dtype 'f32'");
  CHECK(check(fileBytes(R"({"x":{"dtype":4,"shape":[],"data_offsets":[0,4]}})",
                        "abcd")) ==
        "t.safetensors: tensor 'x' dtype is not a string");
}

TEST_CASE("safetensors: the header size", "[safetensors]") {
  CHECK(check("") == "t.safetensors: file of 0 bytes is too short for a "
                     "safetensors file (at least 8 bytes)");
  CHECK(check("1234567") == "t.safetensors: file of 7 bytes is too short for "
                            "a safetensors file (at least 8 bytes)");
  CHECK(check(fileBytes("{}", "", 100000001)) ==
        "t.safetensors: header size 100000001 exceeds the limit of 100000000 "
        "bytes");
  CHECK(check(fileBytes("{}", "", UINT64_MAX - 1)) ==
        "t.safetensors: header size 18446744073709551614 exceeds the limit of "
        "100000000 bytes");
  // 8 + N past the end (no overflow for N near the limit either).
  CHECK(check(fileBytes("{}", "", 3)) ==
        "t.safetensors: truncated header: a header of 3 bytes does not fit in "
        "the file of 10 bytes");
  CHECK(check(fileBytes("{}", "", 100000000)) ==
        "t.safetensors: truncated header: a header of 100000000 bytes does "
        "not fit in the file of 10 bytes");
  // N = 0: an empty header is no JSON object.
  CHECK(check(fileBytes("")) == "t.safetensors: header is not a json object");
}

TEST_CASE("safetensors: header syntax", "[safetensors]") {
  CHECK(check(fileBytes("{\"a\xff\":1}")) ==
        "t.safetensors: header is not valid utf-8 (at byte 3 of the header)");
  CHECK(check(fileBytes("{\"a\":1,\"\xed\xa0\x80\":1}")) ==
        "t.safetensors: header is not valid utf-8 (at byte 8 of the header)");
  CHECK(check(fileBytes("[]")) == "t.safetensors: header is not a json object");
  CHECK(check(fileBytes("\"x\"")) ==
        "t.safetensors: header is not a json object");
  CHECK(check(fileBytes("{")) ==
        "t.safetensors: invalid json in the header: expected a string key or "
        "'}' at byte 1");
  CHECK(check(fileBytes("{} {}")) ==
        "t.safetensors: invalid json in the header: unexpected characters "
        "after the top-level value at byte 3");
  CHECK(check(fileBytes(std::string("{}\0\0", 4))) ==
        "t.safetensors: invalid json in the header: unexpected characters "
        "after the top-level value at byte 2");
  const std::string x = entry("x", "F32", "[]", 0, 4);
  CHECK(check(fileBytes("{" + x + "," + x + "}", "abcd")) ==
        "t.safetensors: invalid json in the header: duplicate key 'x' at "
        "byte 53");
  CHECK(check(fileBytes(R"({"x":{"dtype":"F32","dtype":"F32"}})")) ==
        "t.safetensors: invalid json in the header: duplicate key 'dtype' "
        "at byte 20");
  CHECK(check(fileBytes(R"({"__metadata__":{},"__metadata__":{}})")) ==
        "t.safetensors: invalid json in the header: duplicate key "
        "'__metadata__' at byte 19");
  CHECK(check(fileBytes(R"({"a\u0000b":{"dtype":"F32","shape":[],)"
                        R"("data_offsets":[0,4]}})",
                        "abcd")) ==
        "t.safetensors: tensor name 'a\\x00b' contains a nul character");
}

TEST_CASE("safetensors: tensor entries", "[safetensors]") {
  CHECK(check(fileBytes(R"({"x":[0,4]})")) ==
        "t.safetensors: tensor 'x' is not an object of dtype, shape and "
        "data_offsets");
  CHECK(check(fileBytes(R"({"x":{"dtype":"F32","shape":[]}})")) ==
        "t.safetensors: tensor 'x' lacks 'data_offsets'");
  CHECK(check(fileBytes(R"({"x":{"data_offsets":[0,0],"shape":[0]}})")) ==
        "t.safetensors: tensor 'x' lacks 'dtype'");
  CHECK(check(fileBytes(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})")) ==
        "t.safetensors: tensor 'x' lacks 'shape'");
  CHECK(check(fileBytes(R"({"x":{"dtype":"F32","shape":[],)"
                        R"("data_offsets":[0,4],"offsets":[0,4]}})")) ==
        "t.safetensors: tensor 'x' has an unexpected field 'offsets' "
        "(expected dtype, shape and data_offsets)");
  const std::string badShape = "t.safetensors: tensor 'x' shape is not an "
                               "array of at most 64 non-negative integers";
  for (const char *shape : {"[-1]", "[1.0]", "[1e2]", "[\"2\"]", "[[2]]", "2",
                            "{}", "[18446744073709551616]", "null"}) {
    INFO(shape);
    CHECK(check(fileBytes(std::string("{\"x\":{\"dtype\":\"F32\",\"shape\":") +
                          shape + ",\"data_offsets\":[0,4]}}")) == badShape);
  }
  std::string rank64 = "[1", rank65;
  for (int i = 1; i < 64; ++i)
    rank64 += ",1";
  rank65 = rank64 + ",1]";
  rank64 += "]";
  CHECK(check(fileBytes("{" + entry("x", "F32", rank64, 0, 4) + "}", "abcd")) ==
        "");
  CHECK(check(fileBytes("{" + entry("x", "F32", rank65, 0, 4) + "}", "abcd")) ==
        badShape);
  const std::string badOffsets = "t.safetensors: tensor 'x' data_offsets is "
                                 "not an array of two non-negative integers";
  for (const char *offsets :
       {"[0]", "[0,4,8]", "[-4,0]", "[0,4.0]", "{}", "[]", "[0,\"4\"]"}) {
    INFO(offsets);
    CHECK(check(fileBytes(std::string("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],"
                                      "\"data_offsets\":") +
                          offsets + "}}")) == badOffsets);
  }
}

TEST_CASE("safetensors: byte sizes", "[safetensors]") {
  CHECK(check(fileBytes("{" + entry("x", "F32", "[2,2]", 0, 12) + "}",
                        std::string(12, '\0'))) ==
        "t.safetensors: tensor 'x' data_offsets [0, 12] hold 12 bytes but "
        "f32[2, 2] needs 16");
  CHECK(check(fileBytes("{" + entry("x", "BF16", "[]", 0, 4) + "}",
                        std::string(4, '\0'))) ==
        "t.safetensors: tensor 'x' data_offsets [0, 4] hold 4 bytes but "
        "bf16[] needs 2");
  CHECK(check(fileBytes("{" + entry("x", "F32", "[3]", 12, 0) + "}",
                        std::string(12, '\0'))) ==
        "t.safetensors: tensor 'x' data_offsets [12, 0] end before they "
        "begin");
  // Products that overflow 64 bits, in the element count or the bytes, and
  // a dimension past int64 (even with a zero dimension).
  CHECK(check(fileBytes(
            "{" + entry("x", "U8", "[4294967296,4294967296]", 0, 0) + "}")) ==
        "t.safetensors: tensor 'x' shape [4294967296, 4294967296] is too "
        "large (its byte size overflows 64 bits)");
  CHECK(check(fileBytes("{" + entry("x", "F64", "[2305843009213693952]", 0, 0) +
                        "}")) ==
        "t.safetensors: tensor 'x' shape [2305843009213693952] is too large "
        "(its byte size overflows 64 bits)");
  CHECK(check(fileBytes(
            "{" + entry("x", "U8", "[0,9223372036854775808]", 0, 0) + "}")) ==
        "t.safetensors: tensor 'x' shape [0, 9223372036854775808] is too "
        "large (its byte size overflows 64 bits)");
  CHECK(check(fileBytes(
            "{" + entry("x", "U8", "[0,9223372036854775807]", 0, 0) + "}")) ==
        "");
  // The largest size that fits: the data is then missing.
  CHECK(check(fileBytes(
            "{" + entry("x", "U8", "[18446744073709551615]", 0, UINT64_MAX) +
            "}")) ==
        "t.safetensors: tensor 'x' shape [18446744073709551615] is too large "
        "(its byte size overflows 64 bits)");
  CHECK(check(fileBytes(
            "{" + entry("x", "U8", "[9223372036854775807]", 0, INT64_MAX) +
            "}")) ==
        "t.safetensors: truncated data: the tensors need 9223372036854775807 "
        "bytes but the file holds 0 after the header");
}

TEST_CASE("safetensors: offsets are contiguous from 0", "[safetensors]") {
  const std::string data(24, '\0');
  CHECK(check(fileBytes("{" + entry("a", "F32", "[1]", 4, 8) + "}",
                        data.substr(0, 8))) ==
        "t.safetensors: tensor 'a' data_offsets [4, 8] begin after 0 but the "
        "first tensor must begin at 0");
  CHECK(check(fileBytes("{" + entry("a", "F32", "[3]", 0, 12) + "," +
                            entry("b", "F32", "[2]", 16, 24) + "}",
                        data)) ==
        "t.safetensors: tensor 'b' data_offsets [16, 24] leave a gap after "
        "tensor 'a', which ends at 12");
  CHECK(check(fileBytes("{" + entry("a", "F32", "[3]", 0, 12) + "," +
                            entry("b", "F32", "[4]", 8, 24) + "}",
                        data)) ==
        "t.safetensors: tensor 'b' data_offsets [8, 24] overlap tensor 'a', "
        "which ends at 12");
  // The same range twice.
  CHECK(check(fileBytes("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                            entry("b", "F32", "[2]", 0, 8) + "}",
                        data.substr(0, 8))) ==
        "t.safetensors: tensor 'b' data_offsets [0, 8] overlap tensor 'a', "
        "which ends at 8");
  // A zero-size tensor inside another one.
  CHECK(check(fileBytes("{" + entry("a", "F32", "[2]", 0, 8) + "," +
                            entry("b", "F32", "[0]", 4, 4) + "}",
                        data.substr(0, 8))) ==
        "t.safetensors: tensor 'b' data_offsets [4, 4] overlap tensor 'a', "
        "which ends at 8");
}

TEST_CASE("safetensors: the data buffer", "[safetensors]") {
  const std::string header = "{" + entry("a", "F32", "[3]", 0, 12) + "}";
  CHECK(check(fileBytes(header, std::string(12, '\0'))) == "");
  CHECK(check(fileBytes(header, std::string(11, '\0'))) ==
        "t.safetensors: truncated data: the tensors need 12 bytes but the "
        "file holds 11 after the header");
  CHECK(check(fileBytes(header)) ==
        "t.safetensors: truncated data: the tensors need 12 bytes but the "
        "file holds 0 after the header");
  CHECK(check(fileBytes(header, std::string(13, '\0'))) ==
        "t.safetensors: 1 unexpected bytes after the last tensor");
  CHECK(check(fileBytes("{}", "x")) ==
        "t.safetensors: 1 unexpected bytes after the last tensor");
  // Offsets far past the end (the sizes agree).
  CHECK(
      check(fileBytes(
          "{" + entry("a", "U8", "[1099511627776]", 0, 1099511627776) + "}")) ==
      "t.safetensors: truncated data: the tensors need 1099511627776 bytes "
      "but the file holds 0 after the header");
}

TEST_CASE("safetensors: metadata", "[safetensors]") {
  CHECK(check(fileBytes(R"({"__metadata__":{}})")) == "");
  CHECK(check(fileBytes(R"({"__metadata__":{"format":1}})")) ==
        "t.safetensors: __metadata__ value of 'format' is not a string");
  CHECK(check(fileBytes(R"({"__metadata__":{"a":{"b":"c"}}})")) ==
        "t.safetensors: __metadata__ value of 'a' is not a string");
  CHECK(check(fileBytes(R"({"__metadata__":["format","pt"]})")) ==
        "t.safetensors: __metadata__ is not an object of strings");
  CHECK(check(fileBytes(R"({"__metadata__":null})")) ==
        "t.safetensors: __metadata__ is not an object of strings");
}

TEST_CASE("safetensors: mapped files", "[safetensors]") {
  std::unique_ptr<File> file;
  std::string error;
  const std::string data = "\x01\x02\x03\x04\x05\x06\x07\x08";
  const std::string path =
      writeTemp("ok.safetensors",
                fileBytes("{" + entry("a", "F32", "[2]", 0, 8) + "}", data));
  REQUIRE(File::open(path, file, error) == ATTNRT_OK);
  CHECK(file->path() == path);
  const Tensor *a = file->find("a");
  REQUIRE(a);
  CHECK(memcmp(a->data, data.data(), 8) == 0);
  CHECK(file->find("b") == nullptr);

  CHECK(File::open(tempDir() + "/none.safetensors", file, error) ==
        ATTNRT_ERROR_IO);
  CHECK(!file);
  CHECK(error == tempDir() + "/none.safetensors: cannot open: No such file "
                             "or directory");
  CHECK(File::open(tempDir(), file, error) == ATTNRT_ERROR_IO);
  CHECK(error == tempDir() + ": cannot open: not a regular file");
  CHECK(File::open(writeTemp("empty.safetensors", ""), file, error) ==
        ATTNRT_ERROR_FORMAT);
  CHECK(error == tempDir() + "/empty.safetensors: file of 0 bytes is too "
                             "short for a safetensors file (at least 8 "
                             "bytes)");
}

TEST_CASE("safetensors: sharded indexes", "[safetensors]") {
  std::filesystem::create_directories(tempDir() + "/shards");
  writeTemp("shards/a.safetensors",
            fileBytes("{" + entry("x", "F32", "[1]", 0, 4) + "," +
                          entry("y", "F32", "[1]", 4, 8) + "}",
                      std::string(8, '\0')));
  writeTemp("shards/b.safetensors",
            fileBytes("{" + entry("z", "F32", "[1]", 0, 4) + "}",
                      std::string(4, '\0')));
  writeTemp("shards/c.safetensors",
            fileBytes("{" + entry("y", "F32", "[1]", 0, 4) + "}",
                      std::string(4, '\0')));
  auto open = [](const std::string &json, std::string &error) {
    const std::string path = writeTemp("shards/index.json", json);
    std::vector<std::unique_ptr<File>> shards;
    const attnrt_status status = openIndex(path, shards, error);
    if (status == ATTNRT_OK)
      error = std::to_string(shards.size()) + " shards";
    return status;
  };
  const std::string index = tempDir() + "/shards/index.json: ";
  std::string error;
  CHECK(
      open(R"({"metadata":{"total_size":12},"weight_map":{"x":"a.safetensors",)"
           R"("y":"a.safetensors","z":"b.safetensors"}})",
           error) == ATTNRT_OK);
  CHECK(error == "2 shards");
  // Tensors not in the map are fine; unknown members are skipped.
  CHECK(open(R"({"weight_map":{"z":"b.safetensors"},"extra":[1,{"a":null}]})",
             error) == ATTNRT_OK);
  CHECK(open(R"({"weight_map":{"x":"d.safetensors"}})", error) ==
        ATTNRT_ERROR_IO);
  CHECK(error == index + "shard " + tempDir() +
                     "/shards/d.safetensors: cannot open: No such file or "
                     "directory");
  CHECK(open(R"({"weight_map":{"z":"a.safetensors"}})", error) ==
        ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "weight_map maps 'z' to 'a.safetensors', which does "
                         "not hold it");
  CHECK(open(R"({"weight_map":{"x":"a.safetensors","y":"c.safetensors"}})",
             error) == ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "tensor 'y' is in both 'a.safetensors' and "
                         "'c.safetensors'");
  CHECK(open(R"({"metadata":{}})", error) == ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "index lacks 'weight_map'");
  CHECK(open(R"({"weight_map":[]})", error) == ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "weight_map is not an object of strings");
  CHECK(open(R"({"weight_map":{"x":["a.safetensors"]}})", error) ==
        ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "weight_map value of 'x' is not a string");
  CHECK(open(R"({"weight_map":{"x":""}})", error) == ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "weight_map maps 'x' to '', which is not a file name "
                         "relative to the index's folder");
  CHECK(open(R"([])", error) == ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "index is not a json object");
  CHECK(open(R"({"weight_map":{},"weight_map":{}})", error) ==
        ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "invalid json: duplicate key 'weight_map' at byte "
                         "17");
  // A shard that is itself invalid.
  writeTemp("shards/bad.safetensors", "short");
  CHECK(open(R"({"weight_map":{"x":"bad.safetensors"}})", error) ==
        ATTNRT_ERROR_FORMAT);
  CHECK(error == index + "shard " + tempDir() +
                     "/shards/bad.safetensors: file of 5 bytes is too short "
                     "for a safetensors file (at least 8 bytes)");
}

TEST_CASE("safetensors: f16 to f32 is exact", "[safetensors]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint32_t sign = h >> 15, exponent = (h >> 10) & 0x1F,
                   mantissa = h & 0x3FF;
    const float got = halfToFloat(uint16_t(h));
    INFO("f16 bits " << h);
    REQUIRE(std::signbit(got) == bool(sign));
    if (exponent == 0x1F) {
      if (mantissa == 0) {
        REQUIRE(std::isinf(got));
      } else {
        // NaN: the payload moves to the top of the f32 mantissa.
        REQUIRE(std::isnan(got));
        REQUIRE((toBits(got) & 0x7FFFFF) == mantissa << 13);
      }
      continue;
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(double(mantissa), -24)
                      : std::ldexp(double(1024 + mantissa), int(exponent) - 25);
    REQUIRE(double(got) == (sign ? -magnitude : magnitude));
  }
  CHECK(halfToFloat(0x0001) == std::ldexp(1.0f, -24)); // smallest subnormal
  CHECK(halfToFloat(0x03FF) == 1023 * std::ldexp(1.0f, -24));
  CHECK(halfToFloat(0x0400) == std::ldexp(1.0f, -14)); // smallest normal
  CHECK(halfToFloat(0x3C00) == 1.0f);
  CHECK(halfToFloat(0x7BFF) == 65504.0f);
  CHECK(halfToFloat(0xC000) == -2.0f);
  CHECK(toBits(halfToFloat(0x8000)) == 0x80000000u);
  CHECK(halfToFloat(0x7C00) == INFINITY);
  CHECK(halfToFloat(0xFC00) == -INFINITY);
  CHECK(toBits(halfToFloat(0x7E00)) == 0x7FC00000u);
}

TEST_CASE("safetensors: bf16 to f32 is exact", "[safetensors]") {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const uint32_t sign = b >> 15, exponent = (b >> 7) & 0xFF,
                   mantissa = b & 0x7F;
    const float got = bfloat16ToFloat(uint16_t(b));
    INFO("bf16 bits " << b);
    REQUIRE(std::signbit(got) == bool(sign));
    if (exponent == 0xFF) {
      REQUIRE((mantissa == 0 ? std::isinf(got) : std::isnan(got)));
      REQUIRE(toBits(got) == b << 16); // NaN payloads are kept
      continue;
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(double(mantissa), -133)
                      : std::ldexp(double(128 + mantissa), int(exponent) - 134);
    REQUIRE(double(got) == (sign ? -magnitude : magnitude));
  }
  CHECK(bfloat16ToFloat(0x0001) == std::ldexp(1.0f, -133));
  CHECK(bfloat16ToFloat(0x3F80) == 1.0f);
  CHECK(bfloat16ToFloat(0x7F7F) == fromBits(0x7F7F0000));
  CHECK(bfloat16ToFloat(0xFF80) == -INFINITY);
  CHECK(std::isnan(bfloat16ToFloat(0x7FC1)));
}

TEST_CASE("safetensors: bulk conversion at any alignment", "[safetensors]") {
  // All 65536 values of each dtype from an odd address, and f32 copies.
  std::vector<unsigned char> bytes(1 + 2 * 65536);
  for (uint32_t v = 0; v < 65536; ++v) {
    bytes[1 + 2 * v] = uint8_t(v & 0xFF);
    bytes[2 + 2 * v] = uint8_t(v >> 8);
  }
  std::vector<float> out(65536);
  convertToF32(*findDType("F16"), bytes.data() + 1, 65536, out.data());
  for (uint32_t v = 0; v < 65536; ++v)
    REQUIRE(toBits(out[v]) == toBits(halfToFloat(uint16_t(v))));
  convertToF32(*findDType("BF16"), bytes.data() + 1, 65536, out.data());
  for (uint32_t v = 0; v < 65536; ++v)
    REQUIRE(toBits(out[v]) == v << 16);
  convertToF32(*findDType("F32"), bytes.data() + 1, 32768, out.data());
  CHECK(memcmp(out.data(), bytes.data() + 1, 32768 * 4) == 0);
  convertToF32(*findDType("F16"), bytes.data(), 0, out.data());
}
