// Peer convolution benchmarks (oneDNN, XNNPACK) on the layers of bench_conv.cpp, registered in
// the conv executables beside lightq's own so one run holds both columns:
//   BM_conv/<layer>/<dtype>/<onednn|xnnpack>     BM_conv/mobilenet_v2_stack/<dtype>/<peer>
// dtypes: xnnpack qs8 (int8 activations with a zero point x qc8 per-channel weights -> int8,
// lightq's qs8 exactly); onednn qs8 (int8 activations, zero point 0, x s8 per-channel weights ->
// s8: against lightq's qs8, like with like; oneDNN shifts s8 activations by 128 in its kernel,
// as lightq does) and onednn qu8 (uint8 activations, zero point 0, x s8 per-channel weights -> s8:
// oneDNN's fastest int8 convolution, no shift; against lightq's qu8); and f32 for both. Same
// activation as lightq's (ReLU6, fused), batch 1, NHWC, "same" padding, one thread. Weight
// packing / reorders and XNNPACK's setup happen once, outside the timed loop. oneDNN's ISA is
// capped at AVX-512 VNNI (no AMX) unless DNNL_MAX_CPU_ISA is set; each benchmark's label names
// the implementation oneDNN picked.
//
// As for the GEMM peers, they run only in the executable of the best backend this CPU supports;
// LIGHTQ_BENCH_PEERS=1 runs them in every backend's executable, LIGHTQ_BENCH_PEERS=0 in none.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "conv/conv_layers.hpp"
#include "lightq/core/cpu_features.hpp"
#include "peers/onednn_conv.hpp"
#include "peers/xnnpack_conv.hpp"

namespace {

using lightq::aligned_buffer;
using lightq::index_t;
using namespace lightq::bench;

// The quantization of bench_conv.cpp's qs8 layers: s_in 0.05, s_w 0.002 per channel, s_out 0.1,
// bias 100, ReLU6 (output units [0, 60] above the output zero point).
constexpr float input_scale = 0.05f, weight_scale = 0.002f, output_scale = 0.1f;
constexpr std::int8_t input_zero_point = 3, output_zero_point = -5;
constexpr std::int32_t int_bias = 100;

/// One peer convolution ready to run, with its buffers.
struct peer_conv {
  layer l;
  bool integer = false;
  aligned_buffer<unsigned char> x, y;
  std::function<bool()> run;
  std::string impl;  // the peer's implementation name, when it tells
  bool valid = false;
  double act_bytes() const { return integer ? 1.0 : 4.0; }
  double io_bytes() const {
    return act_bytes() * double(l.h * l.w * l.c_in + l.oh() * l.ow() * l.c_out) + model_bytes();
  }
  double model_bytes() const { return l.weight_count() * act_bytes(); }
};

enum class peer { onednn, xnnpack };
/// qs8: int8 activations (zero point 0 for oneDNN, 3 for XNNPACK); qu8: uint8 activations
/// (oneDNN only, zero point 0).
enum class dtype { qs8, qu8, f32 };

const char* dtype_name(dtype d) { return d == dtype::qs8 ? "qs8" : d == dtype::qu8 ? "qu8" : "f32"; }
const char* peer_name(peer p) { return p == peer::onednn ? "onednn" : "xnnpack"; }

std::unique_ptr<peer_conv> make_peer_conv(const layer& l, peer p, dtype d, std::uint64_t seed) {
  auto c = std::make_unique<peer_conv>();
  c->l = l;
  c->integer = d != dtype::f32;
  const auto wn = static_cast<std::size_t>(l.c_out * l.k * l.k * (l.c_in / l.groups));
  const auto xn = static_cast<std::size_t>(l.h * l.w * l.c_in), yn = static_cast<std::size_t>(l.oh() * l.ow() * l.c_out);
  const std::size_t elem = c->integer ? 1 : 4;
  c->x = aligned_buffer<unsigned char>(xn * elem);
  c->y = aligned_buffer<unsigned char>(yn * elem);
  std::memset(c->y.data(), 0, c->y.size());
  aligned_buffer<std::int8_t> wq;
  aligned_buffer<float> wf;
  if (c->integer) {
    wq = aligned_buffer<std::int8_t>(wn);
    fill_random(wq.data(), wn, -127, 127, seed);
    if (d == dtype::qu8)
      fill_random(c->x.data(), xn, 0, 255, seed + 1);
    else
      fill_random(reinterpret_cast<std::int8_t*>(c->x.data()), xn, -128, 127, seed + 1);
  } else {
    wf = aligned_buffer<float>(wn);
    fill_random(wf.data(), wn, -1, 1, seed);
    fill_random(reinterpret_cast<float*>(c->x.data()), xn, -1, 1, seed + 1);
  }
  const auto [pt, pb] = same_padding(l.h, l.k, l.stride);
  const auto [pl, pr] = same_padding(l.w, l.k, l.stride);
  const std::vector<float> fbias(static_cast<std::size_t>(l.c_out), 0.25f);
  const std::vector<std::int32_t> ibias(static_cast<std::size_t>(l.c_out), int_bias);
  (void)pt, (void)pb, (void)pl, (void)pr, (void)fbias, (void)ibias;
  if (p == peer::onednn) {
#if defined(LIGHTQ_BENCH_HAVE_DNNL)
    namespace dnn = peers::onednn;
    dnn::conv_geometry g;
    g.h = l.h, g.w = l.w, g.c_in = l.c_in, g.c_out = l.c_out, g.kh = g.kw = l.k, g.stride = l.stride, g.groups = l.groups;
    g.pad_top = pt, g.pad_bottom = pb, g.pad_left = pl, g.pad_right = pr;
    std::shared_ptr<dnn::convolution> op;
    if (c->integer) {
      // u8 or s8 input with zero point 0, s8 output with zero point 0: ReLU6 is a clip to [0, 6 / s_out].
      const std::vector<float> scales(static_cast<std::size_t>(l.c_out), input_scale * weight_scale / output_scale);
      const auto src = d == dtype::qu8 ? dnnl::memory::data_type::u8 : dnnl::memory::data_type::s8;
      op = dnn::convolution::int8(g, src, wq.data(), scales, ibias.data(), 0.0f, 6.0f / output_scale);
    } else {
      op = dnn::convolution::f32(g, wf.data(), fbias.data(), 0.0f, 6.0f);
    }
    c->valid = op->valid();
    c->impl = op->implementation();
    peer_conv* self = c.get();
    c->run = [op, self] { return op->run(self->x.data(), self->y.data()); };
#endif
  } else {
#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
    namespace xnn = peers::xnnpack;
    xnn::conv_geometry g;
    auto u = [](index_t v) { return static_cast<std::uint32_t>(v); };
    g.h = u(l.h), g.w = u(l.w), g.c_in = u(l.c_in), g.c_out = u(l.c_out), g.kh = g.kw = u(l.k), g.stride = u(l.stride);
    g.groups = u(l.groups), g.pad_top = u(pt), g.pad_bottom = u(pb), g.pad_left = u(pl), g.pad_right = u(pr);
    std::shared_ptr<xnn::convolution> op;
    if (c->integer) {
      const std::vector<float> scales(static_cast<std::size_t>(l.c_out), weight_scale);
      const auto hi = static_cast<std::int8_t>(output_zero_point + static_cast<int>(6.0f / output_scale + 0.5f));
      op = std::make_shared<xnn::convolution>(xnn::convolution::qc8(
          g, input_zero_point, input_scale, scales, wq.data(), ibias.data(), output_zero_point, output_scale,
          output_zero_point, hi, reinterpret_cast<const std::int8_t*>(c->x.data()),
          reinterpret_cast<std::int8_t*>(c->y.data())));
    } else {
      op = std::make_shared<xnn::convolution>(xnn::convolution::f32(
          g, wf.data(), fbias.data(), 0.0f, 6.0f, reinterpret_cast<const float*>(c->x.data()),
          reinterpret_cast<float*>(c->y.data())));
    }
    c->valid = op->valid();
    c->run = [op] { return op->run(); };
#endif
  }
  return c;
}

void register_layer(const layer& l, peer p, dtype d) {
  const std::string name = "BM_conv/" + l.name + "/" + dtype_name(d) + "/" + peer_name(p);
  benchmark::RegisterBenchmark(name.c_str(), [l, p, d, name](benchmark::State& state) {
    auto& c = cached_fixture<std::unique_ptr<peer_conv>>(name, [&] { return make_peer_conv(l, p, d, 7); });
    if (!c->valid) {
      state.SkipWithError((std::string(peer_name(p)) + " rejected this convolution " + c->impl).c_str());
      return;
    }
    for (auto _ : state) {
      if (!c->run()) {
        state.SkipWithError("peer convolution failed");
        break;
      }
      benchmark::ClobberMemory();
    }
    report(state, 2 * l.macs(), c->io_bytes(), c->integer ? peak_kind::int8 : peak_kind::fp32);
    set_model_bytes(state, c->model_bytes());
    if (!c->impl.empty()) state.SetLabel(c->impl);
  })->Unit(benchmark::kMicrosecond);
}

void register_stack(peer p, dtype d) {
  const std::string name = std::string("BM_conv/mobilenet_v2_stack/") + dtype_name(d) + "/" + peer_name(p);
  benchmark::RegisterBenchmark(name.c_str(), [p, d, name](benchmark::State& state) {
    using stack = std::vector<std::unique_ptr<peer_conv>>;
    auto& s = cached_fixture<stack>(name, [&] {
      stack layers;
      std::uint64_t seed = 11;
      for (const layer& l : mobilenet_v2_stack()) layers.push_back(make_peer_conv(l, p, d, seed++));
      return layers;
    });
    for (auto& c : s)
      if (!c->valid) {
        state.SkipWithError((c->l.name + ": " + peer_name(p) + " rejected this convolution " + c->impl).c_str());
        return;
      }
    for (auto _ : state) {
      for (auto& c : s)
        if (!c->run()) state.SkipWithError("peer convolution failed");
      benchmark::ClobberMemory();
    }
    double ops = 0, bytes = 0, model = 0;
    for (auto& c : s) {
      ops += 2 * c->l.macs();
      bytes += c->io_bytes();
      model += c->model_bytes();
    }
    report(state, ops, bytes, d == dtype::f32 ? peak_kind::fp32 : peak_kind::int8);
    set_model_bytes(state, model);
    state.counters["layers"] = double(s.size());
  })->Unit(benchmark::kMillisecond);
}

void register_peer(peer p, std::initializer_list<dtype> dtypes) {
  for (dtype d : dtypes) register_stack(p, d);
  for (const layer& l : distinct_layers())
    for (dtype d : dtypes) register_layer(l, p, d);
}

const bool registered = [] {
  if (!peers_enabled()) return false;
#if defined(LIGHTQ_BENCH_HAVE_DNNL)
  const std::string cap = peers::onednn::cap_isa_at_avx512_vnni();
  benchmark::AddCustomContext("lightq_peer_onednn_conv",
                              peers::onednn::init() + "; convolution primitives: u8 x s8 (qu8) and s8 x s8 (qs8; "
                                                      "activations zero point 0, per-channel output scales) -> s8, "
                                                      "and f32; NHWC activations, weights in the primitive's layout" +
                                  (cap.empty() ? std::string(" (ISA as DNNL_MAX_CPU_ISA says)")
                                               : "; ISA capped at " + cap + " (no AMX; DNNL_MAX_CPU_ISA overrides)"));
  register_peer(peer::onednn, {dtype::qu8, dtype::qs8, dtype::f32});
#endif
#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
  if (peers::xnnpack::init()) {
    benchmark::AddCustomContext("lightq_peer_xnnpack_conv",
                                "Debian 2022 snapshot; convolution2d_nhwc_qc8 and _f32 (depthwise through groups)");
    register_peer(peer::xnnpack, {dtype::qs8, dtype::f32});
  }
#endif
  return true;
}();

}  // namespace
