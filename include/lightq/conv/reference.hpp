// Reference conv2d (plain scalar C++, no SIMD types, direct loops over NHWC views): the
// specification every optimized conv2d path is tested against.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/params.hpp"
#include "lightq/core/half.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace reference {
namespace detail {

/// Calls f(n, oy, ox, co, acc_fn) for every output; `dot(n, oy, ox, co, term)` sums term(x, w)
/// over the taps that fall inside the input, in the order (ky, kx, ci). Taps in the padding are
/// skipped: they read the zero point, whose centered value (x - zx) is 0.
template <class Acc, class X, class W, class Term>
Acc dot_at(const lightq::detail::conv2d_shape& s, const tensor_view<const X, 4>& in, const tensor_view<const W, 4>& w,
           index_t n, index_t oy, index_t ox, index_t co, Acc init, Term term) {
  const index_t g = co / s.ng;
  Acc acc = init;
  for (index_t ky = 0; ky < s.kh; ++ky) {
    const index_t iy = oy * s.sh - s.pt + ky * s.dh;
    if (iy < 0 || iy >= s.h) continue;
    for (index_t kx = 0; kx < s.kw; ++kx) {
      const index_t ix = ox * s.sw - s.pl + kx * s.dw;
      if (ix < 0 || ix >= s.w) continue;
      for (index_t ci = 0; ci < s.cg; ++ci) acc = term(acc, in(n, iy, ix, g * s.cg + ci), w(co, ky, kx, ci));
    }
  }
  return acc;
}

template <class X, class W>
lightq::detail::conv2d_shape resolve(const tensor_view<const X, 4>& input, const tensor_view<const W, 4>& weights,
                                     const conv2d_params& params, const char* where) {
  return lightq::detail::resolve_conv2d(input.extents(), weights.extents(), params, where);
}

inline void check_bias(index_t size, index_t c_out, const char* where) {
  check(size == 0 || size == c_out, where, "bias has ", size, " elements, must be 0 or C_out = ", c_out);
}

/// Integer accumulator of output (n, oy, ox, co): bias + sum (x - zx) * w, exact int32.
template <class T>
std::int32_t q8_accumulator(const lightq::detail::conv2d_shape& s, const tensor_view<const T, 4>& in, std::int32_t zx,
                            const tensor_view<const std::int8_t, 4>& w, const vector_view<const std::int32_t>& bias,
                            index_t n, index_t oy, index_t ox, index_t co) {
  const std::int32_t init = bias.size() ? bias(co) : 0;
  return dot_at<std::int32_t>(s, in, w, n, oy, ox, co, init, [zx](std::int32_t acc, T x, std::int8_t wv) {
    return acc + (static_cast<std::int32_t>(x) - zx) * static_cast<std::int32_t>(wv);
  });
}

template <class T>
lightq::detail::conv2d_shape check_q8(const tensor_view<const T, 4>& input, const conv2d_quantization& in_q,
                                      const tensor_view<const std::int8_t, 4>& weights,
                                      const vector_view<const float>& weight_scales,
                                      const vector_view<const std::int32_t>& bias, const extents_t<4>& out_extents,
                                      const conv2d_params& params, const conv2d_activation& act, const char* where) {
  auto s = resolve(input, weights, params, where);
  lightq::detail::check_conv2d_output(s, out_extents, where);
  lightq::detail::check_quantization<T>(in_q, where, "input scale", "input zero_point");
  lightq::detail::check_activation(act, where);
  lightq::detail::check_conv2d_exact_k(s, where);
  check_equal(weight_scales.size(), s.c_out, where, "weight_scales.size()", "C_out");
  for (index_t c = 0; c < s.c_out; ++c) check_scale(weight_scales(c), where, "weight_scales[c]");
  check_bias(bias.size(), s.c_out, where);
  for (index_t c = 0; c < s.c_out; ++c)
    for (index_t ky = 0; ky < s.kh; ++ky)
      for (index_t kx = 0; kx < s.kw; ++kx)
        for (index_t ci = 0; ci < s.cg; ++ci)
          check(weights(c, ky, kx, ci) != -128, where, "weights must be in [-127, 127] (qc8w), got -128 at [", c, ", ",
                ky, ", ", kx, ", ", ci, "]");
  return s;
}

}  // namespace detail

/// int8 (qs8, T = int8_t) or uint8 (qu8, T = uint8_t) convolution with per-output-channel int8
/// weights (qc8w), int32 bias at scale s_in * s_w[c], requantized to T with requantize_fp32:
///   out = requantize_fp32(bias[c] + sum (x - zx) * w, s_in * s_w[c] / s_out, activation bounds).
/// weights [C_out, KH, KW, C_in / groups]; bias empty or C_out; weight_scales C_out.
template <class T>
void conv2d_q8(tensor_view<const T, 4> input, conv2d_quantization input_q, tensor_view<const std::int8_t, 4> weights,
               vector_view<const float> weight_scales, vector_view<const std::int32_t> bias, tensor_view<T, 4> output,
               conv2d_quantization output_q, const conv2d_params& params, conv2d_activation act = {}) {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>, "int8_t or uint8_t");
  const char* where = "reference::conv2d_q8";
  auto s = detail::check_q8(input, input_q, weights, weight_scales, bias, output.extents(), params, act, where);
  lightq::detail::check_quantization<T>(output_q, where, "output scale", "output zero_point");
  const requantize_bounds b = lightq::detail::conv2d_quantized_bounds<T>(output_q, act);
  for (index_t n = 0; n < s.n; ++n)
    for (index_t oy = 0; oy < s.oh; ++oy)
      for (index_t ox = 0; ox < s.ow; ++ox)
        for (index_t co = 0; co < s.c_out; ++co) {
          const std::int32_t acc = detail::q8_accumulator(s, input, input_q.zero_point, weights, bias, n, oy, ox, co);
          const float m = lightq::detail::conv2d_multiplier(input_q.scale, weight_scales(co), output_q.scale);
          output(n, oy, ox, co) = static_cast<T>(requantize_fp32(acc, m, b));
        }
}

/// The same convolution dequantized to fp32: out = clamp(float(acc) * (s_in * s_w[c]), act).
template <class T>
void conv2d_q8(tensor_view<const T, 4> input, conv2d_quantization input_q, tensor_view<const std::int8_t, 4> weights,
               vector_view<const float> weight_scales, vector_view<const std::int32_t> bias, tensor_view<float, 4> output,
               const conv2d_params& params, conv2d_activation act = {}) {
  const char* where = "reference::conv2d_q8";
  auto s = detail::check_q8(input, input_q, weights, weight_scales, bias, output.extents(), params, act, where);
  for (index_t n = 0; n < s.n; ++n)
    for (index_t oy = 0; oy < s.oh; ++oy)
      for (index_t ox = 0; ox < s.ow; ++ox)
        for (index_t co = 0; co < s.c_out; ++co) {
          const std::int32_t acc = detail::q8_accumulator(s, input, input_q.zero_point, weights, bias, n, oy, ox, co);
          float y = static_cast<float>(acc) * (input_q.scale * weight_scales(co));
          y = std::min(std::max(y, act.min), act.max);
          output(n, oy, ox, co) = y;
        }
}

/// fp32 convolution (W = float) or fp16 weights with fp32 activations (W = lightq::half, each
/// weight widened exactly to fp32): out = clamp(bias[c] + sum x * w, act), summed in double here
/// (the optimized paths sum in fp32 and stay within the documented bound).
template <class W>
void conv2d_float(tensor_view<const float, 4> input, tensor_view<const W, 4> weights, vector_view<const float> bias,
                  tensor_view<float, 4> output, const conv2d_params& params, conv2d_activation act = {}) {
  static_assert(std::is_same_v<W, float> || std::is_same_v<W, half>, "float or lightq::half weights");
  const char* where = "reference::conv2d_float";
  auto s = detail::resolve(input, weights, params, where);
  lightq::detail::check_conv2d_output(s, output.extents(), where);
  lightq::detail::check_activation(act, where);
  detail::check_bias(bias.size(), s.c_out, where);
  for (index_t n = 0; n < s.n; ++n)
    for (index_t oy = 0; oy < s.oh; ++oy)
      for (index_t ox = 0; ox < s.ow; ++ox)
        for (index_t co = 0; co < s.c_out; ++co) {
          const double init = bias.size() ? static_cast<double>(bias(co)) : 0.0;
          const double acc = detail::dot_at<double>(s, input, weights, n, oy, ox, co, init, [](double a, float x, W wv) {
            return a + static_cast<double>(x) * static_cast<double>(static_cast<float>(wv));
          });
          float y = static_cast<float>(acc);
          y = std::min(std::max(y, act.min), act.max);
          output(n, oy, ox, co) = y;
        }
}

/// Sum over the taps of |x * w| + |bias| for output (n, oy, ox, co): the scale of the fp32
/// error bound (tests: |optimized - reference| <= (K + 2) * eps * abs_sum).
template <class W>
double conv2d_float_abs_sum(const tensor_view<const float, 4>& input, const tensor_view<const W, 4>& weights,
                            const vector_view<const float>& bias, const conv2d_params& params, index_t n, index_t oy,
                            index_t ox, index_t co) {
  auto s = detail::resolve(input, weights, params, "reference::conv2d_float_abs_sum");
  const double init = bias.size() ? std::abs(static_cast<double>(bias(co))) : 0.0;
  return detail::dot_at<double>(s, input, weights, n, oy, ox, co, init, [](double a, float x, W wv) {
    return a + std::abs(static_cast<double>(x) * static_cast<double>(static_cast<float>(wv)));
  });
}

}  // namespace reference
}  // namespace lightq
