// lightq::context: thread count (or a caller's parallel-for), work partitioning and a reusable
// scratch arena for ops. No global pool: a context's worker threads belong to that context.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

#include "lightq/core/aligned.hpp"
#include "lightq/core/error.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// A spin-or-sleep hint for busy waits.
inline void cpu_relax() noexcept {
#if defined(__SSE2__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/// The worker threads of one context: `workers` threads started by the constructor, parked
/// between ops, joined by the destructor. run() hands them one op's tasks; the calling thread
/// works too. Each task index runs exactly once; which thread runs it does not matter, since
/// a task's result depends on its index only.
///
/// Hand-off: a generation counter under a mutex (workers sleep on a condition variable). A
/// worker that finished an op spins on the counter for a short while (`spin_ns`) before it
/// sleeps, so back-to-back ops (layer after layer, token after token) do not pay a wake-up.
class worker_pool {
 public:
  using task_fn = std::function<void(index_t task, index_t slot)>;
  static constexpr long long spin_ns = 50000;  // 50 us

  explicit worker_pool(index_t workers) {
    threads_.reserve(static_cast<std::size_t>(workers));
    for (index_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i + 1); });
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }

  /// Runs task(i, slot) for every i in [0, tasks) on the workers and the calling thread (slot 0;
  /// worker w is slot w + 1), each thread claiming the next index when it is done with one;
  /// returns when all finished. The first exception a task threw is rethrown.
  void run(index_t tasks, const task_fn& task) {
    task_ = &task;
    tasks_ = tasks;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    busy_.store(static_cast<index_t>(threads_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    claim_tasks(0);
    // Wait until every worker left this op (not only until the tasks ran): the next run()
    // resets the shared state.
    for (int spin = 0; busy_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 4096) {
        cpu_relax();
      } else {
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return busy_.load(std::memory_order_acquire) == 0; });
      }
    }
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void claim_tasks(index_t slot) noexcept {
    for (;;) {
      const index_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= tasks_) return;
      try {
        (*task_)(i, slot);
      } catch (...) {
        if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
      }
    }
  }

  void work(index_t slot) noexcept {
    std::uint64_t seen = 0;
    for (;;) {
      // Spin a little on the generation counter, then sleep.
      std::uint64_t now = generation_.load(std::memory_order_acquire);
      if (now == seen) {
        const auto start = std::chrono::steady_clock::now();
        for (int spin = 0; now == seen; ++spin) {
          cpu_relax();
          now = generation_.load(std::memory_order_acquire);
          if ((spin & 255) == 255 &&
              std::chrono::steady_clock::now() - start > std::chrono::nanoseconds(spin_ns))
            break;
        }
        if (now == seen) {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          now = generation_.load(std::memory_order_acquire);
        }
      }
      seen = now;
      if (stop_.load(std::memory_order_relaxed)) return;
      claim_tasks(slot);
      if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};  // set before the last generation bump
  const task_fn* task_ = nullptr;
  index_t tasks_ = 0;
  std::atomic<index_t> next_{0};
  std::atomic<index_t> busy_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace detail

/// Execution context of an op: how many tasks may run at once, how to run them, and scratch
/// memory that is sized once and reused by every op run with this context.
///
/// - `context{}` / `context{1}`: single-threaded, the op runs on the calling thread.
/// - `context{n}`: n - 1 worker threads of this context (started by its first op that splits
///   its work, parked between ops, joined when the context is destroyed) and the calling thread
///   run the op's tasks. Nothing is global: two contexts never share threads, and no thread
///   outlives its context. A parked worker spins for up to 50 us after an op before it sleeps,
///   so back-to-back ops do not pay a wake-up.
/// - `context{n, parallel_for}`: the op calls `parallel_for(n, task)` and expects `task(i)` to
///   be run once for every i in [0, n), possibly concurrently, before parallel_for returns —
///   plug in OpenMP, TBB or an application pool here.
///
/// A context is not thread-safe: one op at a time per context.
class context {
 public:
  using task_fn = std::function<void(index_t task)>;
  using slot_task_fn = std::function<void(index_t task, index_t slot)>;
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
    run_slots(tasks, [&](index_t i, index_t) { task(i); });
  }

  /// Runs task(i, slot) for i in [0, tasks), any number of tasks, at most threads() at once.
  /// `slot` < min(tasks, threads()) names the thread running the task: two tasks running at the
  /// same time never share a slot, so per-slot scratch needs no locking. With the context's own
  /// workers each thread claims the next task when it finished one (uneven tasks, or cores
  /// slowed by other work, balance out); with a caller's parallel_for, slot s runs tasks s,
  /// s + threads(), ... in turn. The first exception thrown by a task is rethrown here after
  /// every task finished.
  void run_slots(index_t tasks, const slot_task_fn& task) {
    if (tasks <= 0) return;
    if (tasks == 1 || threads_ == 1) {
      for (index_t i = 0; i < tasks; ++i) task(i, 0);
      return;
    }
    if (parallel_for_) {
      const index_t slots = std::min(tasks, threads_);
      parallel_for_(slots, [&](index_t slot) {
        for (index_t i = slot; i < tasks; i += slots) task(i, slot);
      });
      return;
    }
    if (!pool_) pool_ = std::make_unique<detail::worker_pool>(threads_ - 1);
    pool_->run(tasks, task);
  }

  /// True when run_slots balances tasks dynamically (the context's own workers): then splitting
  /// an op into more tasks than threads pays off.
  bool balances_tasks() const noexcept { return threads_ > 1 && !parallel_for_; }

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
  std::unique_ptr<detail::worker_pool> pool_;  // started by the first op with tasks > 1
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
