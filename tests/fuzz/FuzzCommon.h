//===- FuzzCommon.h - shared pieces of the libFuzzer targets ----*- C++ -*-===//
#ifndef ATTN_TESTS_FUZZ_FUZZCOMMON_H
#define ATTN_TESTS_FUZZ_FUZZCOMMON_H

#include "tools/attnc/ModelAST.h"

#include "llvm/Support/SourceMgr.h"

#include <cstddef>
#include <cstdint>

namespace mlir::attn::fuzz {

/// Adds a copy of `data` as the main buffer of `sourceMgr` and drops the
/// diagnostics printed through it (the fuzzer reads only crashes).
void addQuietBuffer(llvm::SourceMgr &sourceMgr, const uint8_t *data,
                    size_t size, const char *name);

/// Builds the attn IR of `model` in a shared context (diagnostics dropped,
/// renewed every 256 inputs) and verifies the module; whether both
/// succeeded.
bool buildAndVerify(const llvm::SourceMgr &sourceMgr,
                    const model::Model &model);

} // namespace mlir::attn::fuzz

#endif // ATTN_TESTS_FUZZ_FUZZCOMMON_H
