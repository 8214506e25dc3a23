// Counters, names and buffer rotation shared by every lightq benchmark (see bench_common.hpp).
#include "bench_common.hpp"

#include <algorithm>
#include <string>

namespace lightq::bench {

void report(benchmark::State& state, double ops_per_iteration, double bytes_per_iteration, peak_kind kind) {
  using benchmark::Counter;
  const machine_peaks& p = peaks();
  // Rates: Google Benchmark divides by the time base (CPU time unless UseRealTime()) and
  // multiplies by the iteration count (kIsIterationInvariantRate).
  if (ops_per_iteration > 0)  // pure data movement has no ops to count
    state.counters["GOP/s"] = Counter(ops_per_iteration * 1e-9, Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = Counter(bytes_per_iteration * 1e-9, Counter::kIsIterationInvariantRate);
  state.counters["bytes"] = Counter(bytes_per_iteration);
  double peak_per_second = 0;  // of ops, or of bytes for the bandwidth kinds
  double numerator = ops_per_iteration;
  switch (kind) {
    case peak_kind::fp32:
      peak_per_second = p.fp32_gflops * 1e9;
      break;
    case peak_kind::int8:
      peak_per_second = p.int8_gops * 1e9;
      break;
    case peak_kind::int16:
      peak_per_second = (p.int16_madd_gops > 0 ? p.int16_madd_gops : p.int8_gops) * 1e9;
      break;
    case peak_kind::bandwidth:
      peak_per_second = p.dram_read_gbs * 1e9;
      numerator = bytes_per_iteration;
      break;
    case peak_kind::copy:
      peak_per_second = p.copy_gbs * 1e9;
      numerator = bytes_per_iteration;
      break;
  }
  if (peak_per_second > 0)
    state.counters["%peak"] = Counter(100.0 * numerator / peak_per_second, Counter::kIsIterationInvariantRate);
}

void set_model_bytes(benchmark::State& state, double bytes) {
  state.counters["model_bytes"] = benchmark::Counter(bytes);
}

std::size_t rotation_count(std::size_t bytes, std::size_t target) {
  if (bytes == 0) return 1;
  return std::max<std::size_t>(1, (target + bytes - 1) / bytes);
}

std::size_t out_of_cache_bytes() {
  const std::size_t floor = std::size_t(96) << 20;
  const std::size_t cap = std::size_t(512) << 20;
  return std::min(cap, std::max(floor, 2 * llc_size_bytes()));
}

std::string bench_name(const std::string& op, const std::string& dtypes, const std::string& impl,
                       std::initializer_list<long long> shape) {
  std::string name = "BM_" + op + "/" + dtypes + "/" + impl;
  for (long long d : shape) name += "/" + std::to_string(d);
  return name;
}

}  // namespace lightq::bench
