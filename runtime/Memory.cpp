//===- Memory.cpp - the allocator of generated code -----------------------===//
//
// Generated code allocates its buffers (results of ops, packed weights,
// per-thread scratch) through these two functions (MLIR's
// finalize-memref-to-llvm with use-generic-functions). Large blocks are kept
// after they are freed and handed out again for the same size, so that a
// model run repeatedly does not map, zero and fault in its big buffers on
// every run (glibc returns blocks above 32 MiB to the kernel at once).
//
// Packed weights. A dense layer packs its weight into panels before the
// matmul; for a model weight (constant for the life of the program or
// instance) that is done once. The generated code calls
// attnrt_packed_begin(weight address, packing tag) right before it
// allocates the packed buffer: the allocation then returns the packed form
// kept for that key (new the first time), and begin returns 1 only to the
// one caller that must fill it, which calls attnrt_packed_end afterwards
// (concurrent callers wait in begin until it has). Freeing a kept buffer
// does nothing; attnrt_packed_forget drops the forms of a weight whose
// memory goes away (model instances call it when destroyed).
//
//===----------------------------------------------------------------------===//
#include "runtime/AttnRuntime.h"

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace {

/// Blocks from this size on are cached.
constexpr uint64_t kCachedSize = uint64_t(1) << 20;
/// At most this many blocks and bytes stay cached (the oldest go first).
constexpr size_t kMaxBlocks = 64;
constexpr uint64_t kMaxBytes = uint64_t(4) << 30;

/// Every block starts with a header; the caller aligns the pointer it gets.
struct Header {
  uint64_t size;
  uint64_t kept; // a packed weight: frees leave it alone
};
constexpr uint64_t kHeader = sizeof(Header);

struct Cache {
  std::mutex mutex;
  std::vector<void *> blocks; // oldest first; each points at its header
  uint64_t bytes = 0;
};

Cache &cache() {
  static Cache *instance = new Cache; // never destroyed: used until exit
  return *instance;
}

uint64_t sizeOf(void *header) { return static_cast<Header *>(header)->size; }

Header *headerOf(void *ptr) {
  return reinterpret_cast<Header *>(static_cast<char *>(ptr) - kHeader);
}

/// The packed forms of weights: (weight address, tag) -> buffer (the
/// pointer handed to generated code) and whether it is filled.
struct Packed {
  std::mutex mutex;
  std::condition_variable filled;
  struct Form {
    void *buffer = nullptr;
    bool ready = false;
  };
  std::map<std::pair<int64_t, int64_t>, Form> forms;
};

Packed &packed() {
  static Packed *instance = new Packed; // never destroyed: used until exit
  return *instance;
}

/// The key the next allocation of this thread serves (set by begin).
thread_local bool pendingKey = false;
thread_local std::pair<int64_t, int64_t> pending;

/// A block of `size` usable bytes after a Header: a cached one of the same
/// size when there is one.
void *allocate(uint64_t size) {
  if (size >= kCachedSize) {
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    for (size_t i = c.blocks.size(); i-- > 0;)
      if (sizeOf(c.blocks[i]) == size) {
        void *header = c.blocks[i];
        c.blocks.erase(c.blocks.begin() + long(i));
        c.bytes -= size;
        static_cast<Header *>(header)->kept = 0;
        return static_cast<char *>(header) + kHeader;
      }
  }
  auto *header = static_cast<Header *>(std::malloc(size + kHeader));
  if (!header)
    return nullptr;
  *header = {size, 0};
  return reinterpret_cast<char *>(header) + kHeader;
}

} // namespace

extern "C" int32_t attnrt_packed_begin(int64_t weight, int64_t tag) {
  Packed &p = packed();
  std::unique_lock<std::mutex> lock(p.mutex);
  auto found = p.forms.try_emplace({weight, tag});
  pendingKey = true;
  pending = {weight, tag};
  if (found.second)
    return 1; // the caller fills the buffer its allocation creates
  Packed::Form &form = found.first->second;
  p.filled.wait(lock, [&] { return form.ready; });
  return 0;
}

extern "C" void attnrt_packed_end(int64_t weight, int64_t tag) {
  Packed &p = packed();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.forms[{weight, tag}].ready = true;
  }
  p.filled.notify_all();
}

extern "C" void attnrt_packed_forget(const void *weight) {
  Packed &p = packed();
  std::lock_guard<std::mutex> lock(p.mutex);
  int64_t address = int64_t(reinterpret_cast<intptr_t>(weight));
  for (auto it = p.forms.lower_bound({address, INT64_MIN});
       it != p.forms.end() && it->first.first == address;) {
    if (it->second.buffer)
      std::free(headerOf(it->second.buffer));
    it = p.forms.erase(it);
  }
}

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  if (pendingKey) {
    pendingKey = false;
    Packed &p = packed();
    std::lock_guard<std::mutex> lock(p.mutex);
    Packed::Form &form = p.forms[pending];
    if (!form.buffer) {
      form.buffer = allocate(size);
      if (form.buffer)
        headerOf(form.buffer)->kept = 1;
    }
    return form.buffer;
  }
  return allocate(size);
}


extern "C" void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr || headerOf(ptr)->kept)
    return; // a kept packed weight stays until attnrt_packed_forget
  void *header = headerOf(ptr);
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
