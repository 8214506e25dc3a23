// Bulk conversion benchmarks: fp32 <-> fp16 and fp32 <-> bf16 GB/s in L1, in L2 and streamed
// from DRAM, next to a memcpy moving the same number of bytes.
//
//   BM_convert/f32_f16/<backend>/<elements>   (also f16_f32, f32_bf16, bf16_f32)
//   BM_convert/u8_copy/libc/<elements>        memcpy of 3 bytes per element each way: the same
//                                             6 bytes per element a conversion reads + writes
//
// "bytes" is what the conversion reads + writes (6 per element); "%peak" is over the probe's
// memcpy bandwidth (peak_kind::copy). Sizes: 4096 elements (24 KiB: L1), 65536 (384 KiB: L2),
// 1048576 (6 MiB per call, rotated through out_of_cache_bytes() of distinct buffers so every
// call streams from DRAM: the case a model's weight or activation conversion is in).
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "bench_common.hpp"
#include "lightq/core/cpu_features.hpp"
#include "lightq/core/half.hpp"
#include "lightq/quant/convert.hpp"

namespace {

using lightq::bench::peak_kind;
using lightq::index_t;

// Rotating input and output copies for one size; kept alive across Google Benchmark's calls.
template <class From, class To>
struct conversion_buffers {
  lightq::bench::rotating_buffers<From> in;
  lightq::bench::rotating_buffers<To> out;
};

std::size_t copies_for(std::size_t bytes_per_pair, bool out_of_cache) {
  return out_of_cache ? lightq::bench::rotation_count(bytes_per_pair, lightq::bench::out_of_cache_bytes()) : 1;
}

template <class From, class To>
conversion_buffers<From, To> make_buffers(std::size_t n, bool out_of_cache) {
  const std::size_t copies = copies_for(n * (sizeof(From) + sizeof(To)), out_of_cache);
  conversion_buffers<From, To> b{lightq::bench::rotating_buffers<From>(n, copies),
                                 lightq::bench::rotating_buffers<To>(n, copies)};
  b.in.fill([](From* p, std::size_t count) {
    // Gaussian-ish activations in [-8, 8] (finite, the common case; no effect on SIMD speed).
    std::vector<float> f(count);
    lightq::bench::fill_random(f.data(), count, -8.0, 8.0);
    for (std::size_t i = 0; i < count; ++i) {
      if constexpr (std::is_same_v<From, float>)
        p[i] = f[i];
      else
        p[i] = From(f[i]);
    }
  });
  // First-touch every output page outside the timed loop.
  for (std::size_t c = 0; c < copies; ++c) std::memset(static_cast<void*>(b.out[c]), 0, n * sizeof(To));
  return b;
}

template <class From, class To, void (*Convert)(const From*, To*, index_t)>
void conversion_benchmark(benchmark::State& state, const std::string& key, std::size_t n, bool out_of_cache) {
  auto& b = lightq::bench::cached_fixture<conversion_buffers<From, To>>(key, [&] { return make_buffers<From, To>(n, out_of_cache); });
  std::size_t c = 0;
  for (auto _ : state) {
    Convert(b.in[c], b.out[c], static_cast<index_t>(n));
    benchmark::ClobberMemory();
    c = c + 1 == b.in.count() ? 0 : c + 1;
  }
  lightq::bench::report(state, 0, static_cast<double>(n * (sizeof(From) + sizeof(To))), peak_kind::copy);
  state.counters["copies"] = static_cast<double>(b.in.count());
}

conversion_buffers<std::uint8_t, std::uint8_t> make_byte_buffers(std::size_t bytes, bool out_of_cache) {
  const std::size_t copies = copies_for(2 * bytes, out_of_cache);
  conversion_buffers<std::uint8_t, std::uint8_t> b{lightq::bench::rotating_buffers<std::uint8_t>(bytes, copies),
                                                   lightq::bench::rotating_buffers<std::uint8_t>(bytes, copies)};
  for (std::size_t c = 0; c < copies; ++c) {
    std::memset(b.in[c], 1, bytes);
    std::memset(b.out[c], 0, bytes);
  }
  return b;
}

void memcpy_benchmark(benchmark::State& state, const std::string& key, std::size_t n, bool out_of_cache) {
  // Same bytes as a conversion: 3 bytes per element read, 3 written.
  auto& b = lightq::bench::cached_fixture<conversion_buffers<std::uint8_t, std::uint8_t>>(
      key, [&] { return make_byte_buffers(3 * n, out_of_cache); });
  std::size_t c = 0;
  for (auto _ : state) {
    std::memcpy(b.out[c], b.in[c], 3 * n);
    benchmark::ClobberMemory();
    c = c + 1 == b.in.count() ? 0 : c + 1;
  }
  lightq::bench::report(state, 0, 6.0 * static_cast<double>(n), peak_kind::copy);
  state.counters["copies"] = static_cast<double>(b.in.count());
}

using arch = lightq::default_arch;


void f32_to_f16(const float* in, lightq::half* out, index_t n) { lightq::convert_f32_to_f16<arch>(in, out, n); }
void f16_to_f32(const lightq::half* in, float* out, index_t n) { lightq::convert_f16_to_f32<arch>(in, out, n); }
void f32_to_bf16(const float* in, lightq::bfloat16* out, index_t n) { lightq::convert_f32_to_bf16<arch>(in, out, n); }
void bf16_to_f32(const lightq::bfloat16* in, float* out, index_t n) { lightq::convert_bf16_to_f32<arch>(in, out, n); }

const bool registered = [] {
  const std::string impl = lightq::bench::backend_name();
  struct size_case {
    std::size_t elements;
    bool out_of_cache;
  };
  const size_case sizes[] = {{4096, false}, {65536, false}, {std::size_t(1) << 20, true}};
  const bool with_memcpy = std::strcmp(impl.c_str(), lightq::best_cpu_arch_name()) == 0;  // libc: once per run
  for (const size_case& s : sizes) {
    const auto n = s.elements;
    const bool ooc = s.out_of_cache;
    const std::initializer_list<long long> shape = {static_cast<long long>(n)};
    auto add = [&](const char* dtypes, auto fn) {
      const std::string name = lightq::bench::bench_name("convert", dtypes, impl, shape);
      benchmark::RegisterBenchmark(name.c_str(), [name, n, ooc, fn](benchmark::State& st) { fn(st, name, n, ooc); });
    };
    add("f32_f16", conversion_benchmark<float, lightq::half, f32_to_f16>);
    add("f16_f32", conversion_benchmark<lightq::half, float, f16_to_f32>);
    add("f32_bf16", conversion_benchmark<float, lightq::bfloat16, f32_to_bf16>);
    add("bf16_f32", conversion_benchmark<lightq::bfloat16, float, bf16_to_f32>);
    if (with_memcpy) {
      const std::string name = lightq::bench::bench_name("convert", "u8_copy", "libc", shape);
      benchmark::RegisterBenchmark(name.c_str(), [name, n, ooc](benchmark::State& st) { memcpy_benchmark(st, name, n, ooc); });
    }
  }
  return true;
}();

}  // namespace
