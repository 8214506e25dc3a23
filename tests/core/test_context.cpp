// lightq::context: every task runs exactly once, on the context's own worker threads, across
// many back-to-back ops; exceptions come back to the caller; the pool survives a move.
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lightq/parallel/context.hpp"
#include "test_common.hpp"

using lightq::index_t;

TEST_CASE("context: each task index runs exactly once, op after op") {
  for (index_t threads : {1, 2, 3, 4, 7}) {
    lightq::context ctx(threads);
    for (int op = 0; op < 200; ++op) {
      const index_t tasks = 1 + (op * 5 + threads) % 9;  // fewer, as many and more tasks than threads
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
      for (auto& h : hits) h.store(0);
      ctx.run(tasks, [&](index_t i) { hits[static_cast<std::size_t>(i)].fetch_add(1); });
      for (index_t i = 0; i < tasks; ++i) {
        CAPTURE(threads);
        CAPTURE(op);
        CAPTURE(i);
        REQUIRE(hits[static_cast<std::size_t>(i)].load() == 1);
      }
    }
  }
}

TEST_CASE("context: the tasks run concurrently on threads the context keeps") {
  lightq::context ctx(3);
  std::set<std::thread::id> first_ids;
  for (int op = 0; op < 20; ++op) {
    // Every task waits until all three started: this finishes only if three threads run at once.
    std::atomic<int> arrived{0};
    std::mutex m;
    std::set<std::thread::id> ids;
    ctx.run(3, [&](index_t) {
      arrived.fetch_add(1);
      while (arrived.load() < 3) std::this_thread::yield();
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
    REQUIRE(ids.size() == 3);
    CHECK(ids.count(std::this_thread::get_id()) == 1);  // the caller works too
    if (op == 0) first_ids = ids;
    CHECK(ids == first_ids);  // the same workers op after op: no thread started per op
  }
}

TEST_CASE("context: an exception in a task reaches the caller, and the context stays usable") {
  lightq::context ctx(4);
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(ctx.run(4,
                               [&](index_t i) {
                                 ran.fetch_add(1);
                                 if (i == 2) throw std::runtime_error("task 2 failed");
                               }),
                       "task 2 failed", std::runtime_error);
  CHECK(ran.load() == 4);  // the other tasks still ran
  std::atomic<int> sum{0};
  ctx.run(4, [&](index_t i) { sum.fetch_add(static_cast<int>(i)); });
  CHECK(sum.load() == 0 + 1 + 2 + 3);
}

TEST_CASE("context: a moved context keeps its workers; destruction joins them") {
  lightq::context a(2);
  std::atomic<int> n{0};
  a.run(2, [&](index_t) { n.fetch_add(1); });
  lightq::context b(std::move(a));
  b.run(2, [&](index_t) { n.fetch_add(1); });
  CHECK(n.load() == 4);
  CHECK(b.threads() == 2);
  // Many short-lived contexts: each one joins its threads when it goes out of scope.
  for (int i = 0; i < 50; ++i) {
    lightq::context c(3);
    c.run(3, [&](index_t) { n.fetch_add(1); });
  }
  CHECK(n.load() == 4 + 150);
}

TEST_CASE("context: a caller's parallel_for replaces the workers") {
  int calls = 0;
  lightq::context ctx(4, [&](index_t tasks, const lightq::context::task_fn& task) {
    ++calls;
    for (index_t i = tasks; i-- > 0;) task(i);  // any order
  });
  std::vector<int> hits(5, 0);
  ctx.run(5, [&](index_t i) { ++hits[static_cast<std::size_t>(i)]; });
  CHECK(calls == 1);
  for (int h : hits) CHECK(h == 1);
  CHECK_THROWS_AS(lightq::context(0), lightq::error);
}
