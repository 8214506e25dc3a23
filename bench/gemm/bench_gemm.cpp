// lightq GEMM benchmarks on the issue-4 shapes: fp32, fp16 weights, qd8 and qs8 x qc8w, one
// backend per executable (BM_gemm/<dtypes>/<backend>/M/N/K), next to the peers of
// bench_gemm_peers.cpp. Memory-bound shapes rotate weight copies past the LLC.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "gemm/gemm_shapes.hpp"
#include "lightq/gemm/gemm.hpp"

namespace {

using namespace lightq::bench;
using lightq::index_t;
using backend = lightq::default_arch;

/// Threads of lightq's GEMMs here (LIGHTQ_BENCH_THREADS, default 1).
index_t bench_threads() {
  const char* env = std::getenv("LIGHTQ_BENCH_THREADS");
  return env ? std::max<index_t>(1, std::atol(env)) : 1;
}

template <class X, class PackedW, class Y>
struct fixture {
  lightq::aligned_buffer<X> x;
  std::vector<PackedW> w;
  lightq::aligned_buffer<Y> y;
  std::vector<std::int32_t> bias_i32;
  std::vector<float> bias_f32;
};

template <class X>
lightq::aligned_buffer<X> random_matrix(std::size_t n, double lo, double hi, std::uint64_t seed) {
  lightq::aligned_buffer<X> b(n);
  fill_random(b.data(), n, lo, hi, seed);
  return b;
}

template <class X, class PackedW, class Y, class Pack>
fixture<X, PackedW, Y> make_fixture(const gemm_shape& s, double x_lo, double x_hi, Pack&& pack, std::size_t weight_bytes) {
  fixture<X, PackedW, Y> f;
  f.x = random_matrix<X>(static_cast<std::size_t>(s.m * s.k), x_lo, x_hi, 1);
  f.w.push_back(pack());
  const std::size_t copies = gemm_weight_copies(s, weight_bytes);
  for (std::size_t i = 1; i < copies; ++i) f.w.push_back(f.w[0]);
  f.y = lightq::aligned_buffer<Y>(static_cast<std::size_t>(s.m * s.n));
  std::memset(f.y.data(), 0, f.y.size() * sizeof(Y));
  f.bias_i32.assign(static_cast<std::size_t>(s.n), 100);
  f.bias_f32.assign(static_cast<std::size_t>(s.n), 0.25f);
  return f;
}

void counters(benchmark::State& state, const gemm_shape& s, double x_bytes, double packed_weight_bytes, double y_bytes,
              double model_bytes, bool integer) {
  const double m = double(s.m), n = double(s.n), k = double(s.k);
  report(state, 2 * m * n * k, m * k * x_bytes + packed_weight_bytes + m * n * y_bytes, gemm_peak_kind(s, integer));
  set_model_bytes(state, model_bytes);
  state.counters["threads"] = double(bench_threads());
}

template <class F>
void register_gemm(const std::string& name, F&& fn) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(fn))->Unit(benchmark::kMicrosecond);
}

// Float weights (f32 or f16): W in [-1, 1].
template <bool Half>
void register_float(const gemm_shape& s) {
  const std::string name = gemm_name(Half ? "f16w_f32" : "f32", backend_name(), s);
  register_gemm(name, [s, name](benchmark::State& state) {
    using W = std::conditional_t<Half, lightq::gemm_dtype::f16, lightq::gemm_dtype::f32>;
    using packed = lightq::packed_weights<W, backend>;
    const std::size_t nk = static_cast<std::size_t>(s.n * s.k);
    auto& f = cached_fixture<fixture<float, packed, float>>(name, [&] {
      return make_fixture<float, packed, float>(
          s, -1, 1,
          [&] {
            auto w = random_matrix<float>(nk, -1, 1, 2);
            const lightq::matrix_view<const float> wv(w.data(), {s.n, s.k});
            if constexpr (Half) return lightq::pack_weights_f16<backend>(wv);
            else return lightq::pack_weights<backend>(wv);
          },
          nk * (Half ? 2 : 4));
    });
    lightq::context ctx(bench_threads());
    const lightq::matrix_view<const float> x(f.x.data(), {s.m, s.k});
    const lightq::matrix_view<float> y(f.y.data(), {s.m, s.n});
    std::size_t i = 0;
    for (auto _ : state) {
      lightq::linear(x, f.w[i], {}, y, {}, &ctx);
      i = i + 1 == f.w.size() ? 0 : i + 1;
      benchmark::DoNotOptimize(f.y.data());
      benchmark::ClobberMemory();
    }
    counters(state, s, 4, double(f.w[0].weight_bytes()), 4, double(nk) * (Half ? 2 : 4), false);
  });
}

// int8 weights: qs8 activations -> int8 (requantized, bias), or qd8 (fp32 in and out).
template <bool Dynamic>
void register_q8(const gemm_shape& s) {
  const std::string name = gemm_name(Dynamic ? "qd8_qc8w" : "qs8_qc8w", backend_name(), s);
  register_gemm(name, [s, name](benchmark::State& state) {
    using packed = lightq::packed_weights<lightq::qc8w, backend>;
    using X = std::conditional_t<Dynamic, float, std::int8_t>;
    using Y = std::conditional_t<Dynamic, float, std::int8_t>;
    const std::size_t nk = static_cast<std::size_t>(s.n * s.k);
    auto& f = cached_fixture<fixture<X, packed, Y>>(name, [&] {
      return make_fixture<X, packed, Y>(
          s, Dynamic ? -1 : -128, Dynamic ? 1 : 127,
          [&] {
            auto w = random_matrix<std::int8_t>(nk, -127, 127, 2);
            std::vector<float> scales(static_cast<std::size_t>(s.n), 0.01f);
            return lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(w.data(), {s.n, s.k}),
                                                 lightq::vector_view<const float>(scales.data(), {s.n}));
          },
          nk);
    });
    lightq::context ctx(bench_threads());
    const lightq::matrix_view<const X> x(f.x.data(), {s.m, s.k});
    const lightq::matrix_view<Y> y(f.y.data(), {s.m, s.n});
    std::size_t i = 0;
    for (auto _ : state) {
      if constexpr (Dynamic) {
        lightq::linear(x, f.w[i], {}, y, {}, &ctx);
      } else {
        lightq::linear(x, lightq::quantization{0.05f, 3}, f.w[i],
                       lightq::vector_view<const std::int32_t>(f.bias_i32.data(), {s.n}), y, lightq::quantization{0.5f, -2},
                       lightq::output_clamp::relu(), &ctx);
      }
      i = i + 1 == f.w.size() ? 0 : i + 1;
      benchmark::DoNotOptimize(f.y.data());
      benchmark::ClobberMemory();
    }
    counters(state, s, Dynamic ? 4 : 1, double(f.w[0].weight_bytes()), Dynamic ? 4 : 1, double(nk), true);
  });
}

// Thread scaling: qs8 x qc8w 2048^3 with 1, 2, 4, ... threads up to the hardware's count
// (wall-clock time): BM_gemm_threads/qs8_qc8w/<backend>/2048/2048/2048/<threads>.
void register_scaling() {
  const index_t hw = std::max<index_t>(1, static_cast<index_t>(std::thread::hardware_concurrency()));
  for (index_t t = 1; t <= std::min<index_t>(hw, 64); t *= 2) {
    const gemm_shape s{2048, 2048, 2048, "square", false};
    const std::string name = bench_name("gemm_threads", "qs8_qc8w", backend_name(), {s.m, s.n, s.k, static_cast<long long>(t)});
    benchmark::RegisterBenchmark(name.c_str(), [s, t](benchmark::State& state) {
      using packed = lightq::packed_weights<lightq::qc8w, backend>;
      const std::size_t nk = static_cast<std::size_t>(s.n * s.k);
      auto& f = cached_fixture<fixture<std::int8_t, packed, std::int8_t>>("scaling", [&] {
        return make_fixture<std::int8_t, packed, std::int8_t>(
            s, -128, 127,
            [&] {
              auto w = random_matrix<std::int8_t>(nk, -127, 127, 2);
              std::vector<float> scales(static_cast<std::size_t>(s.n), 0.01f);
              return lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(w.data(), {s.n, s.k}),
                                                   lightq::vector_view<const float>(scales.data(), {s.n}));
            },
            nk);
      });
      lightq::context ctx(t);
      const lightq::matrix_view<const std::int8_t> x(f.x.data(), {s.m, s.k});
      const lightq::matrix_view<std::int8_t> y(f.y.data(), {s.m, s.n});
      for (auto _ : state) {
        lightq::linear(x, lightq::quantization{0.05f, 3}, f.w[0], {}, y, lightq::quantization{0.5f, -2}, {}, &ctx);
        benchmark::DoNotOptimize(f.y.data());
        benchmark::ClobberMemory();
      }
      const double ops = 2.0 * double(s.m) * double(s.n) * double(s.k);
      state.counters["GOP/s"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);  // in 1e9 ops/s, like report()
      state.counters["threads"] = double(t);
    })->Unit(benchmark::kMillisecond)->UseRealTime();
  }
}

const bool registered = [] {
  benchmark::AddCustomContext("lightq_gemm_kernels",
                              std::string(lightq::gemm_kernel_for<backend, lightq::qs8, lightq::qc8w>::name) + ", " +
                                  lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, lightq::gemm_dtype::f32>::name + ", " +
                                  lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, lightq::gemm_dtype::f16>::name);
  benchmark::AddCustomContext("lightq_gemm_threads", std::to_string(bench_threads()));
  for (const gemm_shape& s : gemm_shapes()) {
    register_float<false>(s);
    register_float<true>(s);
    register_q8<true>(s);
    register_q8<false>(s);
  }
  register_scaling();
  return true;
}();

}  // namespace
