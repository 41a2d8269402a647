//===- ThreadPoolTest.cpp - Unit tests of attnrt_parallel_for -------------===//
//
// The runtime's thread pool: coverage of every index, many calls, nesting,
// loops from several threads, a stress run under a watchdog, and the
// thread-count setting.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

TEST_CASE("parallel_for covers every index exactly once", "[runtime][pool]") {
  const int64_t sizes[] = {0, 1, 2, 3, 5, 7, 8, 16, 63, 100, 1000, 12345};
  const int32_t threadCounts[] = {1, 2, 3, 4, 8, 17};
  for (int32_t threads : threadCounts) {
    attnrt_set_num_threads(threads);
    REQUIRE(attnrt_get_num_threads() == threads);
    for (int64_t n : sizes) {
      CAPTURE(threads, n);
      std::vector<std::atomic<int>> hits(size_t(n) + 1);
      struct Ctx {
        std::vector<std::atomic<int>> *hits;
        int64_t n;
        std::atomic<bool> bad{false};
      } ctx{&hits, n};
      attnrt_parallel_for(
          n,
          [](int64_t begin, int64_t end, void *p) {
            Ctx *c = static_cast<Ctx *>(p);
            if (begin < 0 || begin >= end || end > c->n)
              c->bad = true;
            for (int64_t i = begin; i < end; ++i)
              (*c->hits)[size_t(i)].fetch_add(1);
          },
          &ctx);
      CHECK(!ctx.bad);
      int wrong = 0;
      for (int64_t i = 0; i < n; ++i)
        wrong += hits[size_t(i)].load() != 1;
      CHECK(wrong == 0);
    }
  }
}

namespace {

/// Sums the indices of [begin, end) into an atomic counter.
void addIndices(int64_t begin, int64_t end, void *ctx) {
  int64_t sum = 0;
  for (int64_t i = begin; i < end; ++i)
    sum += i;
  static_cast<std::atomic<int64_t> *>(ctx)->fetch_add(sum);
}

int64_t triangle(int64_t n) { return n * (n - 1) / 2; }

} // namespace

TEST_CASE("parallel_for survives many calls, nesting and concurrency",
          "[runtime][pool]") {
  attnrt_set_num_threads(4);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 20000; ++i)
    attnrt_parallel_for(8 + i % 5, addIndices, &total);
  int64_t expected = 0;
  for (int i = 0; i < 20000; ++i)
    expected += triangle(8 + i % 5);
  CHECK(total == expected);

  // A loop inside a loop body runs inline.
  total = 0;
  attnrt_parallel_for(
      16,
      [](int64_t begin, int64_t end, void *ctx) {
        for (int64_t i = begin; i < end; ++i)
          attnrt_parallel_for(100, addIndices, ctx);
      },
      &total);
  CHECK(total == 16 * triangle(100));

  // Loops from several threads at once each complete.
  std::vector<std::atomic<int64_t>> sums(4);
  std::vector<std::thread> threads;
  for (auto &sum : sums)
    threads.emplace_back([&sum] {
      for (int i = 0; i < 500; ++i)
        attnrt_parallel_for(1000, addIndices, &sum);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (auto &sum : sums)
    CHECK(sum == 500 * triangle(1000));
}

TEST_CASE("parallel_for under stress: callers, sizes and thread counts",
          "[runtime][pool]") {
  // Rounds of 4 caller threads, each issuing thousands of tiny loops (the
  // shape of generated code: short loops back to back), under thread counts
  // 1-4 that change between rounds. A lost wake-up or a race shows as a
  // wrong sum, or as a round that does not finish within the watchdog's
  // minute: then the test fails and the process exits instead of hanging.
  auto rounds = std::async(std::launch::async, [] {
    bool ok = true;
    for (int round = 0; round < 8; ++round) {
      attnrt_set_num_threads(1 + round % 4);
      std::vector<std::atomic<int64_t>> sums(4);
      std::vector<std::thread> callers;
      for (size_t c = 0; c < sums.size(); ++c)
        callers.emplace_back([&sums, c] {
          for (int i = 0; i < 3000; ++i)
            attnrt_parallel_for(2 + (i + int(c)) % 8, addIndices, &sums[c]);
        });
      for (std::thread &caller : callers)
        caller.join();
      for (size_t c = 0; c < sums.size(); ++c) {
        int64_t expected = 0;
        for (int i = 0; i < 3000; ++i)
          expected += triangle(2 + (i + int(c)) % 8);
        ok &= sums[c] == expected;
      }
    }
    return ok;
  });
  if (rounds.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    FAIL_CHECK("parallel_for stress rounds did not finish within 60 s (a "
               "lost wake-up or a deadlock)");
    std::_Exit(1);
  }
  CHECK(rounds.get());
}

TEST_CASE("thread count defaults to the CPUs and clamps", "[runtime][pool]") {
  attnrt_set_num_threads(3);
  CHECK(attnrt_get_num_threads() == 3);
  attnrt_set_num_threads(0);
  CHECK(attnrt_get_num_threads() == 1);
  attnrt_set_num_threads(-5);
  CHECK(attnrt_get_num_threads() == 1);
  attnrt_set_num_threads(1 << 20);
  CHECK(attnrt_get_num_threads() == 1024);
  attnrt_set_num_threads(int32_t(std::thread::hardware_concurrency()));
  CHECK(attnrt_get_num_threads() >= 1);
}

namespace {
/// Each of `threads` cooperative threads writes its slot of phase p, waits,
/// then checks that every thread wrote phase p (none lags behind, none ran
/// ahead to phase p + 1), `phases` times: a broken barrier shows as a stale
/// slot.
struct PhaseCheck {
  int64_t threads, phases;
  std::vector<std::atomic<int64_t>> slots;
  std::atomic<int64_t> stale{0};
  PhaseCheck(int64_t threads, int64_t phases)
      : threads(threads), phases(phases), slots(size_t(threads)) {}
  static void run(int64_t begin, int64_t, void *ctx) {
    auto &c = *static_cast<PhaseCheck *>(ctx);
    for (int64_t p = 1; p <= c.phases; ++p) {
      c.slots[size_t(begin)] = p;
      attnrt_cooperative_barrier();
      for (int64_t t = 0; t < c.threads; ++t)
        if (c.slots[size_t(t)] != p)
          ++c.stale;
      attnrt_cooperative_barrier();
    }
  }
};
} // namespace

TEST_CASE("cooperative_for runs every thread at once behind one barrier",
          "[runtime][pool]") {
  for (int64_t threads : {1, 2, 33, 64, 1024}) {
    PhaseCheck check(threads, 50);
    attnrt_cooperative_for(threads, PhaseCheck::run, &check);
    CHECK(check.stale == 0);
    for (auto &slot : check.slots)
      CHECK(slot == 50);
  }
  // Nothing to run; a barrier outside a cooperative loop returns at once.
  attnrt_cooperative_for(0, PhaseCheck::run, nullptr);
  attnrt_cooperative_barrier();
}
