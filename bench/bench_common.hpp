// Shared helpers for lightq benchmarks: measured peaks, counters, names, rotating buffers.
//
// Every benchmark executable (lightq_bench_<module>_<backend>) links bench_main.cpp, which
// measures this machine's peaks for the executable's backend before the benchmarks run.
// A benchmark reports through `report()`, which sets the counters the report tool reads:
//
//   GOP/s   ops per second / 1e9 (2 ops per multiply-add; flops for float kernels)
//   %peak   the rate as a percentage of the chosen measured peak
//   bytes   bytes moved per iteration (read + written, by the kernel, not by the cache)
//   GB/s    bytes per second / 1e9
//
// Names follow BM_<op>/<dtypes>/<impl>/<shape...>, impl being a lightq backend name
// (`lightq::default_arch::name`) or a peer (`onednn`, `openblas`, `xnnpack`); see bench_name().
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "lightq/core/aligned.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/cpu_features.hpp"
#include "peak.hpp"

namespace lightq::bench {

/// Which measured peak `report()` divides by.
enum class peak_kind {
  fp32,       ///< fp32_gflops (FMA peak of this backend)
  int8,       ///< int8_gops (vpdpbusd / vpmaddubsw sequence / sdot / smull... of this backend)
  bandwidth,  ///< dram_read_gbs: "%peak" is the byte rate over the one-core DRAM read bandwidth
  int16,      ///< int16_madd_gops (avx2 exact int8-via-int16 sequence; falls back to int8_gops)
  copy,       ///< copy_gbs: the byte rate over memcpy bandwidth (read + write), for conversions
};

/// Sets "GOP/s", "%peak", "bytes" and "GB/s" on `state` (see the top of this file). Pass 0 for
/// ops of a pure data-movement benchmark (then no "GOP/s"); `kind` chooses the peak "%peak" is
/// taken of. Rates use Google Benchmark's time base: CPU time unless the benchmark calls
/// UseRealTime() (the probe also times with thread CPU time, so both sides agree).
void report(benchmark::State& state, double ops_per_iteration, double bytes_per_iteration, peak_kind kind);

/// Sets "model_bytes": the bytes of weights (or KV cache, ...) a model stores for this layer,
/// which the report plots next to the time (fp32 vs fp16 vs int8).
void set_model_bytes(benchmark::State& state, double bytes);

/// Copies of a buffer of `bytes` needed so that rotating through them streams >= `target`
/// bytes (default 3 x 32 MiB, the L3 of the reference machine). At least 1.
std::size_t rotation_count(std::size_t bytes, std::size_t target = std::size_t(96) << 20);

/// A working-set size that defeats this machine's caches: 2 x the LLC the OS reports, at least
/// 96 MiB and at most 512 MiB (VMs may report the host's whole LLC: 480 MiB here, where reads
/// already run at DRAM speed from ~96 MiB up). Use `rotation_count(bytes, out_of_cache_bytes())`.
std::size_t out_of_cache_bytes();

/// "BM_<op>/<dtypes>/<impl>/<d0>/<d1>/..."
std::string bench_name(const std::string& op, const std::string& dtypes, const std::string& impl,
                       std::initializer_list<long long> shape);

/// The lightq backend this executable was built for (the `impl` of lightq's own benchmarks).
inline const char* backend_name() { return lightq::default_arch::name; }

/// Whether this executable registers the peers (oneDNN, OpenBLAS, XNNPACK): their results do not
/// depend on lightq's flags, so only the executable of the best backend this CPU has runs them,
/// unless LIGHTQ_BENCH_PEERS says otherwise (1: every executable, 0: none).
inline bool peers_enabled() {
  if (const char* env = std::getenv("LIGHTQ_BENCH_PEERS")) return std::strcmp(env, "0") != 0;
  return std::strcmp(backend_name(), lightq::best_cpu_arch_name()) == 0;
}

/// Fills `n` values of T with a fixed-seed uniform distribution over [lo, hi].
template <class T>
void fill_random(T* data, std::size_t n, double lo, double hi, std::uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<T>(dist(rng));
}

/// `count` copies of an array of `elements` T (64-byte aligned), to cycle through so a working
/// set larger than the caches is really streamed from memory. `next()` returns the next copy.
template <class T>
class rotating_buffers {
 public:
  rotating_buffers(std::size_t elements, std::size_t count) : elements_(elements) {
    if (count == 0) count = 1;
    buffers_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) buffers_.emplace_back(elements);
  }
  /// As many copies as rotation_count(elements * sizeof(T), target) asks for.
  static rotating_buffers for_target(std::size_t elements, std::size_t target = std::size_t(96) << 20) {
    return rotating_buffers(elements, rotation_count(elements * sizeof(T), target));
  }
  std::size_t count() const noexcept { return buffers_.size(); }
  std::size_t elements() const noexcept { return elements_; }
  T* operator[](std::size_t i) noexcept { return buffers_[i].data(); }
  const T* operator[](std::size_t i) const noexcept { return buffers_[i].data(); }
  T* next() noexcept {
    T* p = buffers_[index_].data();
    index_ = index_ + 1 == buffers_.size() ? 0 : index_ + 1;
    return p;
  }
  /// Fills copy 0 with `fill(T*, elements)` and copies it to the others.
  template <class F>
  void fill(F&& f) {
    f(buffers_[0].data(), elements_);
    for (std::size_t i = 1; i < buffers_.size(); ++i)
      std::copy(buffers_[0].begin(), buffers_[0].end(), buffers_[i].begin());
  }

 private:
  std::size_t elements_;
  std::size_t index_ = 0;
  std::vector<lightq::aligned_buffer<T>> buffers_;
};

/// Keeps one expensive set-up (large buffers, packed weights, peer operators) alive across the
/// several calls Google Benchmark makes of the same benchmark; asking for another key frees the
/// previous set-up first, so at most one lives at a time. `make()` returns a T by value.
template <class T, class Make>
T& cached_fixture(const std::string& key, Make&& make) {
  static std::string current_key;
  static std::shared_ptr<void> current;
  if (!current || current_key != key) {
    current.reset();  // free the old one before building the new one
    current = std::make_shared<T>(make());
    current_key = key;
  }
  return *static_cast<T*>(current.get());
}

}  // namespace lightq::bench
