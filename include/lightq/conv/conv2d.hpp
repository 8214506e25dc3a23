// conv2d on NHWC tensor views: int8 (qs8 / qu8 activations x qc8w weights) requantized to int8 or
// dequantized to fp32, fp32, and fp16 weights with fp32 activations; fused bias and activation.
// Depthwise convolutions run their own kernel; all others the GEMM micro-kernels (1x1 stride 1: one
// GEMM; otherwise an implicit GEMM on a tiled im2col).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "lightq/config.hpp"
#include "lightq/conv/detail/depthwise.hpp"
#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/detail/igemm.hpp"
#include "lightq/conv/params.hpp"
#include "lightq/conv/weights.hpp"
#include "lightq/gemm/gemm.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {

/// Output extents [N, OH, OW, C_out] of a convolution of `input` ([N, H, W, C_in]) with packed
/// weights `w` (any of the conv2d_*_weights types); errors as conv2d would report them.
template <class Weights>
extents_t<4> conv2d_output_extents(const extents_t<4>& input, const Weights& w) {
  const auto s = detail::resolve_conv2d(input, w.weight_extents(), w.params(), "conv2d_output_extents");
  return {s.n, s.oh, s.ow, s.c_out};
}

namespace detail {

template <class In, class Out, class Weights>
conv2d_shape conv2d_check_common(const tensor_view<const In, 4>& input, const Weights& w, const tensor_view<Out, 4>& output,
                                 const conv2d_activation& act, const char* where) {
  auto s = resolve_conv2d(input.extents(), w.weight_extents(), w.params(), where);
  check_conv2d_output(s, output.extents(), where);
  check_activation(act, where);
  check_channels_contiguous(input, where, "input");
  check_channels_contiguous(output, where, "output");
  check_no_alias(output, input, where, "output", "input");
  return s;
}

/// int8 convolution: shared by the int8 and the fp32 (dequantized) outputs.
template <class Arch, class T, class Out>
void conv2d_q8(const tensor_view<const T, 4>& input, const conv2d_quantization& in_q, const conv2d_qc8w_weights<Arch>& w,
               const tensor_view<Out, 4>& output, const conv2d_quantization* out_q, const conv2d_activation& act,
               context* user_ctx) {
  const char* where = "conv2d";
  const conv2d_shape s = conv2d_check_common(input, w, output, act, where);
  check_quantization<T>(in_q, where, "input scale", "input zero_point");
  conv_output_stage st;
  st.min = act.min;
  st.max = act.max;
  if constexpr (!std::is_same_v<Out, float>) {
    check_quantization<Out>(*out_q, where, "output scale", "output zero_point");
    st.bounds = conv2d_quantized_bounds<Out>(*out_q, act);
  }
  check_conv2d_exact_k(s, where);
  if (output.empty()) return;
  context local;
  context& ctx = user_ctx ? *user_ctx : local;
  const auto& info = w.info();
  const index_t channels = info.depthwise ? info.cp : info.padded_channels();
  // Per-call channel data (per padded slot): the bias with the zero-point compensation, the
  // multiplier / scale, and (implicit GEMM) the raw bias.
  auto* bias = ctx.scratch_as<std::int32_t>(conv_slot_channels, static_cast<std::size_t>(3 * channels));
  auto* scale = reinterpret_cast<float*>(bias + channels);
  auto* raw_bias = bias + 2 * channels;
  for (index_t i = 0; i < channels; ++i) {
    bias[i] = raw_bias[i] = 0;
    scale[i] = 0.0f;
  }
  using weights_type = conv2d_qc8w_weights<Arch>;
  constexpr bool pairs = weights_type::depthwise_pairs, quads = weights_type::depthwise_quads;
  auto channel_of = [&](index_t i) -> index_t {  // padded slot -> output channel, or -1
    if (info.depthwise) {
      const index_t c = quads ? depthwise_quad_slot(i) : i;  // the quad permutation is its own inverse
      return c < s.c_out ? c : -1;
    }
    const index_t g = i / (info.blocks * info.nr), n = i % (info.blocks * info.nr);
    return n < s.ng ? g * s.ng + n : -1;
  };
  using kernel = typename weights_type::kernel;
  // Offset times column sums removed from the bias: the kernel's zero-point handling
  // (igemm: the GEMM kernel's A encoding x + shift, padding zx + shift, so -(zx + shift) * sum
  // of the column; paired depthwise: raw x, padding reads zx, so -zx * sum of taps; quad
  // depthwise: x shifted to uint8 (qs8: + 128), so -(zx + shift) * sum of taps).
  constexpr int gemm_shift = std::is_same_v<T, std::int8_t> ? kernel::a_shift_from_qs8 : kernel::a_shift_from_qu8;
  constexpr std::int32_t quad_shift = std::is_same_v<T, std::int8_t> ? 128 : 0;
  const std::int32_t comp = !info.depthwise ? in_q.zero_point + gemm_shift
                            : quads         ? in_q.zero_point + quad_shift
                            : pairs         ? in_q.zero_point
                                            : 0;
  const bool has_sums = !info.depthwise || pairs || quads;
  const auto set_channel = [&](index_t i, index_t c) {
    const std::int32_t b = w.bias().empty() ? 0 : w.bias()[static_cast<std::size_t>(c)];
    const std::int32_t cs = has_sums ? w.column_sums()[i] : 0;
    bias[i] = gemm_correct_int32(0, comp, cs, b);
    raw_bias[i] = b;
    const float ws = w.scales()[static_cast<std::size_t>(c)];
    scale[i] = std::is_same_v<Out, float> ? in_q.scale * ws : conv2d_multiplier(in_q.scale, ws, out_q->scale);
  };
  if (info.depthwise) {
    for (index_t i = 0; i < channels; ++i) {
      const index_t c = channel_of(i);
      if (c >= 0) set_channel(i, c);
    }
  } else {  // slot g * blocks * NR + n holds channel g * ng + n (n < ng): no division per channel
    for (index_t g = 0, i = 0; g < s.groups; ++g, i += info.blocks * info.nr)
      for (index_t n = 0; n < s.ng; ++n) set_channel(i + n, g * s.ng + n);
  }
  const std::int32_t zx = in_q.zero_point;
  if (info.depthwise) {
    const std::int32_t* taps = w.depthwise_taps();
    const index_t cp = info.cp, c_out = s.c_out;
    if constexpr (quads || pairs) {
#if defined(LIGHTQ_HAS_AVX2)
      // Every tap read (padding taps read a row of zero points); 3x3 and 5x5 unrolled.
      T* pad_row = ctx.scratch_as<T>(conv_slot_rows, static_cast<std::size_t>(cp));
      for (index_t i = 0; i < cp; ++i) pad_row[i] = static_cast<T>(zx);
      const index_t taps_per_group = quads ? 4 : 2, groups = (s.kh * s.kw + taps_per_group - 1) / taps_per_group;
      auto run = [&](auto window) {
        constexpr index_t K = decltype(window)::value;
        constexpr index_t G = K == 0 ? 0 : (K * K + (quads ? 3 : 1)) / (quads ? 4 : 2);
        conv_depthwise_rows_padded<K, K>(
            s, input, output, ctx,
            [&](const T* const* x, Out* out) {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
              if constexpr (quads) {
                depthwise_q8_pixel_quads<Arch, G>(x, groups, c_out, taps, cp, bias, scale, out, st);
                return;
              }
#endif
              if constexpr (pairs) depthwise_q8_pixel_pairs<Arch, G>(x, groups, c_out, taps, cp, bias, scale, out, st);
            },
            static_cast<const T*>(pad_row));
      };
      if (s.kh == 3 && s.kw == 3)
        run(std::integral_constant<index_t, 3>{});
      else if (s.kh == 5 && s.kw == 5)
        run(std::integral_constant<index_t, 5>{});
      else
        run(std::integral_constant<index_t, 0>{});
#endif
    } else {
      conv_depthwise_rows(s, input, output, ctx, [&](const T* const* x, const index_t* tap, index_t nt, Out* out) {
        if (nt == 9)
          depthwise_q8_pixel<Arch, 9>(x, tap, nt, c_out, zx, taps, cp, bias, scale, out, st);
        else if (nt == 25)
          depthwise_q8_pixel<Arch, 25>(x, tap, nt, c_out, zx, taps, cp, bias, scale, out, st);
        else
          depthwise_q8_pixel<Arch, 0>(x, tap, nt, c_out, zx, taps, cp, bias, scale, out, st);
      });
    }
  } else {
    // The GEMM output stage: v = acc - (zx + shift) * column_sum + bias (folded into bias[]),
    // then requantize_fp32(v, scale[c]) or, for fp32 outputs, float(v) * (s_in * s_w[c]) (times
    // a row scale of 1, plus 0: the same bits) and the clamp.
    // Row arrays for every row of a call (a tile, or all pixels when the convolution is one
    // GEMM: a 1x1, or windows read in place): only
    // fp32 outputs read them (row scales of 1); int8 outputs use the column offsets alone.
    std::int32_t* row_zero_points = nullptr;
    float* row_scales = nullptr;
    if constexpr (std::is_same_v<Out, float>) {
      const index_t rows = std::max(conv_tile_pixels<kernel>(info.kq * kernel::kr, s.output_pixels()),
                                    s.pointwise() || conv_reads_windows<kernel, T>(s) ? s.output_pixels() : index_t{0});
      row_zero_points = ctx.scratch_as<std::int32_t>(conv_slot_rows, static_cast<std::size_t>(2 * rows));
      row_scales = reinterpret_cast<float*>(row_zero_points + rows);
      for (index_t i = 0; i < rows; ++i) {
        row_zero_points[i] = comp;
        row_scales[i] = 1.0f;
      }
    }
    gemm_output_tile stage;
    stage.kind = gemm_output_kind_of<Out>();
    stage.column_sums = w.column_sums();
    stage.row_zero_points = row_zero_points;
    stage.bias_i32 = raw_bias;
    stage.column_offsets = bias;
    stage.column_multipliers = scale;
    stage.row_scales = row_scales;
    stage.bounds = st.bounds;
    stage.min = st.min;
    stage.max = st.max;
    conv_igemm<kernel, T, Out>(s, input, info, w.panels(), stage, output, ctx, gemm_shift, static_cast<T>(zx));
  }
}

template <class Arch, class W>
void conv2d_float(const tensor_view<const float, 4>& input, const conv2d_float_weights_base<Arch, W>& w,
                  const tensor_view<float, 4>& output, const conv2d_activation& act, context* user_ctx) {
  const char* where = "conv2d";
  const conv2d_shape s = conv2d_check_common(input, w, output, act, where);
  if (output.empty()) return;
  conv_output_stage st;
  st.min = act.min;
  st.max = act.max;
  context local;
  context& ctx = user_ctx ? *user_ctx : local;
  const auto& info = w.info();
  const index_t channels = info.depthwise ? info.cp : info.padded_channels();
  float* bias = ctx.scratch_as<float>(conv_slot_channels, static_cast<std::size_t>(channels));
  for (index_t i = 0; i < channels; ++i) {
    index_t c = -1;
    if (info.depthwise) {
      c = i < s.c_out ? i : -1;
    } else {
      const index_t g = i / (info.blocks * info.nr), n = i % (info.blocks * info.nr);
      c = n < s.ng ? g * s.ng + n : -1;
    }
    bias[i] = (c < 0 || w.bias().empty()) ? 0.0f : w.bias()[static_cast<std::size_t>(c)];
  }
  if (info.depthwise) {
    const float* taps = w.depthwise_taps();
    const index_t cp = info.cp, c_out = s.c_out;
    conv_depthwise_rows(s, input, output, ctx, [&](const float* const* x, const index_t* tap, index_t nt, float* out) {
      if (nt == 9)
        depthwise_f32_pixel<Arch, 9>(x, tap, nt, c_out, taps, cp, bias, out, st);
      else if (nt == 25)
        depthwise_f32_pixel<Arch, 25>(x, tap, nt, c_out, taps, cp, bias, out, st);
      else
        depthwise_f32_pixel<Arch, 0>(x, tap, nt, c_out, taps, cp, bias, out, st);
    });
  } else {
    gemm_output_tile stage;
    stage.kind = gemm_output_kind::float32;
    stage.bias_f32 = bias;
    stage.min = st.min;
    stage.max = st.max;
    conv_igemm<typename conv2d_float_weights_base<Arch, W>::kernel, float, float>(s, input, info, w.panels(), stage, output,
                                                                                ctx, 0, 0.0f);
  }
}

}  // namespace detail

/// int8 convolution, int8 output (qs8): out = requantize_fp32(bias[c] + sum (x - zx) * w,
/// s_in * s_w[c] / s_out, activation) — bit-identical on every backend. Padding reads zx.
/// input [N, H, W, C_in] (channels contiguous, other strides free), output [N, OH, OW, C_out].
/// `ctx` (optional) gives threads and reusable scratch.
template <class Arch>
void conv2d(tensor_view<const std::int8_t, 4> input, conv2d_quantization input_q, const conv2d_qc8w_weights<Arch>& weights,
            tensor_view<std::int8_t, 4> output, conv2d_quantization output_q, conv2d_activation act = {},
            context* ctx = nullptr) {
  detail::conv2d_q8<Arch, std::int8_t, std::int8_t>(input, input_q, weights, output, &output_q, act, ctx);
}

/// uint8 (qu8) activations, uint8 output.
template <class Arch>
void conv2d(tensor_view<const std::uint8_t, 4> input, conv2d_quantization input_q, const conv2d_qc8w_weights<Arch>& weights,
            tensor_view<std::uint8_t, 4> output, conv2d_quantization output_q, conv2d_activation act = {},
            context* ctx = nullptr) {
  detail::conv2d_q8<Arch, std::uint8_t, std::uint8_t>(input, input_q, weights, output, &output_q, act, ctx);
}

/// int8 activations, fp32 output dequantized: out = clamp(float(acc) * (s_in * s_w[c]), act).
template <class Arch>
void conv2d(tensor_view<const std::int8_t, 4> input, conv2d_quantization input_q, const conv2d_qc8w_weights<Arch>& weights,
            tensor_view<float, 4> output, conv2d_activation act = {}, context* ctx = nullptr) {
  detail::conv2d_q8<Arch, std::int8_t, float>(input, input_q, weights, output, nullptr, act, ctx);
}

/// uint8 activations, fp32 output dequantized.
template <class Arch>
void conv2d(tensor_view<const std::uint8_t, 4> input, conv2d_quantization input_q, const conv2d_qc8w_weights<Arch>& weights,
            tensor_view<float, 4> output, conv2d_activation act = {}, context* ctx = nullptr) {
  detail::conv2d_q8<Arch, std::uint8_t, float>(input, input_q, weights, output, nullptr, act, ctx);
}

/// fp32 convolution: out = clamp(bias[c] + sum x * w, act), accumulated in fp32.
template <class Arch>
void conv2d(tensor_view<const float, 4> input, const conv2d_f32_weights<Arch>& weights, tensor_view<float, 4> output,
            conv2d_activation act = {}, context* ctx = nullptr) {
  detail::conv2d_float(input, weights, output, act, ctx);
}

/// fp16 weights, fp32 activations and output, accumulated in fp32.
template <class Arch>
void conv2d(tensor_view<const float, 4> input, const conv2d_f16_weights<Arch>& weights, tensor_view<float, 4> output,
            conv2d_activation act = {}, context* ctx = nullptr) {
  detail::conv2d_float(input, weights, output, act, ctx);
}

}  // namespace lightq

LIGHTQ_GCC_PR105593_END
