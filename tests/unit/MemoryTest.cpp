//===- MemoryTest.cpp - the allocator and packed weights of the runtime ---===//
//
// runtime/Memory.cpp: large blocks come back for the next allocation of the
// same size, and packed weights are filled once, kept across frees, kept
// apart per packing and dropped by attnrt_packed_forget.
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size);
extern "C" void _mlir_memref_to_llvm_free(void *ptr);

namespace {
int64_t addressOf(const void *p) {
  return int64_t(reinterpret_cast<intptr_t>(p));
}
} // namespace

TEST_CASE("large blocks are reused for the same size", "[runtime][memory]") {
  const uint64_t size = (uint64_t(1) << 22) + 64;
  void *a = _mlir_memref_to_llvm_alloc(size);
  REQUIRE(a != nullptr);
  static_cast<char *>(a)[size - 1] = 1; // the whole block is usable
  _mlir_memref_to_llvm_free(a);
  void *b = _mlir_memref_to_llvm_alloc(size);
  CHECK(b == a);
  void *c = _mlir_memref_to_llvm_alloc(size); // a second one while b lives
  CHECK(c != b);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(c);
  // Small blocks go straight to malloc and free.
  void *small = _mlir_memref_to_llvm_alloc(100);
  REQUIRE(small != nullptr);
  _mlir_memref_to_llvm_free(small);
  _mlir_memref_to_llvm_free(nullptr);
}

TEST_CASE("packed weights are filled once and kept", "[runtime][memory]") {
  std::vector<float> weight(16);
  const int64_t w = addressOf(weight.data());
  const uint64_t size = 1 << 12;

  REQUIRE(attnrt_packed_begin(w, 7) == 1); // first run: fill it
  float *packed = static_cast<float *>(_mlir_memref_to_llvm_alloc(size));
  REQUIRE(packed != nullptr);
  packed[0] = 42;
  attnrt_packed_end(w, 7);
  _mlir_memref_to_llvm_free(packed); // kept, not freed

  REQUIRE(attnrt_packed_begin(w, 7) == 0); // later runs: filled already
  float *again = static_cast<float *>(_mlir_memref_to_llvm_alloc(size));
  CHECK(again == packed);
  CHECK(again[0] == 42);
  _mlir_memref_to_llvm_free(again);

  // Another packing of the same weight has its own buffer.
  REQUIRE(attnrt_packed_begin(w, 8) == 1);
  void *other = _mlir_memref_to_llvm_alloc(size);
  CHECK(other != packed);
  attnrt_packed_end(w, 8);
  _mlir_memref_to_llvm_free(other);

  // An allocation without begin is an ordinary one.
  void *plain = _mlir_memref_to_llvm_alloc(size);
  CHECK(plain != packed);
  CHECK(plain != other);
  _mlir_memref_to_llvm_free(plain);

  // Forgetting the weight drops both forms: the next run fills again.
  attnrt_packed_forget(weight.data());
  REQUIRE(attnrt_packed_begin(w, 7) == 1);
  _mlir_memref_to_llvm_free(_mlir_memref_to_llvm_alloc(size));
  attnrt_packed_end(w, 7);
  attnrt_packed_forget(weight.data());
}

TEST_CASE("concurrent runs fill a packed weight once", "[runtime][memory]") {
  std::vector<float> weight(16);
  const int64_t w = addressOf(weight.data());
  std::atomic<int> fillers{0};
  std::vector<void *> buffers(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      int32_t fill = attnrt_packed_begin(w, 1);
      buffers[t] = _mlir_memref_to_llvm_alloc(1 << 12);
      if (fill) {
        ++fillers;
        static_cast<float *>(buffers[t])[0] = 5;
        attnrt_packed_end(w, 1);
      }
    });
  for (std::thread &t : threads)
    t.join();
  CHECK(fillers == 1);
  for (void *b : buffers) {
    CHECK(b == buffers[0]);
    CHECK(static_cast<float *>(b)[0] == 5);
  }
  attnrt_packed_forget(weight.data());
}
