//===- ThreadPool.cpp - Process-wide pool behind attnrt_parallel_for ------===//
//
// A process-wide pool of persistent worker threads, created on the first
// parallel loop and resized by attnrt_set_num_threads. A loop over [0, n) is
// cut into contiguous chunks of about n / (4 * threads) iterations that the
// caller and the workers claim dynamically, so uneven iteration costs balance.
//
// Dispatch is lock-free. One 64-bit atomic holds the loop's generation (high
// 32 bits) and the index of the next unclaimed chunk (low 32 bits); a chunk is
// claimed by a compare-and-swap that also checks the generation. Before it
// rewrites the job, the caller moves the state to a closed generation in
// which no chunk can be claimed, so a worker that wakes up late never runs a
// chunk of a loop that already finished, nor a chunk of the next loop with
// the previous loop's state; the caller only waits for the chunks, never for
// the workers to wake up. Idle workers spin briefly (generated code issues
// many short loops back to back) and then sleep on a condition variable.
//
// Loops started from inside a loop body, or while another thread's loop is
// running, run inline on the calling thread. attnrt_set_num_threads must not
// be called from inside a loop body (it is ignored there).
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sched.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

/// Upper bound for attnrt_set_num_threads.
constexpr int32_t kMaxThreads = 1024;
/// How long an idle worker or a waiting caller spins before blocking.
constexpr std::chrono::microseconds kSpinTime(200);

/// True on pool workers and on a caller while it runs its loop.
thread_local bool inParallelLoop = false;

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/// Calls `done()` until it returns true: spinning for kSpinTime, then via
/// `block()`, which waits for the condition (or just yields).
template <typename Done, typename Block>
void spinThenBlock(Done done, Block block) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (unsigned i = 1; !done(); ++i) {
    cpuRelax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline)
      return block();
  }
}

int32_t defaultNumThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return std::min<int32_t>(CPU_COUNT(&set), kMaxThreads);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? int32_t(std::min<long>(online, kMaxThreads)) : 1;
}

std::atomic<int32_t> numThreads{0}; // 0 until first queried or set

uint32_t generationOf(uint64_t state) { return uint32_t(state >> 32); }
/// Chunk index of a state word while its job is being written: no chunk
/// index reaches it, so nothing can be claimed.
constexpr uint64_t kClosed = 0xffffffffu;

class Pool {
public:
  /// Serializes loops and resizing; a loop that cannot take it runs inline.
  std::mutex loopMutex;

  size_t numWorkers() const { return workers.size(); }

  /// Makes sure `count` workers exist. Requires loopMutex.
  void resize(size_t count) {
    if (workers.size() == count)
      return;
    {
      std::lock_guard<std::mutex> lock(sleepMutex);
      stopping = true;
    }
    wakeup.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
    stopping = false;
    for (size_t i = 0; i < count; ++i)
      workers.emplace_back([this] { workerLoop(); });
  }

  /// Runs fn over [0, n) with the workers. Requires loopMutex and n >= 2.
  void run(int64_t n, attnrt_task_fn fn, void *ctx, int32_t threads) {
    const int64_t chunk = std::max<int64_t>(1, n / (int64_t(threads) * 4));
    const int64_t chunks = (n + chunk - 1) / chunk;
    // Close the previous loop before rewriting the job: a late worker that
    // still holds the old state word must fail its claim instead of reading
    // the new job's chunk count and running (and counting) a stale chunk.
    const uint32_t closed = generationOf(state.load()) + 1;
    state.store(uint64_t(closed) << 32 | kClosed);
    // Orders the close before the job writes (see the fence in runChunks).
    std::atomic_thread_fence(std::memory_order_release);
    const uint32_t generation = closed + 1;
    job.fn.store(fn, std::memory_order_relaxed);
    job.ctx.store(ctx, std::memory_order_relaxed);
    job.n.store(n, std::memory_order_relaxed);
    job.chunk.store(chunk, std::memory_order_relaxed);
    job.chunks.store(chunks, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    // Sequentially consistent, pairing with the sleepers count (see
    // waitForWork).
    state.store(uint64_t(generation) << 32);
    if (sleepers.load() > 0) {
      std::lock_guard<std::mutex> lock(sleepMutex);
      wakeup.notify_all();
    }
    runChunks(generation);
    spinThenBlock(
        [&] { return done.load(std::memory_order_acquire) == chunks; },
        [&] {
          while (done.load(std::memory_order_acquire) != chunks)
            std::this_thread::yield();
        });
  }

private:
  /// The current loop. The fields are written by the caller before it
  /// publishes a new generation and only read by threads that then claim a
  /// chunk of that generation; atomics keep the reads of late workers (whose
  /// claims will fail) well defined.
  struct Job {
    std::atomic<attnrt_task_fn> fn{nullptr};
    std::atomic<void *> ctx{nullptr};
    std::atomic<int64_t> n{0}, chunk{0}, chunks{0};
  } job;
  /// Generation << 32 | next chunk index.
  std::atomic<uint64_t> state{0};
  /// Chunks of the current generation that have finished.
  std::atomic<int64_t> done{0};

  std::vector<std::thread> workers;
  std::mutex sleepMutex;
  std::condition_variable wakeup;
  std::atomic<int> sleepers{0};
  std::atomic<bool> stopping{false};

  /// Claims and runs chunks of loop `generation` until none is left.
  void runChunks(uint32_t generation) {
    uint64_t current = state.load(std::memory_order_acquire);
    if (generationOf(current) != generation)
      return;
    attnrt_task_fn fn = job.fn.load(std::memory_order_relaxed);
    void *ctx = job.ctx.load(std::memory_order_relaxed);
    const int64_t n = job.n.load(std::memory_order_relaxed);
    const int64_t chunk = job.chunk.load(std::memory_order_relaxed);
    const int64_t chunks = job.chunks.load(std::memory_order_relaxed);
    // If any field above came from a newer job, the claim below sees the
    // closed state that preceded it and fails.
    std::atomic_thread_fence(std::memory_order_acquire);
    for (;;) {
      const int64_t index = int64_t(current & 0xffffffffu);
      if (generationOf(current) != generation || index >= chunks)
        return;
      if (!state.compare_exchange_weak(current, current + 1,
                                       std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        continue;
      const int64_t begin = index * chunk;
      fn(begin, std::min(n, begin + chunk), ctx);
      done.fetch_add(1, std::memory_order_release);
    }
  }

  /// Waits until a generation other than `seen` is published or the pool
  /// stops; returns false when stopping.
  bool waitForWork(uint32_t seen) {
    auto ready = [&] {
      return stopping.load() || generationOf(state.load()) != seen;
    };
    spinThenBlock(ready, [&] {
      std::unique_lock<std::mutex> lock(sleepMutex);
      sleepers.fetch_add(1);
      wakeup.wait(lock, ready);
      sleepers.fetch_sub(1);
    });
    return !stopping.load();
  }

  void workerLoop() {
    inParallelLoop = true;
    uint32_t seen = generationOf(state.load());
    while (waitForWork(seen)) {
      seen = generationOf(state.load(std::memory_order_acquire));
      runChunks(seen);
    }
  }
};

/// Never destroyed: the workers may still be parked when the process exits,
/// and a loop may run from another object's static destructor.
Pool &pool() {
  static Pool *instance = new Pool();
  return *instance;
}

} // namespace

void attnrt_set_num_threads(int32_t n) {
  if (inParallelLoop)
    return;
  n = std::clamp<int32_t>(n, 1, kMaxThreads);
  Pool &p = pool();
  std::lock_guard<std::mutex> lock(p.loopMutex);
  numThreads.store(n);
  if (p.numWorkers() > 0)
    p.resize(size_t(n - 1));
}

int32_t attnrt_get_num_threads(void) {
  int32_t n = numThreads.load();
  if (n == 0) {
    int32_t expected = 0;
    numThreads.compare_exchange_strong(expected, defaultNumThreads());
    n = numThreads.load();
  }
  return n;
}

void attnrt_parallel_for(int64_t n, attnrt_task_fn fn, void *ctx) {
  if (n <= 0)
    return;
  const int32_t threads = attnrt_get_num_threads();
  if (threads == 1 || n == 1 || inParallelLoop)
    return fn(0, n, ctx);
  Pool &p = pool();
  std::unique_lock<std::mutex> lock(p.loopMutex, std::try_to_lock);
  if (!lock)
    return fn(0, n, ctx);
  p.resize(size_t(threads - 1));
  inParallelLoop = true;
  p.run(n, fn, ctx, threads);
  inParallelLoop = false;
}
