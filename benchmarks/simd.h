//===- simd.h - the vector type of the benchmark programs -------*- C++ -*-===//
//
// Benchmark code, not part of attnc: the widest f32 vector this build's
// target has (AVX-512, else AVX2), as `Vec`, with the few intrinsics
// peak.cpp and stream.cpp use under one name each, and ISA naming it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_BENCHMARKS_SIMD_H
#define ATTN_BENCHMARKS_SIMD_H

#include <immintrin.h>

#if defined(__AVX512F__)
using Vec = __m512;
#define ISA "AVX-512"
#define SET1 _mm512_set1_ps
#define ZERO _mm512_setzero_ps
#define LOAD _mm512_load_ps
#define ADD _mm512_add_ps
#define FMA _mm512_fmadd_ps
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__)
using Vec = __m256;
#define ISA "AVX2"
#define SET1 _mm256_set1_ps
#define ZERO _mm256_setzero_ps
#define LOAD _mm256_load_ps
#define ADD _mm256_add_ps
#define FMA _mm256_fmadd_ps
static inline float SUM(__m256 v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#else
#error "the benchmarks need AVX2 or AVX-512 (compile with -march=native)"
#endif

#endif // ATTN_BENCHMARKS_SIMD_H
