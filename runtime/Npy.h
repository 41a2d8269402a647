//===- Npy.h - the .npy reader on an open stream ----------------*- C++ -*-===//
//
// Internal to the runtime (the C API is attnrt_npy_load in AttnRuntime.h);
// the libFuzzer target tests/fuzz/FuzzNpy.cpp reads memory through it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_NPY_H
#define ATTN_RUNTIME_NPY_H

#include "runtime/AttnRuntime.h"

#include <cstdio>

namespace attn {

/// attnrt_npy_load on a stream open for reading at its start; `path` only
/// names it in messages. `out` is untouched on failure.
attnrt_status npyLoadStream(FILE *file, const char *path, attnrt_tensor *out,
                            char *err, size_t errlen);

} // namespace attn

#endif // ATTN_RUNTIME_NPY_H
