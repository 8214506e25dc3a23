// Memory benchmarks: memcpy and read-only streaming GB/s on in-cache and out-of-cache buffers.
//
// They prove the harness end to end and give the roofline every memory-bound kernel is read
// against: "%peak" of BM_read is over the probe's DRAM read bandwidth, of BM_memcpy over its
// copy bandwidth (bytes read + bytes written, as the probe counts them).
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "bench_common.hpp"
#include "lightq/core/cpu_features.hpp"

namespace {

using lightq::bench::peak_kind;

// Buffers live for the process: Google Benchmark calls each function several times (to size
// the iteration count, then per repetition), and page-faulting 1 GiB each time would dominate.
unsigned char* buffer_of(std::size_t bytes, int slot) {
  static std::map<std::pair<std::size_t, int>, lightq::aligned_buffer<unsigned char>> buffers;
  auto& b = buffers[{bytes, slot}];
  if (b.size() != bytes) {
    b = lightq::aligned_buffer<unsigned char>(bytes);
    std::memset(b.data(), 1 + slot, bytes);
  }
  return b.data();
}

void read_benchmark(benchmark::State& state, std::size_t bytes) {
  const unsigned char* p = buffer_of(bytes, 0);
  for (auto _ : state) {
    std::uint64_t r = lightq::bench::read_stream(p, bytes);
    benchmark::DoNotOptimize(r);
  }
  lightq::bench::report(state, 0, static_cast<double>(bytes), peak_kind::bandwidth);
}

void memcpy_benchmark(benchmark::State& state, std::size_t bytes) {
  const unsigned char* src = buffer_of(bytes, 0);
  unsigned char* dst = buffer_of(bytes, 1);
  for (auto _ : state) {
    std::memcpy(dst, src, bytes);
    benchmark::ClobberMemory();
  }
  lightq::bench::report(state, 0, 2.0 * static_cast<double>(bytes), peak_kind::copy);
}

// In L1, in L2, in a 32 MiB L3 (the reference machine's), and far beyond this machine's LLC.
const bool registered = [] {
  const std::size_t big = lightq::bench::out_of_cache_bytes();
  const std::size_t read_sizes[] = {std::size_t(16) << 10, std::size_t(512) << 10, std::size_t(16) << 20, big};
  const std::size_t copy_sizes[] = {std::size_t(8) << 10, std::size_t(256) << 10, std::size_t(8) << 20, big / 2};
  const std::string impl = lightq::bench::backend_name();
  for (std::size_t bytes : read_sizes) {
    benchmark::RegisterBenchmark(lightq::bench::bench_name("read", "u8", impl, {static_cast<long long>(bytes)}).c_str(),
                                 [bytes](benchmark::State& s) { read_benchmark(s, bytes); });
  }
  // memcpy is libc's whatever the flags: measure it once, in the widest backend's executable.
  if (std::strcmp(lightq::bench::backend_name(), lightq::best_cpu_arch_name()) != 0) return true;
  for (std::size_t bytes : copy_sizes) {
    benchmark::RegisterBenchmark(lightq::bench::bench_name("memcpy", "u8", "libc", {static_cast<long long>(bytes)}).c_str(),
                                 [bytes](benchmark::State& s) { memcpy_benchmark(s, bytes); });
  }
  return true;
}();

}  // namespace
