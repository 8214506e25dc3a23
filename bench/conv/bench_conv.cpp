// lightq conv2d benchmarks: the MobileNetV2 layers (224x224 input: every distinct 1x1 and
// depthwise 3x3 s1/s2 layer), the ResNet-18 3x3 layers, and the whole MobileNetV2 conv stack as one
// timed sequence; qs8 x qc8w (int8 activations, zero point 3 -> int8), qu8 x qc8w (uint8
// activations, zero point 128 -> uint8; same weights, scales and bias), fp16 weights x fp32, fp32.
// Batch 1, NHWC, ReLU6 fused. qs8 and qu8 sit beside oneDNN's qs8 and qu8 columns
// (bench_conv_peers.cpp): each lightq int8 path against oneDNN's path of the same activation type.
//   BM_conv/<layer>/<qs8|qu8|f16w_f32|f32>/<backend>     BM_conv/mobilenet_v2_stack/<dtype>/<backend>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "conv/conv_layers.hpp"
#include "lightq/conv/conv2d.hpp"

namespace {

using namespace lightq::bench;
using lightq::index_t;
using backend = lightq::default_arch;

enum class dtype { qs8, qu8, f16w_f32, f32 };
constexpr dtype all_dtypes[] = {dtype::qs8, dtype::qu8, dtype::f16w_f32, dtype::f32};
const char* dtype_name(dtype d) {
  return d == dtype::qs8 ? "qs8" : d == dtype::qu8 ? "qu8" : d == dtype::f16w_f32 ? "f16w_f32" : "f32";
}
/// int8 weights (qc8w) and 8-bit activations: qs8 or qu8.
bool quantized(dtype d) { return d == dtype::qs8 || d == dtype::qu8; }

/// One layer ready to run: packed weights and its input / output buffers.
struct prepared {
  layer l;
  dtype d;
  std::unique_ptr<lightq::conv2d_qc8w_weights<backend>> wq;
  std::unique_ptr<lightq::conv2d_f32_weights<backend>> wf;
  std::unique_ptr<lightq::conv2d_f16_weights<backend>> wh;
  lightq::aligned_buffer<std::int8_t> xq, yq;   // qs8
  lightq::aligned_buffer<std::uint8_t> xu, yu;  // qu8
  lightq::aligned_buffer<float> xf, yf;
  std::size_t packed_bytes = 0;

  prepared(const layer& l_, dtype d_, std::uint64_t seed) : l(l_), d(d_) {
    const index_t cg = l.c_in / l.groups;
    const std::size_t wn = static_cast<std::size_t>(l.c_out * l.k * l.k * cg);
    const std::size_t xn = static_cast<std::size_t>(l.h * l.w * l.c_in);
    const std::size_t yn = static_cast<std::size_t>(l.oh() * l.ow() * l.c_out);
    const lightq::extents_t<4> we{l.c_out, l.k, l.k, cg};
    if (quantized(d)) {
      lightq::aligned_buffer<std::int8_t> w(wn);
      fill_random(w.data(), wn, -127, 127, seed);
      std::vector<float> scales(static_cast<std::size_t>(l.c_out), 0.002f);
      std::vector<std::int32_t> bias(static_cast<std::size_t>(l.c_out), 100);
      wq = std::make_unique<lightq::conv2d_qc8w_weights<backend>>(lightq::tensor_view<const std::int8_t, 4>(w.data(), we),
                                                                  scales, bias, l.params());
      packed_bytes = wq->packed_bytes();
      if (d == dtype::qs8) {
        xq = lightq::aligned_buffer<std::int8_t>(xn);
        fill_random(xq.data(), xn, -128, 127, seed + 1);
        yq = lightq::aligned_buffer<std::int8_t>(yn);
      } else {
        xu = lightq::aligned_buffer<std::uint8_t>(xn);
        fill_random(xu.data(), xn, 0, 255, seed + 1);
        yu = lightq::aligned_buffer<std::uint8_t>(yn);
      }
    } else {
      lightq::aligned_buffer<float> w(wn);
      fill_random(w.data(), wn, -1, 1, seed);
      std::vector<float> bias(static_cast<std::size_t>(l.c_out), 0.25f);
      if (d == dtype::f32) {
        wf = std::make_unique<lightq::conv2d_f32_weights<backend>>(lightq::tensor_view<const float, 4>(w.data(), we), bias,
                                                                   l.params());
        packed_bytes = wf->packed_bytes();
      } else {
        std::vector<lightq::half> h(wn);
        for (std::size_t i = 0; i < wn; ++i) h[i] = lightq::half(w[i]);
        wh = std::make_unique<lightq::conv2d_f16_weights<backend>>(lightq::tensor_view<const lightq::half, 4>(h.data(), we),
                                                                   bias, l.params());
        packed_bytes = wh->packed_bytes();
      }
      xf = lightq::aligned_buffer<float>(xn);
      fill_random(xf.data(), xn, -1, 1, seed + 1);
      yf = lightq::aligned_buffer<float>(yn);
    }
  }

  void run(lightq::context& ctx) {
    const lightq::extents_t<4> xe{1, l.h, l.w, l.c_in}, ye{1, l.oh(), l.ow(), l.c_out};
    if (d == dtype::qs8) {
      lightq::conv2d(lightq::tensor_view<const std::int8_t, 4>(xq.data(), xe), {0.05f, 3}, *wq,
                     lightq::tensor_view<std::int8_t, 4>(yq.data(), ye), {0.1f, -5}, lightq::conv2d_activation::relu6(), &ctx);
    } else if (d == dtype::qu8) {
      lightq::conv2d(lightq::tensor_view<const std::uint8_t, 4>(xu.data(), xe), {0.05f, 128}, *wq,
                     lightq::tensor_view<std::uint8_t, 4>(yu.data(), ye), {0.1f, 128}, lightq::conv2d_activation::relu6(),
                     &ctx);
    } else if (d == dtype::f32) {
      lightq::conv2d(lightq::tensor_view<const float, 4>(xf.data(), xe), *wf, lightq::tensor_view<float, 4>(yf.data(), ye),
                     lightq::conv2d_activation::relu6(), &ctx);
    } else {
      lightq::conv2d(lightq::tensor_view<const float, 4>(xf.data(), xe), *wh, lightq::tensor_view<float, 4>(yf.data(), ye),
                     lightq::conv2d_activation::relu6(), &ctx);
    }
  }
  double act_bytes() const { return quantized(d) ? 1.0 : 4.0; }
  double io_bytes() const {
    return act_bytes() * double(l.h * l.w * l.c_in + l.oh() * l.ow() * l.c_out) + double(packed_bytes);
  }
  double model_bytes() const { return l.weight_count() * (quantized(d) ? 1.0 : d == dtype::f16w_f32 ? 2.0 : 4.0); }
};

index_t bench_threads() {
  const char* env = std::getenv("LIGHTQ_BENCH_THREADS");
  return env ? std::max<index_t>(1, std::atol(env)) : 1;
}

peak_kind peak_of(dtype d) { return quantized(d) ? peak_kind::int8 : peak_kind::fp32; }

void register_layer(const layer& l, dtype d) {
  const std::string name = "BM_conv/" + l.name + "/" + dtype_name(d) + "/" + backend_name();
  benchmark::RegisterBenchmark(name.c_str(), [l, d, name](benchmark::State& state) {
    auto& p = cached_fixture<prepared>(name, [&] { return prepared(l, d, 7); });
    lightq::context ctx(bench_threads());
    for (auto _ : state) {
      p.run(ctx);
      benchmark::ClobberMemory();
    }
    report(state, 2 * l.macs(), p.io_bytes(), peak_of(d));
    set_model_bytes(state, p.model_bytes());
    state.counters["threads"] = double(bench_threads());
  })->Unit(benchmark::kMicrosecond);
}

struct stack_fixture {
  std::vector<std::unique_ptr<prepared>> layers;
};

void register_stack(dtype d) {
  const std::string name = std::string("BM_conv/mobilenet_v2_stack/") + dtype_name(d) + "/" + backend_name();
  benchmark::RegisterBenchmark(name.c_str(), [d, name](benchmark::State& state) {
    auto& f = cached_fixture<stack_fixture>(name, [&] {
      stack_fixture s;
      std::uint64_t seed = 11;
      for (const layer& l : mobilenet_v2_stack()) s.layers.push_back(std::make_unique<prepared>(l, d, seed++));
      return s;
    });
    lightq::context ctx(bench_threads());
    for (auto _ : state) {
      for (auto& p : f.layers) p->run(ctx);
      benchmark::ClobberMemory();
    }
    double ops = 0, bytes = 0, model = 0;
    for (auto& p : f.layers) {
      ops += 2 * p->l.macs();
      bytes += p->io_bytes();
      model += p->model_bytes();
    }
    report(state, ops, bytes, peak_of(d));
    set_model_bytes(state, model);
    state.counters["layers"] = double(f.layers.size());
    state.counters["threads"] = double(bench_threads());
  })->Unit(benchmark::kMillisecond);
}

const bool registered = [] {
  for (dtype d : all_dtypes) register_stack(d);
  for (const layer& l : distinct_layers())
    for (dtype d : all_dtypes) register_layer(l, d);
  return true;
}();

}  // namespace
