// Output stages of int32 accumulators: requantize to int8/uint8 (per-tensor or per-channel fp32
// multiplier, int32 bias, fused activation clamp) and dequantize-with-bias to fp32; one-register
// blocks for micro-kernels and whole-view functions.
//
// The contract (docs/quantization.md):
//   requantize:            y = requantize_fp32(acc + bias[c], multiplier[c], bounds)   (acc + bias wraps mod 2^32)
//   dequantize_with_bias:  y = dequantize_bias_fp32(acc, scale[c], bias[c]) = fma(float(acc), scale[c], bias[c])
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/xsimd_compat.hpp"
#include "lightq/quant/detail/simd_ops.hpp"
#include "lightq/quant/params.hpp"
#include "lightq/quant/quantize.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {

// ---------------------------------------------------------------------------------------------
// Fused activations as quantized bounds.

/// Activation fused into a requantizing output stage.
enum class activation { none, relu, relu6 };

/// The bounds for writing `DType` with output params `out` and a fused activation: the range of
/// DType, narrowed to [quantize(0), qmax] by ReLU and to [quantize(0), quantize(6)] by ReLU6
/// (quantize rounds as quantize_fp32 does).
template <class DType>
requantize_bounds output_bounds(const per_tensor_params<DType>& out, activation act = activation::none) {
  std::int32_t qmin = DType::qmin, qmax = DType::qmax;
  const requantize_bounds full = out.bounds();
  if (act == activation::relu || act == activation::relu6) qmin = std::max(qmin, out.zero_point());
  if (act == activation::relu6) qmax = std::min(qmax, quantize_fp32(6.0f, out.inv_scale(), full));
  return make_requantize_bounds(out.zero_point(), qmin, qmax);
}

/// The bounds for a real-valued clamp [min, max] (min <= max, not NaN; infinities mean no limit):
/// [quantize(min), quantize(max)] inside DType's range.
template <class DType>
requantize_bounds output_bounds(const per_tensor_params<DType>& out, float min, float max) {
  check(!std::isnan(min), "output_bounds", "min must not be NaN");
  check(!std::isnan(max), "output_bounds", "max must not be NaN");
  if (!(min <= max)) fail("output_bounds", "min (", min, ") must be <= max (", max, ")");
  const requantize_bounds full = out.bounds();
  return make_requantize_bounds(out.zero_point(), quantize_fp32(min, out.inv_scale(), full),
                                quantize_fp32(max, out.inv_scale(), full));
}

// ---------------------------------------------------------------------------------------------
// Scalar twins and one-register blocks.

/// acc + bias modulo 2^32, as the SIMD integer add does (no signed-overflow UB in the twin).
LIGHTQ_ALWAYS_INLINE std::int32_t add_wrapping(std::int32_t acc, std::int32_t bias) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) + static_cast<std::uint32_t>(bias));
}

/// Scalar twin: requantize_fp32(acc + bias, multiplier, b).
LIGHTQ_ALWAYS_INLINE std::int32_t requantize_fp32(std::int32_t acc, std::int32_t bias, float multiplier,
                                                  const requantize_bounds& b) noexcept {
  return requantize_fp32(add_wrapping(acc, bias), multiplier, b);
}

/// Scalar twin: fma(float(acc), scale, bias) (float(acc) rounds to nearest even; fma rounds once).
LIGHTQ_ALWAYS_INLINE float dequantize_bias_fp32(std::int32_t acc, float scale, float bias) noexcept {
  return std::fma(static_cast<float>(acc), scale, bias);
}

#if LIGHTQ_QUANT_XSIMD
/// One register: equal to the scalar twin lane by lane.
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<std::int32_t, A> requantize_fp32(const xsimd::batch<std::int32_t, A>& acc,
                                                                   const xsimd::batch<std::int32_t, A>& bias,
                                                                   const xsimd::batch<float, A>& multiplier,
                                                                   const requantize_bounds& b) noexcept {
  return requantize_fp32(acc + bias, multiplier, b);
}

/// One register: equal to the scalar twin lane by lane (a true FMA on every backend).
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<float, A> dequantize_bias_fp32(const xsimd::batch<std::int32_t, A>& acc,
                                                                 const xsimd::batch<float, A>& scale,
                                                                 const xsimd::batch<float, A>& bias) noexcept {
  return detail::fused_multiply_add<A>(xsimd::to_float(acc), scale, bias);
}

/// Requantizes one register and stores its batch::size int8/uint8 results at `out` (unaligned).
template <class A, class Out>
LIGHTQ_ALWAYS_INLINE void requantize_store(Out* out, const xsimd::batch<std::int32_t, A>& acc,
                                           const xsimd::batch<float, A>& multiplier, const requantize_bounds& b) noexcept {
  static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>, "int8 or uint8 output");
  detail::store_narrow<A>(out, requantize_fp32(acc, multiplier, b));
}
#endif

// ---------------------------------------------------------------------------------------------
// Row kernels (contiguous; one template per backend, the scalar one is the twin).

namespace detail {

/// out[i] = requantize(acc[i] + bias?[i], mults ? mults[i] : mult).
template <class Arch, class Out>
void requantize_row(const std::int32_t* acc, Out* out, index_t n, float mult, const float* mults,
                    const std::int32_t* bias, const requantize_bounds& b) noexcept {
  if constexpr (!is_simd_arch_v<Arch>) {
    for (index_t i = 0; i < n; ++i)
      out[i] = static_cast<Out>(requantize_fp32(acc[i], bias ? bias[i] : 0, mults ? mults[i] : mult, b));
  }
#if LIGHTQ_QUANT_XSIMD
  else {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    using ib = xsimd::batch<std::int32_t, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb uniform(mult);
    index_t i = 0;
    for (; i + L <= n; i += L) {
      ib a = ib::load_unaligned(acc + i);
      if (bias) a += ib::load_unaligned(bias + i);
      store_narrow<A>(out + i, requantize_fp32(a, mults ? fb::load_unaligned(mults + i) : uniform, b));
    }
    if (i < n) {
      alignas(64) std::int32_t at[L] = {};
      alignas(64) std::int32_t bt[L] = {};
      alignas(64) float mt[L] = {};
      alignas(64) Out ot[L];
      const index_t r = n - i;
      for (index_t j = 0; j < r; ++j) {
        at[j] = acc[i + j];
        bt[j] = bias ? bias[i + j] : 0;
        mt[j] = mults ? mults[i + j] : mult;
      }
      store_narrow<A>(ot, requantize_fp32(ib::load_aligned(at) + ib::load_aligned(bt), fb::load_aligned(mt), b));
      std::memcpy(out + i, ot, static_cast<std::size_t>(r) * sizeof(Out));
    }
  }
#endif
}

/// out[i] = fma(float(acc[i]), scales ? scales[i] : scale, bias ? bias[i] : 0).
template <class Arch>
void dequantize_bias_row(const std::int32_t* acc, float* out, index_t n, float scale, const float* scales,
                         const float* bias) noexcept {
  if constexpr (!is_simd_arch_v<Arch>) {
    for (index_t i = 0; i < n; ++i) out[i] = dequantize_bias_fp32(acc[i], scales ? scales[i] : scale, bias ? bias[i] : 0.0f);
  }
#if LIGHTQ_QUANT_XSIMD
  else {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    using ib = xsimd::batch<std::int32_t, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb uniform(scale), zero(0.0f);
    index_t i = 0;
    for (; i + L <= n; i += L)
      dequantize_bias_fp32(ib::load_unaligned(acc + i), scales ? fb::load_unaligned(scales + i) : uniform,
                           bias ? fb::load_unaligned(bias + i) : zero)
          .store_unaligned(out + i);
    if (i < n) {
      alignas(64) std::int32_t at[L] = {};
      alignas(64) float st[L] = {};
      alignas(64) float bt[L] = {};
      alignas(64) float ot[L];
      const index_t r = n - i;
      for (index_t j = 0; j < r; ++j) {
        at[j] = acc[i + j];
        st[j] = scales ? scales[i + j] : scale;
        bt[j] = bias ? bias[i + j] : 0.0f;
      }
      dequantize_bias_fp32(ib::load_aligned(at), fb::load_aligned(st), fb::load_aligned(bt)).store_aligned(ot);
      std::memcpy(out + i, ot, static_cast<std::size_t>(r) * sizeof(float));
    }
  }
#endif
}

/// Per-channel data of an output stage as a contiguous pointer: the view's own memory when it has
/// unit stride, else a copy in `storage`. Null when the view is empty.
template <class T>
const T* channel_data(const vector_view<const T>& v, std::vector<T>& storage) {
  if (v.extent(0) == 0) return nullptr;
  if (v.extent(0) == 1 || v.stride(0) == 1) return v.data();
  storage.resize(static_cast<std::size_t>(v.extent(0)));
  for (index_t i = 0; i < v.extent(0); ++i) storage[static_cast<std::size_t>(i)] = v(i);
  return storage.data();
}

inline void check_channel_count(index_t count, index_t channels, bool may_be_one, bool may_be_empty, const char* where,
                         const char* argument) {
  if ((may_be_one && count == 1) || (may_be_empty && count == 0) || count == channels) return;
  fail(where, argument, " has ", static_cast<std::int64_t>(count), " elements; it needs ",
       may_be_one ? "1 (per tensor) or " : "", may_be_empty ? "0 (none) or " : "", static_cast<std::int64_t>(channels),
       " (one per channel of the last dimension)");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Whole views. Channels are the last dimension (GEMM columns, NHWC channels).

/// out = requantize(acc + bias, multipliers, bounds), elementwise over views of the same extents
/// (any rank and strides). `multipliers`: 1 value (per tensor) or one per channel of the last
/// dimension, each finite and > 0. `bias`: empty or one int32 per channel (added modulo 2^32).
/// `bounds`: output zero point and clamp (make_requantize_bounds / output_bounds), inside Out's range.
template <class Arch = default_arch, class Acc, class Out, std::size_t R>
void requantize(const tensor_view<Acc, R>& acc, const tensor_view<Out, R>& out, const vector_view<const float>& multipliers,
                const requantize_bounds& bounds, const vector_view<const std::int32_t>& bias = {}) {
  static_assert(std::is_same_v<std::remove_const_t<Acc>, std::int32_t>, "acc must be an int32 view");
  static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>, "out must be int8 or uint8");
  constexpr const char* where = "requantize";
  detail::check_same_extents(out, acc, where, "out", "acc");
  const index_t channels = acc.extent(R - 1);
  detail::check_channel_count(multipliers.extent(0), channels, true, false, where, "multipliers");
  detail::check_channel_count(bias.extent(0), channels, false, true, where, "bias");
  for (index_t c = 0; c < multipliers.extent(0); ++c) {
    const float m = multipliers(c);
    if (!(std::isfinite(m) && m > 0.0f)) fail(where, "multipliers[", static_cast<std::int64_t>(c), "] must be finite and > 0, got ", m);
  }
  constexpr std::int32_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
  check_range(bounds.zero_point, lo, hi, where, "bounds.zero_point");
  const float qmin = bounds.min_less_zero_point + static_cast<float>(bounds.zero_point);
  const float qmax = bounds.max_less_zero_point + static_cast<float>(bounds.zero_point);
  if (!(qmin >= static_cast<float>(lo) && qmax <= static_cast<float>(hi) && qmin <= qmax &&
        qmin == std::nearbyint(qmin) && qmax == std::nearbyint(qmax)))
    fail(where, "bounds [", qmin, ", ", qmax, "] must be integers with ", lo, " <= min <= max <= ", hi);
  check_no_alias(out, acc, where, "out", "acc");
  if (acc.empty()) return;
  std::vector<float> mult_copy;
  std::vector<std::int32_t> bias_copy;
  const float* mults = detail::channel_data(multipliers, mult_copy);
  const std::int32_t* bias_data = detail::channel_data(bias, bias_copy);
  const bool per_channel = multipliers.extent(0) != 1;
  const float uniform = mults[0];
  if (!per_channel && !bias_data && acc.is_contiguous() && out.is_contiguous()) {
    detail::requantize_row<Arch>(acc.data(), out.data(), acc.size(), uniform, nullptr, nullptr, bounds);
    return;
  }
  detail::for_each_row<R>(acc.extents(), [&](const extents_t<R>& index) {
    detail::run_row(static_cast<const std::int32_t*>(detail::row_pointer(acc, index)), acc.stride(R - 1),
                    detail::row_pointer(out, index), out.stride(R - 1), channels,
                    [&](const std::int32_t* in, Out* o, index_t n, index_t first) {
                      detail::requantize_row<Arch>(in, o, n, uniform, per_channel ? mults + first : nullptr,
                                                   bias_data ? bias_data + first : nullptr, bounds);
                    });
  });
}

/// out = fma(float(acc), scales[c], bias[c]) elementwise over views of the same extents.
/// `scales`: 1 value (per tensor) or one per channel of the last dimension, each finite and > 0
/// (typically input scale * weight scale[c]). `bias`: empty (0) or one float per channel.
template <class Arch = default_arch, class Acc, std::size_t R>
void dequantize_with_bias(const tensor_view<Acc, R>& acc, const tensor_view<float, R>& out,
                          const vector_view<const float>& scales, const vector_view<const float>& bias = {}) {
  static_assert(std::is_same_v<std::remove_const_t<Acc>, std::int32_t>, "acc must be an int32 view");
  constexpr const char* where = "dequantize_with_bias";
  detail::check_same_extents(out, acc, where, "out", "acc");
  const index_t channels = acc.extent(R - 1);
  detail::check_channel_count(scales.extent(0), channels, true, false, where, "scales");
  detail::check_channel_count(bias.extent(0), channels, false, true, where, "bias");
  for (index_t c = 0; c < scales.extent(0); ++c) {
    const float s = scales(c);
    if (!(std::isfinite(s) && s > 0.0f)) fail(where, "scales[", static_cast<std::int64_t>(c), "] must be finite and > 0, got ", s);
  }
  check_no_alias(out, acc, where, "out", "acc");
  if (acc.empty()) return;
  std::vector<float> scale_copy, bias_copy;
  const float* scale_data = detail::channel_data(scales, scale_copy);
  const float* bias_data = detail::channel_data(bias, bias_copy);
  const bool per_channel = scales.extent(0) != 1;
  const float uniform = scale_data[0];
  if (!per_channel && !bias_data && acc.is_contiguous() && out.is_contiguous()) {
    detail::dequantize_bias_row<Arch>(acc.data(), out.data(), acc.size(), uniform, nullptr, nullptr);
    return;
  }
  detail::for_each_row<R>(acc.extents(), [&](const extents_t<R>& index) {
    detail::run_row(static_cast<const std::int32_t*>(detail::row_pointer(acc, index)), acc.stride(R - 1),
                    detail::row_pointer(out, index), out.stride(R - 1), channels,
                    [&](const std::int32_t* in, float* o, index_t n, index_t first) {
                      detail::dequantize_bias_row<Arch>(in, o, n, uniform, per_channel ? scale_data + first : nullptr,
                                                        bias_data ? bias_data + first : nullptr);
                    });
  });
}

}  // namespace lightq

LIGHTQ_GCC_PR105593_END
