//===- Cooperative.cpp - GPU threads emulated as fibers on one CPU thread -===//
//
// attnrt_cooperative_for runs n "threads" of an emulated GPU thread block
// (attnc --gpu-emulate, a test facility) as fibers (ucontext) on the
// calling thread, round-robin: in round k every fiber runs from its
// barrier k - 1 to its barrier k (attnrt_cooperative_barrier switches back
// to the scheduler) or to its end, so no fiber passes a barrier before all
// have reached it, as on a GPU. A kernel whose threads reach different
// numbers of barriers is an error (undefined on a GPU): the program stops
// with a message. Compared with an OS thread per GPU thread this takes no
// locks and no kernel wake-ups, which made the emulated tensor-core tests
// several times faster on two cores.
//
// Fiber stacks are 8 MiB like a thread's (mmap'd, committed as touched,
// with a guard page). Under AddressSanitizer every switch is announced
// with __sanitizer_start/finish_switch_fiber, so its stack bookkeeping
// follows the fibers, and the stacks are unpoisoned before they are
// unmapped. (ASan warns once that it does not fully support swapcontext;
// these annotations are what it asks for.)
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <cstdlib>
#include <fmt/core.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTNRT_ASAN_FIBERS 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#endif

namespace {

constexpr size_t kStackBytes = size_t(8) << 20;
constexpr size_t kGuardBytes = size_t(64) << 10;

/// Tells ASan that this context is about to switch to the stack
/// [bottom, bottom + size); `save` keeps the leaving context's fake stack
/// (null when the leaving fiber is done for good).
void startSwitch(void **save, const void *bottom, size_t size) {
#ifdef ATTNRT_ASAN_FIBERS
  __sanitizer_start_switch_fiber(save, bottom, size);
#else
  (void)save, (void)bottom, (void)size;
#endif
}
/// After a switch: the arriving context's fake stack back, and where the
/// context switched from lives (may be null).
void finishSwitch(void *save, const void **fromBottom, size_t *fromSize) {
#ifdef ATTNRT_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(save, fromBottom, fromSize);
#else
  (void)save, (void)fromBottom, (void)fromSize;
#endif
}

/// Clears ASan's poisoning of [at, at + size).
void unpoison(const void *at, size_t size) {
#ifdef ATTNRT_ASAN_FIBERS
  __asan_unpoison_memory_region(at, size);
#else
  (void)at, (void)size;
#endif
}

[[noreturn]] void fail(const char *what) {
  fmt::print(stderr, "attnrt: emulated GPU block: {}\n", what);
  std::abort();
}

struct Fiber {
  ucontext_t context;
  char *mapping = nullptr; // guard page + stack
  bool done = false;
  void *fakeStack = nullptr;
};

/// The threads of one emulated block.
struct Block {
  attnrt_task_fn fn;
  void *ctx;
  std::vector<Fiber> fibers;
  int64_t current = -1;
  ucontext_t scheduler{};
  void *schedulerFakeStack = nullptr;
  const void *schedulerBottom = nullptr;
  size_t schedulerSize = 0;

  char *stackOf(int64_t i) { return fibers[size_t(i)].mapping + kGuardBytes; }
  /// From fiber `current` back to the scheduler (`done`: for good).
  void yield(bool done) {
    Fiber &f = fibers[size_t(current)];
    startSwitch(done ? nullptr : &f.fakeStack, schedulerBottom, schedulerSize);
    swapcontext(&f.context, &scheduler);
    finishSwitch(f.fakeStack, nullptr, nullptr);
  }
  /// Runs fiber `i` until its next barrier or its end.
  void resume(int64_t i) {
    current = i;
    startSwitch(&schedulerFakeStack, stackOf(i), kStackBytes);
    swapcontext(&scheduler, &fibers[size_t(i)].context);
    finishSwitch(schedulerFakeStack, nullptr, nullptr);
    current = -1;
  }
};

thread_local Block *currentBlock = nullptr;

void fiberMain() {
  Block &b = *currentBlock;
  const int64_t i = b.current;
  finishSwitch(nullptr, &b.schedulerBottom, &b.schedulerSize);
  b.fn(i, i + 1, b.ctx);
  b.fibers[size_t(i)].done = true;
  b.yield(/*done=*/true);
  fail("a finished thread was resumed");
}

} // namespace

void attnrt_cooperative_for(int64_t n, attnrt_task_fn fn, void *ctx) {
  if (n <= 0)
    return;
  if (currentBlock)
    fail("attnrt_cooperative_for inside an emulated block");
  Block block;
  block.fn = fn;
  block.ctx = ctx;
  block.fibers.resize(size_t(n));
  for (Fiber &f : block.fibers) {
    void *m = mmap(nullptr, kGuardBytes + kStackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                   -1, 0);
    if (m == MAP_FAILED)
      fail("cannot map a thread's stack");
    f.mapping = static_cast<char *>(m);
    mprotect(f.mapping, kGuardBytes, PROT_NONE);
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.mapping + kGuardBytes;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiberMain, 0);
    // makecontext has put the stack into the saved registers; without it in
    // uc_stack, ASan's swapcontext interceptor does not reset the whole
    // stack's shadow at every switch (a few system calls each).
    f.context.uc_stack = stack_t{};
  }
  currentBlock = &block;
  for (int64_t finished = 0; finished < n;) {
    // One round: every thread to its next barrier or its end.
    finished = 0;
    for (int64_t i = 0; i < n; ++i)
      if (!block.fibers[size_t(i)].done) {
        block.resume(i);
        finished += block.fibers[size_t(i)].done;
      } else {
        ++finished;
      }
    if (finished != 0 && finished != n)
      fail("its threads reached different numbers of barriers");
  }
  currentBlock = nullptr;
  for (Fiber &f : block.fibers) {
    // The frames the fibers left behind may keep poisoned redzones.
    unpoison(f.mapping + kGuardBytes, kStackBytes);
    munmap(f.mapping, kGuardBytes + kStackBytes);
  }
}

void attnrt_cooperative_barrier(void) {
  if (currentBlock && currentBlock->current >= 0)
    currentBlock->yield(/*done=*/false);
}
