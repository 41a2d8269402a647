//===- HalfFloatTest.cpp - f16 and bf16 in the runtime --------------------===//
//
// The runtime's conversions between f32 and f16 / bf16 (attnrt_to_f32,
// attnrt_from_f32): round to nearest even, overflow, NaN, and a round trip
// of every finite half and bfloat16 value; and .npy files holding them
// ('<f2', and bf16 bits as '<u2').
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnModel.h"
#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
uint16_t toHalf(float x) {
  uint16_t bits;
  attnrt_from_f32(&bits, ATTN_DTYPE_F16, &x, 1);
  return bits;
}
uint16_t toBfloat16(float x) {
  uint16_t bits;
  attnrt_from_f32(&bits, ATTN_DTYPE_BF16, &x, 1);
  return bits;
}
float fromBits(uint16_t bits, int32_t dtype) {
  float x;
  attnrt_to_f32(&x, &bits, dtype, 1);
  return x;
}
} // namespace

TEST_CASE("f32 to f16 rounds to nearest even", "[runtime][half]") {
  CHECK(toHalf(1.0f) == 0x3C00);
  CHECK(toHalf(-0.0f) == 0x8000);
  CHECK(toHalf(65504.0f) == 0x7BFF);        // the largest half
  CHECK(toHalf(65519.996f) == 0x7BFF);      // below the midpoint to 2^16
  CHECK(toHalf(65520.0f) == 0x7C00);        // the midpoint rounds to inf
  CHECK(toHalf(-1e9f) == 0xFC00);
  CHECK(toHalf(std::ldexp(1.0f, -24)) == 0x0001); // the smallest subnormal
  CHECK(toHalf(std::ldexp(1.0f, -25)) == 0x0000); // a tie goes to even (0)
  CHECK(toHalf(std::ldexp(3.0f, -25)) == 0x0002); // a tie goes to even (2)
  CHECK(toHalf(std::ldexp(1.0f, -14)) == 0x0400); // the smallest normal
  CHECK(toHalf(1.0f + std::ldexp(1.0f, -11)) == 0x3C00); // tie: even
  CHECK(toHalf(1.0f + std::ldexp(3.0f, -11)) == 0x3C02); // tie: even
  CHECK((toHalf(std::nanf("")) & 0x7E00) == 0x7E00);
  // Every finite half survives the round trip through f32.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if ((bits & 0x7C00) == 0x7C00 && (bits & 0x3FF))
      continue; // NaN
    INFO("bits " << bits);
    REQUIRE(toHalf(fromBits(uint16_t(bits), ATTN_DTYPE_F16)) == bits);
  }
}

TEST_CASE("f32 to bf16 rounds to nearest even", "[runtime][half]") {
  CHECK(toBfloat16(1.0f) == 0x3F80);
  CHECK(toBfloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80); // tie: even
  CHECK(toBfloat16(1.0f + std::ldexp(3.0f, -8)) == 0x3F82); // tie: even
  CHECK(toBfloat16(1.0f + std::ldexp(1.0f, -7)) == 0x3F81);
  CHECK(toBfloat16(3.4e38f) == 0x7F80); // past the largest bf16: inf
  CHECK((toBfloat16(std::nanf("")) & 0x7FC0) == 0x7FC0);
  CHECK(fromBits(0x3F81, ATTN_DTYPE_BF16) == 1.0f + std::ldexp(1.0f, -7));
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if ((bits & 0x7F80) == 0x7F80 && (bits & 0x7F))
      continue; // NaN
    INFO("bits " << bits);
    REQUIRE(toBfloat16(fromBits(uint16_t(bits), ATTN_DTYPE_BF16)) == bits);
  }
}

TEST_CASE(".npy files hold f16 and bf16 bits", "[runtime][half]") {
  char dir[] = "/tmp/attnrt-half-XXXXXX";
  REQUIRE(mkdtemp(dir));
  for (int32_t dtype : {ATTN_DTYPE_F16, ATTN_DTYPE_BF16}) {
    attnrt_tensor t;
    int64_t shape[2] = {2, 3};
    REQUIRE(attnrt_tensor_alloc(&t, dtype, 2, shape) == ATTNRT_OK);
    float values[6] = {1, -2, 0.5f, 65504, -0.0f, 3};
    attnrt_from_f32(t.data, dtype, values, 6);
    std::string path = std::string(dir) + "/t.npy";
    char err[256];
    REQUIRE(attnrt_npy_save(path.c_str(), &t, err, sizeof(err)) == ATTNRT_OK);
    attnrt_tensor back;
    REQUIRE(attnrt_npy_load(path.c_str(), &back, err, sizeof(err)) ==
            ATTNRT_OK);
    CHECK(back.dtype == dtype);
    CHECK(back.rank == 2);
    CHECK(std::memcmp(back.data, t.data, 12) == 0);
    attnrt_tensor_free(&back);
    attnrt_tensor_free(&t);
    std::remove(path.c_str());
  }
  std::remove(dir);
}
