// lightq::context: thread count (or a caller's parallel-for), work partitioning and a reusable
// scratch arena for ops. No global pool: threads exist only while an op runs with a context.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "lightq/core/aligned.hpp"
#include "lightq/core/error.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Execution context of an op: how many tasks may run at once, how to run them, and scratch
/// memory that is sized once and reused by every op run with this context.
///
/// - `context{}` / `context{1}`: single-threaded, the op runs on the calling thread.
/// - `context{n}`: the op starts n - 1 std::threads for its duration and joins them before it
///   returns (no thread outlives the call; nothing is global).
/// - `context{n, parallel_for}`: the op calls `parallel_for(n, task)` and expects `task(i)` to
///   be run once for every i in [0, n), possibly concurrently, before parallel_for returns —
///   plug in OpenMP, TBB or an application pool here.
///
/// A context is not thread-safe: one op at a time per context.
class context {
 public:
  using task_fn = std::function<void(index_t task)>;
  using parallel_for_fn = std::function<void(index_t tasks, const task_fn& task)>;

  /// `threads` tasks at most run at once (>= 1).
  explicit context(index_t threads = 1) : threads_(threads) {
    check(threads >= 1, "context", "threads = ", threads, " must be >= 1");
  }
  /// Runs tasks through the caller's `parallel_for`, with at most `threads` tasks per op.
  context(index_t threads, parallel_for_fn parallel_for) : threads_(threads), parallel_for_(std::move(parallel_for)) {
    check(threads >= 1, "context", "threads = ", threads, " must be >= 1");
    check(static_cast<bool>(parallel_for_), "context", "parallel_for must not be empty");
  }

  index_t threads() const noexcept { return threads_; }

  /// Runs task(i) for i in [0, tasks); tasks <= threads() run concurrently when threads() > 1.
  /// The first exception thrown by a task is rethrown here after every task finished.
  void run(index_t tasks, const task_fn& task) {
    if (tasks <= 0) return;
    if (tasks == 1) {
      task(0);
      return;
    }
    if (parallel_for_) {
      parallel_for_(tasks, task);
      return;
    }
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(tasks));
    auto guarded = [&](index_t i) {
      try {
        task(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    };
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(tasks - 1));
    for (index_t i = 1; i < tasks; ++i) workers.emplace_back(guarded, i);
    guarded(0);
    for (auto& w : workers) w.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  /// Scratch memory for `slot` (one slot per concurrent task plus shared ones), at least `bytes`
  /// long, 64-byte aligned. Grows only; contents are not kept across growth. Call before
  /// run() (slots are created here, not while tasks run).
  void* scratch(std::size_t slot, std::size_t bytes) {
    if (slot >= slots_.size()) slots_.resize(slot + 1);
    auto& buffer = slots_[slot];
    if (buffer.size() < bytes) buffer = aligned_buffer<unsigned char>(bytes + bytes / 4);
    return buffer.data();
  }
  /// Typed scratch of `count` elements.
  template <class T>
  T* scratch_as(std::size_t slot, std::size_t count) {
    return static_cast<T*>(scratch(slot, count * sizeof(T)));
  }
  /// Bytes of scratch currently held.
  std::size_t scratch_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& s : slots_) total += s.size();
    return total;
  }

 private:
  index_t threads_ = 1;
  parallel_for_fn parallel_for_;
  std::vector<aligned_buffer<unsigned char>> slots_;
};

/// Splits [0, count) into `parts` contiguous ranges as evenly as possible; returns range `part`.
inline std::pair<index_t, index_t> split_range(index_t count, index_t parts, index_t part) noexcept {
  const index_t base = count / parts;
  const index_t extra = count % parts;
  const index_t begin = part * base + std::min(part, extra);
  return {begin, begin + base + (part < extra ? 1 : 0)};
}

}  // namespace lightq
