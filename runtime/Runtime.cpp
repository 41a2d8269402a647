//===- Runtime.cpp - Status strings, timing, memory, random data ----------===//
//
// The small pieces of the attnc runtime that need no state: names of status
// codes, the monotonic clock, peak RSS from getrusage, and the counter-based
// random generator behind seeded inputs. Element i of a random fill depends
// only on (seed, i), so fills are reproducible on every platform and a prefix
// of a longer fill equals a shorter fill.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <algorithm>
#include <cmath>

#include <sys/resource.h>
#include <time.h>

const char *attnrt_status_string(attnrt_status status) {
  switch (status) {
  case ATTNRT_OK:
    return "ok";
  case ATTNRT_ERROR_IO:
    return "I/O error";
  case ATTNRT_ERROR_FORMAT:
    return "malformed or unsupported file";
  case ATTNRT_ERROR_SHAPE:
    return "shape mismatch";
  case ATTNRT_ERROR_INVALID_ARG:
    return "invalid argument";
  case ATTNRT_ERROR_UNSUPPORTED:
    return "unsupported in this build";
  case ATTNRT_ERROR_NOT_FOUND:
    return "not found";
  case ATTNRT_ERROR_DEVICE:
    return "GPU error";
  case ATTNRT_STATUS_FORCE_INT32_:
    break;
  }
  return "unknown status";
}

/// The splitmix64 output function applied to a counter value.
static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void attnrt_fill_random(float *data, int64_t n, uint64_t seed) {
  // Counter i of stream `seed` is seed + i * golden ratio, the same sequence
  // the sequential splitmix64 generator walks. The top 24 bits give a float
  // k * 2^-24 in [0, 1) exactly; 2u - 1 is then exact as well, in [-1, 1).
  const uint64_t base = splitmix64(seed);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits = splitmix64(base + uint64_t(i) * 0x9E3779B97F4A7C15ull);
    float unit = float(bits >> 40) * (1.0f / 16777216.0f);
    data[i] = 2.0f * unit - 1.0f;
  }
}

void attnrt_fill_random_ids(void *data, int32_t dtype, int64_t n,
                            int64_t bound, uint64_t seed) {
  // Element i is splitmix64 step i + 1 of the sequential stream from `seed`.
  for (int64_t i = 0; i < n; ++i) {
    int64_t id = int64_t(splitmix64(seed + uint64_t(i) * 0x9E3779B97F4A7C15ull) %
                         uint64_t(bound));
    if (dtype == ATTN_DTYPE_I64)
      static_cast<int64_t *>(data)[i] = id;
    else
      static_cast<int32_t *>(data)[i] = int32_t(id);
  }
}

void attnrt_fill_random_weight(float *data, int32_t rank, const int64_t *shape,
                               uint64_t seed) {
  int64_t numel = 1;
  for (int32_t i = 0; i < rank; ++i)
    numel *= shape[i];
  attnrt_fill_random(data, numel, seed); // in [-1, 1)
  if (rank >= 2) {
    const float scale = 1.0f / std::sqrt(float(shape[rank - 1]));
    for (int64_t i = 0; i < numel; ++i)
      data[i] *= scale;
  } else {
    // 1 + u/2 needs 25 bits: the largest u rounds up to 1.5, kept below.
    const float below = std::nextafter(1.5f, 0.0f);
    for (int64_t i = 0; i < numel; ++i)
      data[i] = std::min(1.0f + 0.5f * data[i], below);
  }
}

// Input i of seed N uses N * 1000003 + i and weight j N * 1000003 + 500000
// + j: inputs and weights are counted separately, so adding an input changes
// no weight.
uint64_t attnrt_input_seed(uint64_t seed, int64_t i) {
  return seed * 1000003u + uint64_t(i);
}
uint64_t attnrt_weight_seed(uint64_t seed, int64_t j) {
  return seed * 1000003u + 500000u + uint64_t(j);
}

double attnrt_now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int64_t attnrt_peak_rss_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
#ifdef __APPLE__
  return int64_t(usage.ru_maxrss); // bytes on Darwin
#else
  return int64_t(usage.ru_maxrss) * 1024; // KiB on Linux
#endif
}
