// Peer GEMM / GEMV benchmarks (oneDNN, OpenBLAS, XNNPACK) on the issue-4 shapes, registered in
// the GEMM executables beside lightq's own (bench_gemm.cpp) so one run holds both columns.
//
// Peers do not depend on lightq's compiler flags, so by default they run only in the executable
// of the best backend this CPU supports (avx512_vnni here); LIGHTQ_BENCH_PEERS=1 runs them in
// every backend's executable, LIGHTQ_BENCH_PEERS=0 in none.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "gemm/gemm_shapes.hpp"
#include "lightq/core/cpu_features.hpp"
#include "peers/onednn.hpp"
#include "peers/openblas.hpp"
#include "peers/xnnpack.hpp"

namespace {

using benchmark::AddCustomContext;
using lightq::aligned_buffer;
using namespace lightq::bench;

// x[M,K], W[N,K] (one or several copies), y[M,N].
template <class X, class W, class Y>
struct gemm_data {
  aligned_buffer<X> x;
  std::vector<aligned_buffer<W>> w;
  aligned_buffer<Y> y;
};

template <class X, class W, class Y>
gemm_data<X, W, Y> make_data(const gemm_shape& s, double x_lo, double x_hi, double w_lo, double w_hi,
                             std::size_t copies) {
  gemm_data<X, W, Y> d;
  const auto mk = static_cast<std::size_t>(s.m * s.k), nk = static_cast<std::size_t>(s.n * s.k);
  d.x = aligned_buffer<X>(mk);
  fill_random(d.x.data(), mk, x_lo, x_hi, 1);
  d.w.emplace_back(nk);
  fill_random(d.w[0].data(), nk, w_lo, w_hi, 2);
  for (std::size_t i = 1; i < copies; ++i) d.w.push_back(d.w[0]);
  d.y = aligned_buffer<Y>(static_cast<std::size_t>(s.m * s.n));
  std::memset(d.y.data(), 0, d.y.size() * sizeof(Y));
  return d;
}

[[maybe_unused]] void set_gemm_counters(benchmark::State& state, const gemm_shape& s, double x_bytes,
                                        double w_bytes, double y_bytes, bool integer) {
  const double m = static_cast<double>(s.m), n = static_cast<double>(s.n), k = static_cast<double>(s.k);
  report(state, 2 * m * n * k, m * k * x_bytes + n * k * w_bytes + m * n * y_bytes, gemm_peak_kind(s, integer));
  set_model_bytes(state, n * k * w_bytes);
}

template <class F>
void register_gemm(const std::string& name, F&& fn) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(fn))->Unit(benchmark::kMicrosecond);
}

#if defined(LIGHTQ_BENCH_HAVE_OPENBLAS)
void register_openblas() {
  AddCustomContext("lightq_peer_openblas", peers::openblas::init());
  for (const gemm_shape& s : gemm_shapes()) {
    const std::string name = gemm_name("f32", peers::openblas::name, s);
    register_gemm(name, [s, name](benchmark::State& state) {
      using data = gemm_data<float, float, float>;
      const std::size_t copies = gemm_weight_copies(s, static_cast<std::size_t>(s.n * s.k) * sizeof(float));
      data& d = cached_fixture<data>(name, [&] { return make_data<float, float, float>(s, -1, 1, -1, 1, copies); });
      std::size_t i = 0;
      for (auto _ : state) {
        const float* w = d.w[i].data();
        i = i + 1 == d.w.size() ? 0 : i + 1;
        if (s.m == 1)
          peers::openblas::sgemv(s.n, s.k, w, d.x.data(), d.y.data());
        else
          peers::openblas::sgemm(s.m, s.n, s.k, d.x.data(), w, d.y.data());
        benchmark::ClobberMemory();
      }
      set_gemm_counters(state, s, 4, 4, 4, false);
    });
  }
}
#endif

#if defined(LIGHTQ_BENCH_HAVE_DNNL)
void register_onednn() {
  AddCustomContext("lightq_peer_onednn", peers::onednn::init());
  for (const gemm_shape& s : gemm_shapes()) {
    const std::string f32_name = gemm_name("f32", peers::onednn::name, s);
    register_gemm(f32_name, [s, f32_name](benchmark::State& state) {
      using data = gemm_data<float, float, float>;
      const std::size_t copies = gemm_weight_copies(s, static_cast<std::size_t>(s.n * s.k) * sizeof(float));
      data& d = cached_fixture<data>(f32_name, [&] { return make_data<float, float, float>(s, -1, 1, -1, 1, copies); });
      std::size_t i = 0;
      for (auto _ : state) {
        const float* w = d.w[i].data();
        i = i + 1 == d.w.size() ? 0 : i + 1;
        if (!peers::onednn::sgemm(s.m, s.n, s.k, d.x.data(), w, d.y.data())) {
          state.SkipWithError("dnnl_sgemm failed");
          break;
        }
        benchmark::ClobberMemory();
      }
      set_gemm_counters(state, s, 4, 4, 4, false);
    });
    const std::string u8_name = gemm_name("qu8_qs8", peers::onednn::name, s);
    register_gemm(u8_name, [s, u8_name](benchmark::State& state) {
      using data = gemm_data<std::uint8_t, std::int8_t, std::int32_t>;
      const std::size_t copies = gemm_weight_copies(s, static_cast<std::size_t>(s.n * s.k));
      data& d = cached_fixture<data>(
          u8_name, [&] { return make_data<std::uint8_t, std::int8_t, std::int32_t>(s, 0, 255, -127, 127, copies); });
      std::size_t i = 0;
      for (auto _ : state) {
        const std::int8_t* w = d.w[i].data();
        i = i + 1 == d.w.size() ? 0 : i + 1;
        if (!peers::onednn::gemm_u8s8s32(s.m, s.n, s.k, d.x.data(), 128, w, d.y.data())) {
          state.SkipWithError("dnnl_gemm_u8s8s32 failed");
          break;
        }
        benchmark::ClobberMemory();
      }
      set_gemm_counters(state, s, 1, 1, 4, true);
    });
    const std::string s8_name = gemm_name("qs8_qs8", peers::onednn::name, s);
    register_gemm(s8_name, [s, s8_name](benchmark::State& state) {
      using data = gemm_data<std::int8_t, std::int8_t, std::int32_t>;
      const std::size_t copies = gemm_weight_copies(s, static_cast<std::size_t>(s.n * s.k));
      data& d = cached_fixture<data>(
          s8_name, [&] { return make_data<std::int8_t, std::int8_t, std::int32_t>(s, -128, 127, -127, 127, copies); });
      std::size_t i = 0;
      for (auto _ : state) {
        const std::int8_t* w = d.w[i].data();
        i = i + 1 == d.w.size() ? 0 : i + 1;
        if (!peers::onednn::gemm_s8s8s32(s.m, s.n, s.k, d.x.data(), 0, w, d.y.data())) {
          state.SkipWithError("dnnl_gemm_s8s8s32 failed");
          break;
        }
        benchmark::ClobberMemory();
      }
      set_gemm_counters(state, s, 1, 1, 4, true);
    });
  }
}
#endif

#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
// One XNNPACK operator per weight copy (each packs its own copy of the weights).
struct xnnpack_fixture {
  std::vector<peers::xnnpack::fully_connected> ops;
  aligned_buffer<unsigned char> x, y;
};

template <class T, class Create>
xnnpack_fixture make_xnnpack(const gemm_shape& s, double w_lo, double w_hi, Create&& create) {
  xnnpack_fixture f;
  const auto nk = static_cast<std::size_t>(s.n * s.k);
  const std::size_t copies = gemm_weight_copies(s, nk * sizeof(T));
  {
    aligned_buffer<T> w(nk);
    fill_random(w.data(), nk, w_lo, w_hi, 2);
    for (std::size_t i = 0; i < copies; ++i) f.ops.push_back(create(w.data()));
  }
  f.x = aligned_buffer<unsigned char>(static_cast<std::size_t>(s.m * s.k) * sizeof(T));
  std::memset(f.x.data(), 0, f.x.size());
  f.y = aligned_buffer<unsigned char>(static_cast<std::size_t>(s.m * s.n) * sizeof(T));
  return f;
}

void run_xnnpack(benchmark::State& state, const gemm_shape& s, xnnpack_fixture& f) {
  if (f.ops.empty() || !f.ops[0].valid()) {
    state.SkipWithError("XNNPACK operator creation failed");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    if (!f.ops[i].run(static_cast<std::size_t>(s.m), f.x.data(), f.y.data())) {
      state.SkipWithError("xnn_run_operator failed");
      break;
    }
    i = i + 1 == f.ops.size() ? 0 : i + 1;
    benchmark::ClobberMemory();
  }
}

void register_xnnpack() {
  if (!peers::xnnpack::init()) {
    AddCustomContext("lightq_peer_xnnpack", "xnn_initialize failed: not run");
    return;
  }
  // fp16 needs native fp16 arithmetic in the 2022 snapshot: probe once with a tiny operator.
  const std::uint16_t one_half[4] = {0x3C00, 0x3C00, 0x3C00, 0x3C00};
  const bool f16_ok = peers::xnnpack::fully_connected::f16(2, 2, one_half).valid();
  AddCustomContext("lightq_peer_xnnpack",
                   std::string("Debian 2022 snapshot; fp16 fully-connected ") + (f16_ok ? "supported" : "unsupported here"));
  for (const gemm_shape& s : gemm_shapes()) {
    const std::string f32_name = gemm_name("f32", peers::xnnpack::name, s);
    register_gemm(f32_name, [s, f32_name](benchmark::State& state) {
      auto& f = cached_fixture<xnnpack_fixture>(f32_name, [&] {
        return make_xnnpack<float>(s, -1, 1, [&](const float* w) {
          return peers::xnnpack::fully_connected::f32(static_cast<std::size_t>(s.n), static_cast<std::size_t>(s.k), w);
        });
      });
      run_xnnpack(state, s, f);
      set_gemm_counters(state, s, 4, 4, 4, false);
    });
    const std::string qs8_name = gemm_name("qs8_qs8w", peers::xnnpack::name, s);
    register_gemm(qs8_name, [s, qs8_name](benchmark::State& state) {
      auto& f = cached_fixture<xnnpack_fixture>(qs8_name, [&] {
        return make_xnnpack<std::int8_t>(s, -127, 127, [&](const std::int8_t* w) {
          return peers::xnnpack::fully_connected::qs8(static_cast<std::size_t>(s.n), static_cast<std::size_t>(s.k), w);
        });
      });
      run_xnnpack(state, s, f);
      set_gemm_counters(state, s, 1, 1, 1, true);
    });
    if (f16_ok) {
      const std::string f16_name = gemm_name("f16", peers::xnnpack::name, s);
      register_gemm(f16_name, [s, f16_name](benchmark::State& state) {
        auto& f = cached_fixture<xnnpack_fixture>(f16_name, [&] {
          return make_xnnpack<std::uint16_t>(s, 0x3000, 0x3C00, [&](const std::uint16_t* w) {
            return peers::xnnpack::fully_connected::f16(static_cast<std::size_t>(s.n), static_cast<std::size_t>(s.k), w);
          });
        });
        run_xnnpack(state, s, f);
        set_gemm_counters(state, s, 2, 2, 2, false);
      });
    }
  }
}
#endif

const bool registered = [] {
  if (!peers_enabled()) return false;
#if defined(LIGHTQ_BENCH_HAVE_OPENBLAS)
  register_openblas();
#endif
#if defined(LIGHTQ_BENCH_HAVE_DNNL)
  register_onednn();
#endif
#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
  register_xnnpack();
#endif
  return true;
}();

}  // namespace
