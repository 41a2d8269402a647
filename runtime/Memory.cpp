//===- Memory.cpp - the allocator of generated code -----------------------===//
//
// Generated code allocates its buffers (results of ops, packed weights,
// per-thread scratch) through these two functions (MLIR's
// finalize-memref-to-llvm with use-generic-functions). Large blocks are kept
// after they are freed and handed out again for the same size, so that a
// model run repeatedly does not map, zero and fault in its big buffers on
// every run (glibc returns blocks above 32 MiB to the kernel at once).
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace {

/// Blocks from this size on are cached.
constexpr uint64_t kCachedSize = uint64_t(1) << 20;
/// At most this many blocks and bytes stay cached (the oldest go first).
constexpr size_t kMaxBlocks = 64;
constexpr uint64_t kMaxBytes = uint64_t(4) << 30;

/// Every block starts with its size; the caller aligns the pointer it gets.
constexpr uint64_t kHeader = 16;

struct Cache {
  std::mutex mutex;
  std::vector<void *> blocks; // oldest first; each points at its header
  uint64_t bytes = 0;
};

Cache &cache() {
  static Cache *instance = new Cache; // never destroyed: used until exit
  return *instance;
}

uint64_t sizeOf(void *header) { return *static_cast<uint64_t *>(header); }

} // namespace

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  if (size >= kCachedSize) {
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    for (size_t i = c.blocks.size(); i-- > 0;)
      if (sizeOf(c.blocks[i]) == size) {
        void *header = c.blocks[i];
        c.blocks.erase(c.blocks.begin() + long(i));
        c.bytes -= size;
        return static_cast<char *>(header) + kHeader;
      }
  }
  void *header = std::malloc(size + kHeader);
  if (!header)
    return nullptr;
  *static_cast<uint64_t *>(header) = size;
  return static_cast<char *>(header) + kHeader;
}

extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr)
    return;
  void *header = static_cast<char *>(ptr) - kHeader;
  uint64_t size = sizeOf(header);
  if (size < kCachedSize || size > kMaxBytes) {
    std::free(header);
    return;
  }
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.blocks.push_back(header);
  c.bytes += size;
  while (c.blocks.size() > kMaxBlocks || c.bytes > kMaxBytes) {
    c.bytes -= sizeOf(c.blocks.front());
    std::free(c.blocks.front());
    c.blocks.erase(c.blocks.begin());
  }
}
