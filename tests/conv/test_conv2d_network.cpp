// A small int8 network: the MobileNetV2 inverted-residual block (1x1 expand + ReLU6 -> 3x3
// depthwise + ReLU6 -> 1x1 project, + residual), statically quantized (per-channel qc8w weights,
// per-tensor qs8 activations calibrated on the fp32 network), compared with the fp32 network.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "conv/conv_test_util.hpp"

namespace lightq {
namespace test {
namespace {

struct float_layer {
  std::vector<float> w;  // [C_out, KH, KW, Cg]
  std::vector<float> b;
  extents_t<4> we;
  conv2d_params p;
};

float_layer make_layer(std::mt19937_64& rng, index_t c_out, index_t k, index_t cg, conv2d_params p) {
  float_layer l;
  l.we = {c_out, k, k, cg};
  const float stddev = std::sqrt(2.0f / static_cast<float>(k * k * cg));  // He initialisation
  l.w = gaussian_floats(rng, static_cast<std::size_t>(c_out * k * k * cg), 0.0f, stddev);
  l.b = gaussian_floats(rng, static_cast<std::size_t>(c_out), 0.0f, 0.1f);
  l.p = p;
  return l;
}

conv2d_quantization params_from_range(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  const float scale = (hi - lo) / 255.0f;
  const auto zp = static_cast<std::int32_t>(std::nearbyint(-128.0f - lo / scale));
  return {scale, std::min(127, std::max(-128, zp))};
}

std::vector<std::int8_t> quantize(const std::vector<float>& x, conv2d_quantization q) {
  std::vector<std::int8_t> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float v = std::nearbyint(x[i] / q.scale) + static_cast<float>(q.zero_point);
    out[i] = static_cast<std::int8_t>(std::min(127.0f, std::max(-128.0f, v)));
  }
  return out;
}

/// Per-output-channel symmetric int8 weights, int32 bias at s_in * s_w[c], packed for Arch.
conv2d_qc8w_weights<test_arch> quantize_layer(const float_layer& l, float input_scale) {
  const index_t c_out = l.we[0];
  const index_t per = l.we[1] * l.we[2] * l.we[3];
  std::vector<std::int8_t> wq(l.w.size());
  std::vector<float> scales(static_cast<std::size_t>(c_out));
  std::vector<std::int32_t> bias(static_cast<std::size_t>(c_out));
  for (index_t c = 0; c < c_out; ++c) {
    float m = 0;
    for (index_t i = 0; i < per; ++i) m = std::max(m, std::abs(l.w[static_cast<std::size_t>(c * per + i)]));
    const float s = m > 0 ? m / 127.0f : 1.0f;
    scales[static_cast<std::size_t>(c)] = s;
    for (index_t i = 0; i < per; ++i)
      wq[static_cast<std::size_t>(c * per + i)] =
          static_cast<std::int8_t>(std::nearbyint(l.w[static_cast<std::size_t>(c * per + i)] / s));
    bias[static_cast<std::size_t>(c)] =
        static_cast<std::int32_t>(std::nearbyint(l.b[static_cast<std::size_t>(c)] / (input_scale * s)));
  }
  return conv2d_qc8w_weights<test_arch>(tensor_view<const std::int8_t, 4>(wq.data(), l.we), scales, bias, l.p);
}

std::vector<float> run_float(const float_layer& l, const std::vector<float>& x, const extents_t<4>& xe, extents_t<4>& ye,
                             conv2d_activation act) {
  const conv2d_f32_weights<test_arch> packed(tensor_view<const float, 4>(l.w.data(), l.we), l.b, l.p);
  ye = conv2d_output_extents(xe, packed);
  std::vector<float> y(static_cast<std::size_t>(element_count<4>(ye)));
  conv2d(tensor_view<const float, 4>(x.data(), xe), packed, tensor_view<float, 4>(y.data(), ye), act);
  return y;
}

std::pair<float, float> range_of(const std::vector<float>& v) {
  const auto mm = std::minmax_element(v.begin(), v.end());
  return {*mm.first, *mm.second};
}

TEST_CASE("int8 MobileNetV2 inverted-residual block tracks the fp32 block (SQNR floor)") {
  auto rng = make_rng(4242);
  const index_t c = 24, expand = 6 * c, hw = 14;
  const float_layer expand_l = make_layer(rng, expand, 1, c, conv2d_params{});
  const float_layer dw_l = make_layer(rng, expand, 3, 1, conv2d_params::same(1, expand));
  const float_layer project_l = make_layer(rng, c, 1, expand, conv2d_params{});
  const extents_t<4> xe{1, hw, hw, c};
  const std::vector<float> x = gaussian_floats(rng, static_cast<std::size_t>(element_count<4>(xe)), 0.0f, 1.0f);

  // fp32 network (also the calibration run).
  extents_t<4> e1, e2, e3;
  const auto h1 = run_float(expand_l, x, xe, e1, conv2d_activation::relu6());
  const auto h2 = run_float(dw_l, h1, e1, e2, conv2d_activation::relu6());
  auto y = run_float(project_l, h2, e2, e3, conv2d_activation::none());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] += x[i];

  // int8 network: qs8 activations with ranges calibrated above, int8 between layers, the
  // projection dequantized to fp32 and added to the dequantized input (residual).
  const auto rx = range_of(x);
  const conv2d_quantization qx = params_from_range(rx.first, rx.second);
  const conv2d_quantization q1 = params_from_range(0.0f, range_of(h1).second);
  const conv2d_quantization q2 = params_from_range(0.0f, range_of(h2).second);
  const auto xq = quantize(x, qx);
  const auto pe = quantize_layer(expand_l, qx.scale);
  const auto pd = quantize_layer(dw_l, q1.scale);
  const auto pp = quantize_layer(project_l, q2.scale);
  CHECK(pd.depthwise());
  std::vector<std::int8_t> a1(h1.size()), a2(h2.size());
  std::vector<float> yq(y.size());
  conv2d(tensor_view<const std::int8_t, 4>(xq.data(), xe), qx, pe, tensor_view<std::int8_t, 4>(a1.data(), e1), q1,
         conv2d_activation::relu6());
  conv2d(tensor_view<const std::int8_t, 4>(a1.data(), e1), q1, pd, tensor_view<std::int8_t, 4>(a2.data(), e2), q2,
         conv2d_activation::relu6());
  conv2d(tensor_view<const std::int8_t, 4>(a2.data(), e2), q2, pp, tensor_view<float, 4>(yq.data(), e3));
  for (std::size_t i = 0; i < yq.size(); ++i) yq[i] += qx.scale * static_cast<float>(xq[i] - qx.zero_point);

  const double sqnr = sqnr_db(y.data(), yq.data(), y.size());
  MESSAGE("MobileNetV2 block (14x14x24, expand 6) int8 vs fp32: SQNR = ", sqnr, " dB on backend ",
          std::string(test_arch::name));
  CHECK(sqnr >= 30.0);  // measured 37.6 dB (the same on every backend: the int8 path is bit-exact)
  CHECK(cosine_similarity(y.data(), yq.data(), y.size()) >= 0.999);
}

}  // namespace
}  // namespace test
}  // namespace lightq
