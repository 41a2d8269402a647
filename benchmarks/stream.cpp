//===- stream.cpp - read bandwidth of this machine ------------------------===//
//
// Benchmark code, not part of attnc: T threads each sum their own contiguous
// slice of one buffer far larger than the last-level cache, and the total
// rate is the machine's practical read bandwidth from memory, the
// denominator of every "% of read bandwidth" of the decode rows in
// RESULTS.md (decode attention reads K and V once: it is bound by memory,
// not by FMAs).
//
//   stream THREADS [MIB [REPS [huge]]]     (THREADS <= cores: they spin)
//       -> "gbps=<median> gbps_min=<N> gbps_max=<N> threads=<T> bytes=<N>
//           reps=<N> isa=<ISA> width=<bits> accumulators=<N> pages=<4k|huge>
//           checksum=<N>"
//   stream 0  -> the configuration only
//
// GB = 1e9 bytes. MIB is the buffer size (default 1024 MiB = 2^28 floats);
// every repetition reads all of it once (the threads start it together at a
// barrier and it ends when the last one is done; the threads live through
// all repetitions, so no thread start is timed), after one untimed warm-up
// repetition; gbps is the median over REPS (default 11).
//
// The buffer is written first (each thread its own slice, so every page is
// mapped before the timing) and, by default, lives in ordinary 4 KiB pages
// like the tensors of an attnc program (runtime: aligned_alloc, no
// madvise); `huge` asks for transparent huge pages (madvise) instead.
//
// The sums are used: every repetition's total goes into the checksum that
// is printed, and an empty asm with a memory clobber before each
// repetition stops the compiler from reading the buffer once for all.
// Several independent vector accumulators (more than add latency x ports =
// 4 x 2) keep the loop from being bound by the add latency.
//
//===----------------------------------------------------------------------===//
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "simd.h"

constexpr int kAccumulators = 8;
constexpr long kLanes = sizeof(Vec) / sizeof(float);
constexpr long kStep = kLanes * kAccumulators; // floats per loop iteration
constexpr size_t kAlign = 2 << 20;             // 2 MiB: huge-page aligned

// Sums data[0, n), n a multiple of kStep, with kAccumulators independent
// vector sums.
static double sum(const float *data, long n) {
  Vec acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = ZERO();
  for (long j = 0; j < n; j += kStep)
#pragma GCC unroll 16
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = ADD(acc[i], LOAD(data + j + i * kLanes));
  for (int i = 1; i < kAccumulators; ++i)
    acc[0] = ADD(acc[0], acc[i]);
  return SUM(acc[0]);
}

// A spinning barrier: with one thread per core (THREADS <= cores), the
// threads start every repetition within a few hundred nanoseconds; a
// sleeping barrier (futex) wakes them up to ~0.1 ms late on a VM, which is
// noise on a buffer that fits the cache. After a while it yields, so that a
// thread that lost its core to another process gets it back.
class SpinBarrier {
public:
  explicit SpinBarrier(int n) : n_(n) {}
  void wait() {
    int gen = generation_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    for (long spins = 0; generation_.load(std::memory_order_acquire) == gen;)
      if (++spins < 100000)
        _mm_pause();
      else
        std::this_thread::yield();
  }

private:
  const int n_;
  std::atomic<int> count_{0}, generation_{0};
};

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  long mib = argc > 2 ? std::atol(argv[2]) : 1024;
  int reps = argc > 3 ? std::atoi(argv[3]) : 11;
  bool huge = argc > 4 && std::strcmp(argv[4], "huge") == 0;
  if (threads <= 0) { // "stream 0": the configuration only
    std::printf("isa=%s width=%d accumulators=%d\n", ISA, int(8 * sizeof(Vec)),
                kAccumulators);
    return 0;
  }
  if (mib <= 0 || reps <= 0) {
    std::fprintf(stderr, "usage: stream THREADS [MIB [REPS [huge]]]\n");
    return 2;
  }
  size_t bytes = size_t(mib) << 20;
  long n = long(bytes / sizeof(float));
  // Every thread's slice is a whole number of loop iterations.
  long slice = n / threads / kStep * kStep;
  auto *data = static_cast<float *>(std::aligned_alloc(kAlign, bytes));
  if (!data) {
    std::fprintf(stderr, "stream: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  if (huge)
    madvise(data, bytes, MADV_HUGEPAGE);

  // The threads live through all repetitions (no thread start is timed):
  // each repetition is barrier, read, barrier; thread 0 times it.
  std::vector<double> partial(threads), rates;
  double checksum = 0;
  SpinBarrier sync(threads);
  auto worker = [&](int t) {
    // First touch by the thread that reads the slice, so every page is
    // mapped before the timing. Small integers: each vector lane sums them
    // exactly, so the checksum is reproducible.
    float *p = data + t * slice;
    for (long i = 0; i < slice; ++i)
      p[i] = float((t * slice + i) & 7);
    for (int r = 0; r <= reps; ++r) { // r = 0: the warm-up
      sync.wait();
      auto start = std::chrono::steady_clock::now();
      asm volatile("" ::: "memory");
      partial[t] = sum(p, slice);
      sync.wait();
      if (t != 0)
        continue;
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      for (double x : partial)
        checksum += x;
      if (r > 0)
        rates.push_back(double(slice) * threads * sizeof(float) / seconds *
                        1e-9);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(worker, t);
  worker(0);
  for (auto &t : pool)
    t.join();
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted.size() % 2
                      ? sorted[sorted.size() / 2]
                      : 0.5 * (sorted[sorted.size() / 2 - 1] +
                               sorted[sorted.size() / 2]);
  std::printf("gbps=%.2f gbps_min=%.2f gbps_max=%.2f threads=%d bytes=%ld "
              "reps=%d isa=%s width=%d accumulators=%d pages=%s "
              "checksum=%.0f\n",
              median, sorted.front(), sorted.back(), threads,
              slice * threads * long(sizeof(float)), reps, ISA,
              int(8 * sizeof(Vec)), kAccumulators, huge ? "huge" : "4k",
              checksum);
  std::free(data);
  return 0;
}
