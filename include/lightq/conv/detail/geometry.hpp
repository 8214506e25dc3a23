// conv2d shape resolution and argument validation shared by the reference and the optimized op.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "lightq/conv/params.hpp"
#include "lightq/core/error.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Largest K = KH * KW * C_in / groups for which the int8 convolution accumulates exactly in
/// int32: one term (x - zx) * w is at most 255 * 127 = 32385 in magnitude, so
/// K <= (2^31 - 1) / 32385 = 66311 (the GEMM bound, docs/quantization.md).
inline constexpr index_t conv2d_max_exact_k = static_cast<index_t>(std::numeric_limits<std::int32_t>::max() / (255 * 127));

namespace detail {

/// A convolution with every size resolved (padding of "same" computed for this input).
struct conv2d_shape {
  index_t n = 0, h = 0, w = 0, c_in = 0;
  index_t oh = 0, ow = 0, c_out = 0;
  index_t kh = 1, kw = 1;
  index_t groups = 1, cg = 0, ng = 0;  ///< input / output channels per group
  index_t sh = 1, sw = 1, dh = 1, dw = 1;
  index_t pt = 0, pl = 0, pb = 0, pr = 0;

  /// Reduction depth of one output: KH * KW * C_in / groups.
  index_t k() const noexcept { return kh * kw * cg; }
  /// groups == C_in == C_out (one input channel and one output channel per group).
  bool depthwise() const noexcept { return groups > 1 && cg == 1 && ng == 1; }
  index_t output_pixels() const noexcept { return n * oh * ow; }
  /// Steps (image, oy, ox) to the next output pixel in NHWC order.
  void next_output_pixel(index_t& image, index_t& oy, index_t& ox) const noexcept {
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        ++image;
      }
    }
  }
  bool pointwise() const noexcept {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && pb == 0 && pr == 0;
  }
  std::string to_string() const {
    return "N=" + std::to_string(n) + " H=" + std::to_string(h) + " W=" + std::to_string(w) + " C=" + std::to_string(c_in) +
           " -> OH=" + std::to_string(oh) + " OW=" + std::to_string(ow) + " C_out=" + std::to_string(c_out) +
           " K=" + std::to_string(kh) + "x" + std::to_string(kw) + " s=" + std::to_string(sh) + "," + std::to_string(sw) +
           " d=" + std::to_string(dh) + "," + std::to_string(dw) + " pad=" + std::to_string(pt) + "," +
           std::to_string(pl) + "," + std::to_string(pb) + "," + std::to_string(pr) + " g=" + std::to_string(groups);
  }
};

/// Checks the geometry that does not depend on the input (strides, dilations, groups, padding).
inline void check_conv2d_params(const conv2d_params& p, const char* where) {
  check(p.stride_h >= 1 && p.stride_w >= 1, where, "params.stride (", p.stride_h, ", ", p.stride_w, ") must be >= 1");
  check(p.dilation_h >= 1 && p.dilation_w >= 1, where, "params.dilation (", p.dilation_h, ", ", p.dilation_w,
        ") must be >= 1");
  check(p.groups >= 1, where, "params.groups = ", p.groups, " must be >= 1");
  if (!p.same_padding)
    check(p.padding.top >= 0 && p.padding.left >= 0 && p.padding.bottom >= 0 && p.padding.right >= 0, where,
          "params.padding (", p.padding.top, ", ", p.padding.left, ", ", p.padding.bottom, ", ", p.padding.right,
          ") must be >= 0");
}

/// Checks weights [C_out, KH, KW, C_in / groups] against the geometry (no input needed).
inline void check_conv2d_weight_extents(const extents_t<4>& we, const conv2d_params& p, const char* where) {
  check_conv2d_params(p, where);
  // fail, not check: the message's string is built only on the error path (conv2d calls this per call).
  if (!(we[0] >= 1 && we[1] >= 1 && we[2] >= 1 && we[3] >= 1))
    fail(where, "weights extents ", extents_text<4>(we), " [C_out, KH, KW, C_in/groups] must all be >= 1");
  check(we[0] % p.groups == 0, where, "weights C_out = ", we[0], " is not divisible by params.groups = ", p.groups);
}

/// Resolves the output size for an input of extents `in` ([N, H, W, C_in]) and weights of
/// extents `we` ([C_out, KH, KW, C_in / groups]); errors name the offending argument.
inline conv2d_shape resolve_conv2d(const extents_t<4>& in, const extents_t<4>& we, const conv2d_params& p,
                                   const char* where) {
  check_conv2d_weight_extents(we, p, where);
  conv2d_shape s;
  s.n = in[0];
  s.h = in[1];
  s.w = in[2];
  s.c_in = in[3];
  s.c_out = we[0];
  s.kh = we[1];
  s.kw = we[2];
  s.groups = p.groups;
  s.cg = we[3];
  s.ng = s.c_out / p.groups;
  s.sh = p.stride_h;
  s.sw = p.stride_w;
  s.dh = p.dilation_h;
  s.dw = p.dilation_w;
  if (!(s.n >= 0 && s.h >= 0 && s.w >= 0 && s.c_in >= 0)) fail(where, "input extents ", extents_text<4>(in), " must be >= 0");
  check(s.c_in % p.groups == 0, where, "input channels C_in = ", s.c_in, " are not divisible by params.groups = ", p.groups);
  check(s.cg * p.groups == s.c_in, where, "weights extent 3 (C_in/groups = ", s.cg, ") does not match input channels ",
        s.c_in, " / groups ", p.groups, " = ", s.c_in / p.groups);
  const index_t ekh = (s.kh - 1) * s.dh + 1;  // dilated kernel extent
  const index_t ekw = (s.kw - 1) * s.dw + 1;
  if (p.same_padding) {
    s.oh = (s.h + s.sh - 1) / s.sh;
    s.ow = (s.w + s.sw - 1) / s.sw;
    const index_t th = std::max<index_t>((s.oh - 1) * s.sh + ekh - s.h, 0);
    const index_t tw = std::max<index_t>((s.ow - 1) * s.sw + ekw - s.w, 0);
    s.pt = th / 2;
    s.pb = th - s.pt;
    s.pl = tw / 2;
    s.pr = tw - s.pl;
    if (s.oh == 0 || s.ow == 0) s.pt = s.pb = s.pl = s.pr = 0;
  } else {
    s.pt = p.padding.top;
    s.pl = p.padding.left;
    s.pb = p.padding.bottom;
    s.pr = p.padding.right;
    const index_t ph = s.h + s.pt + s.pb;
    const index_t pw = s.w + s.pl + s.pr;
    check(ph >= ekh && pw >= ekw, where, "kernel ", s.kh, "x", s.kw, " (dilated extent ", ekh, "x", ekw,
          ") is larger than the padded input ", ph, "x", pw, " (input ", s.h, "x", s.w, " + padding)");
    s.oh = (ph - ekh) / s.sh + 1;
    s.ow = (pw - ekw) / s.sw + 1;
  }
  return s;
}

/// Checks that `out` has extents [N, OH, OW, C_out].
inline void check_conv2d_output(const conv2d_shape& s, const extents_t<4>& out, const char* where) {
  const extents_t<4> want{s.n, s.oh, s.ow, s.c_out};
  if (out != want)
    fail(where, "output extents ", extents_text<4>(out), " must be [N, OH, OW, C_out] = ", extents_text<4>(want), " for ",
         s.to_string());
}

/// The innermost (channel) dimension of a view must be contiguous for the kernels.
template <class T>
void check_channels_contiguous(const tensor_view<T, 4>& v, const char* where, const char* name) {
  check(v.extent(3) <= 1 || v.stride(3) == 1, where, name, " must have unit stride in the channel dimension, got ",
        v.stride(3));
}

/// Checks an activation clamp range (not NaN, min <= max).
inline void check_activation(const conv2d_activation& a, const char* where) {
  check(!std::isnan(a.min) && !std::isnan(a.max) && a.min <= a.max, where, "activation [", a.min, ", ", a.max,
        "] must satisfy min <= max (no NaN)");
}

/// Checks an int8 / uint8 tensor quantization (scale finite > 0, zero point in T's range).
template <class T>
void check_quantization(const conv2d_quantization& q, const char* where, const char* scale_name, const char* zp_name) {
  check_scale(q.scale, where, scale_name);
  check_range(q.zero_point, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), where, zp_name);
}

/// Checks K against the exact-int32 bound.
inline void check_conv2d_exact_k(const conv2d_shape& s, const char* where) {
  if (s.k() > conv2d_max_exact_k)
    fail(where, "K = KH * KW * C_in / groups = ", s.k(), " exceeds the largest K (", conv2d_max_exact_k,
         ") for which int32 accumulation of int8 x qc8w is exact");
}

/// Output clamp of a quantized output of type T: the activation range in output units, rounded
/// half to even and saturated to T. Both the reference and every backend use this.
template <class T>
requantize_bounds conv2d_quantized_bounds(const conv2d_quantization& out, const conv2d_activation& a) {
  constexpr std::int32_t tmin = std::numeric_limits<T>::min();
  constexpr std::int32_t tmax = std::numeric_limits<T>::max();
  auto to_q = [&](float v, std::int32_t fallback) -> std::int32_t {
    if (std::isinf(v)) return fallback;
    const double q = std::nearbyint(static_cast<double>(v) / static_cast<double>(out.scale)) + out.zero_point;
    return static_cast<std::int32_t>(std::min<double>(std::max<double>(q, tmin), tmax));
  };
  const std::int32_t lo = a.min == -std::numeric_limits<float>::infinity() ? tmin : to_q(a.min, tmin);
  const std::int32_t hi = a.max == std::numeric_limits<float>::infinity() ? tmax : to_q(a.max, tmax);
  return make_requantize_bounds(out.zero_point, lo, hi);
}

/// Requantization multiplier of output channel c: (s_in * s_w[c]) / s_out, in float.
inline float conv2d_multiplier(float input_scale, float weight_scale, float output_scale) noexcept {
  return (input_scale * weight_scale) / output_scale;
}

}  // namespace detail
}  // namespace lightq
