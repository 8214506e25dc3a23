// Quantize / dequantize float tensors (per-tensor, per-channel) and dynamic per-row int8
// quantization (qd8): scalar twins, one-register xsimd blocks, and whole-view functions.
//
// The contract (docs/quantization.md):
//   quantize:   q = clamp(round_half_even(clamp(nan_to_zero(x * inv_scale), qmin - zp, qmax - zp)) + zp)
//               with inv_scale = 1.0f / scale rounded once (multiply, never divide, on every backend)
//   dequantize: x = float(q - zp) * scale
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/xsimd_compat.hpp"
#include "lightq/quant/detail/simd_ops.hpp"
#include "lightq/quant/params.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {

// ---------------------------------------------------------------------------------------------
// Scalar twins (the specification) and one-register blocks.

/// Scalar twin: one float to the quantized integer (inside [qmin, qmax] of `b`).
/// NaN (also 0 * inf from a huge inv_scale) gives the zero point; +-Inf saturate.
LIGHTQ_ALWAYS_INLINE std::int32_t quantize_fp32(float x, float inv_scale, const requantize_bounds& b) noexcept {
  float y = x * inv_scale;
  if (std::isnan(y)) y = 0.0f;
  y = std::max(y, b.min_less_zero_point);
  y = std::min(y, b.max_less_zero_point);
  return static_cast<std::int32_t>(std::nearbyint(y)) + b.zero_point;
}

#if LIGHTQ_QUANT_XSIMD
/// One register of floats (xsimd batch of any backend): equal to the scalar twin lane by lane.
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<std::int32_t, A> quantize_fp32(const xsimd::batch<float, A>& x,
                                                                 const xsimd::batch<float, A>& inv_scale,
                                                                 const requantize_bounds& b) noexcept {
  using fb = xsimd::batch<float, A>;
  fb y = x * inv_scale;
  y = xsimd::select(xsimd::isnan(y), fb(0.0f), y);
  y = xsimd::max(y, fb(b.min_less_zero_point));
  y = xsimd::min(y, fb(b.max_less_zero_point));
  return xsimd::nearbyint_as_int(y) + xsimd::batch<std::int32_t, A>(b.zero_point);
}
#endif

/// Scalar twin: the real value of q (exact subtraction, exact conversion, one rounding).
LIGHTQ_ALWAYS_INLINE float dequantize_fp32(std::int32_t q, std::int32_t zero_point, float scale) noexcept {
  return static_cast<float>(q - zero_point) * scale;
}

#if LIGHTQ_QUANT_XSIMD
/// One register of integers: equal to the scalar twin lane by lane.
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<float, A> dequantize_fp32(const xsimd::batch<std::int32_t, A>& q,
                                                            const xsimd::batch<std::int32_t, A>& zero_point,
                                                            const xsimd::batch<float, A>& scale) noexcept {
  return xsimd::to_float(q - zero_point) * scale;
}
#endif

// ---------------------------------------------------------------------------------------------
// Row kernels: contiguous rows, one template per backend; the scalar backend is the twin.

namespace detail {

template <class Arch>
inline constexpr bool is_simd_arch_v = !std::is_void_v<xsimd_arch_t<Arch>>;

/// q[i] = quantize(x[i]) with one inv_scale, or inv_scales[i] when inv_scales is not null.
template <class Arch, class Q>
void quantize_row(const float* x, Q* q, index_t n, float inv_scale, const float* inv_scales,
                  const requantize_bounds& b) noexcept {
  if constexpr (!is_simd_arch_v<Arch>) {
    for (index_t i = 0; i < n; ++i)
      q[i] = static_cast<Q>(quantize_fp32(x[i], inv_scales ? inv_scales[i] : inv_scale, b));
  }
#if LIGHTQ_QUANT_XSIMD
  else {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb uniform(inv_scale);
    index_t i = 0;
    if (inv_scales) {
      for (; i + L <= n; i += L)
        store_narrow<A>(q + i, quantize_fp32(fb::load_unaligned(x + i), fb::load_unaligned(inv_scales + i), b));
    } else {
      for (; i + L <= n; i += L) store_narrow<A>(q + i, quantize_fp32(fb::load_unaligned(x + i), uniform, b));
    }
    if (i < n) {  // the tail goes through the same register code, padded on the stack
      alignas(64) float xt[L] = {};
      alignas(64) float st[L] = {};
      alignas(64) Q qt[L];
      const index_t r = n - i;
      for (index_t j = 0; j < r; ++j) {
        xt[j] = x[i + j];
        st[j] = inv_scales ? inv_scales[i + j] : inv_scale;
      }
      store_narrow<A>(qt, quantize_fp32(fb::load_aligned(xt), fb::load_aligned(st), b));
      std::memcpy(q + i, qt, static_cast<std::size_t>(r) * sizeof(Q));
    }
  }
#endif
}

/// y[i] = dequantize(q[i]) with one scale, or scales[i] when scales is not null.
template <class Arch, class Q>
void dequantize_row(const Q* q, float* y, index_t n, float scale, const float* scales, std::int32_t zero_point) noexcept {
  if constexpr (!is_simd_arch_v<Arch>) {
    for (index_t i = 0; i < n; ++i) y[i] = dequantize_fp32(q[i], zero_point, scales ? scales[i] : scale);
  }
#if LIGHTQ_QUANT_XSIMD
  else {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    using ib = xsimd::batch<std::int32_t, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb uniform(scale);
    const ib zp(zero_point);
    index_t i = 0;
    if (scales) {
      for (; i + L <= n; i += L)
        dequantize_fp32(load_widen<A>(q + i), zp, fb::load_unaligned(scales + i)).store_unaligned(y + i);
    } else {
      for (; i + L <= n; i += L) dequantize_fp32(load_widen<A>(q + i), zp, uniform).store_unaligned(y + i);
    }
    if (i < n) {
      alignas(64) Q qt[L] = {};
      alignas(64) float st[L] = {};
      alignas(64) float yt[L];
      const index_t r = n - i;
      for (index_t j = 0; j < r; ++j) {
        qt[j] = q[i + j];
        st[j] = scales ? scales[i + j] : scale;
      }
      dequantize_fp32(load_widen<A>(qt), zp, fb::load_aligned(st)).store_aligned(yt);
      std::memcpy(y + i, yt, static_cast<std::size_t>(r) * sizeof(float));
    }
  }
#endif
}

/// Smallest and largest finite value of x[0..n) with 0 included (non-finite values are skipped).
template <class Arch>
void finite_range_row(const float* x, index_t n, float& lo, float& hi) noexcept {
  constexpr float big = std::numeric_limits<float>::max();
  float mn = 0.0f, mx = 0.0f;
  index_t i = 0;
#if LIGHTQ_QUANT_XSIMD
  if constexpr (is_simd_arch_v<Arch>) {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb limit(big), zero(0.0f);
    auto finite = [&](const fb& v) { return xsimd::select(xsimd::abs(v) <= limit, v, zero); };  // NaN compares false
    // Four independent min/max chains: one chain is bound by the min/max latency, not the loads.
    fb vmn(0.0f), vmx(0.0f), vmn1(0.0f), vmx1(0.0f), vmn2(0.0f), vmx2(0.0f), vmn3(0.0f), vmx3(0.0f);
    for (; i + 4 * L <= n; i += 4 * L) {
      const fb f0 = finite(fb::load_unaligned(x + i)), f1 = finite(fb::load_unaligned(x + i + L));
      const fb f2 = finite(fb::load_unaligned(x + i + 2 * L)), f3 = finite(fb::load_unaligned(x + i + 3 * L));
      vmn = xsimd::min(vmn, f0);
      vmx = xsimd::max(vmx, f0);
      vmn1 = xsimd::min(vmn1, f1);
      vmx1 = xsimd::max(vmx1, f1);
      vmn2 = xsimd::min(vmn2, f2);
      vmx2 = xsimd::max(vmx2, f2);
      vmn3 = xsimd::min(vmn3, f3);
      vmx3 = xsimd::max(vmx3, f3);
    }
    for (; i + L <= n; i += L) {
      const fb f = finite(fb::load_unaligned(x + i));
      vmn = xsimd::min(vmn, f);
      vmx = xsimd::max(vmx, f);
    }
    vmn = xsimd::min(xsimd::min(vmn, vmn1), xsimd::min(vmn2, vmn3));
    vmx = xsimd::max(xsimd::max(vmx, vmx1), xsimd::max(vmx2, vmx3));
    alignas(64) float a[L], c[L];
    vmn.store_aligned(a);
    vmx.store_aligned(c);
    for (index_t j = 0; j < L; ++j) {
      mn = std::min(mn, a[j]);
      mx = std::max(mx, c[j]);
    }
  }
#endif
  for (; i < n; ++i) {
    const float v = x[i];
    if (std::fabs(v) <= big) {
      mn = std::min(mn, v);
      mx = std::max(mx, v);
    }
  }
  lo = mn;
  hi = mx;
}

/// quantize_row (one inv_scale) that also returns sum_i q[i] (exact in int32 for n < 2^24), in
/// the same pass: the row sums of qd8.
template <class Arch>
std::int32_t quantize_row_sum(const float* x, std::int8_t* q, index_t n, float inv_scale, const requantize_bounds& b) noexcept {
  std::int32_t s = 0;
  if constexpr (!is_simd_arch_v<Arch>) {
    for (index_t i = 0; i < n; ++i) {
      const std::int32_t v = quantize_fp32(x[i], inv_scale, b);
      q[i] = static_cast<std::int8_t>(v);
      s += v;
    }
  }
#if LIGHTQ_QUANT_XSIMD
  else {
    using A = xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    using ib = xsimd::batch<std::int32_t, A>;
    constexpr index_t L = static_cast<index_t>(fb::size);
    const fb uniform(inv_scale);
    ib acc(0);
    index_t i = 0;
    for (; i + L <= n; i += L) {
      const ib v = quantize_fp32(fb::load_unaligned(x + i), uniform, b);
      store_narrow<A>(q + i, v);
      acc += v;
    }
    alignas(64) std::int32_t lanes[L];
    acc.store_aligned(lanes);
    for (index_t j = 0; j < L; ++j) s += lanes[j];
    if (i < n) {
      alignas(64) float xt[L] = {};
      alignas(64) std::int32_t vt[L];
      const index_t r = n - i;
      for (index_t j = 0; j < r; ++j) xt[j] = x[i + j];
      quantize_fp32(fb::load_aligned(xt), uniform, b).store_aligned(vt);
      for (index_t j = 0; j < r; ++j) {  // only the real lanes count
        q[i + j] = static_cast<std::int8_t>(vt[j]);
        s += vt[j];
      }
    }
  }
#endif
  return s;
}

/// Calls f(index) for every index of dimensions 0..R-2 (index[R-1] stays 0); nothing if empty.
template <std::size_t R, class F>
void for_each_row(const extents_t<R>& extents, F&& f) {
  for (std::size_t d = 0; d < R; ++d)
    if (extents[d] == 0) return;
  extents_t<R> index{};
  for (;;) {
    f(static_cast<const extents_t<R>&>(index));
    std::size_t d = R - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++index[d] < extents[d]) break;
      index[d] = 0;
    }
  }
}

template <class T, std::size_t R>
T* row_pointer(const tensor_view<T, R>& v, const extents_t<R>& index) noexcept {
  index_t offset = 0;
  for (std::size_t d = 0; d < R; ++d) offset += index[d] * v.stride(d);
  return v.data() + offset;
}

/// Runs kernel(in, out, count, first) on a row of n elements; rows with non-unit strides are
/// gathered into stack chunks so that every element goes through the same kernel.
template <class In, class Out, class Kernel>
void run_row(const In* in, index_t in_stride, Out* out, index_t out_stride, index_t n, Kernel&& kernel) {
  if (in_stride == 1 && out_stride == 1) {
    kernel(in, out, n, index_t{0});
    return;
  }
  constexpr index_t chunk = 256;
  std::remove_const_t<In> in_buf[chunk];
  Out out_buf[chunk];
  for (index_t j0 = 0; j0 < n; j0 += chunk) {
    const index_t c = std::min(chunk, n - j0);
    for (index_t j = 0; j < c; ++j) in_buf[j] = in[(j0 + j) * in_stride];
    kernel(static_cast<const In*>(in_buf), static_cast<Out*>(out_buf), c, j0);
    for (index_t j = 0; j < c; ++j) out[(j0 + j) * out_stride] = out_buf[j];
  }
}

template <class A, class B, std::size_t R>
void check_same_extents(const tensor_view<A, R>& a, const tensor_view<B, R>& b, const char* where, const char* a_name,
                        const char* b_name) {
  if (a.extents() != b.extents())
    fail(where, a_name, " extents ", a.extents_string(), " must equal ", b_name, " extents ", b.extents_string());
}

template <std::size_t R>
void check_axis(index_t axis, index_t channels, index_t extent, const char* where) {
  check(axis < static_cast<index_t>(R), where, "params.axis() = ", static_cast<std::int64_t>(axis),
        " must be < rank ", static_cast<std::int64_t>(R));
  if (extent != channels)
    fail(where, "params.channels() (", static_cast<std::int64_t>(channels), ") must equal the extent of axis ",
         static_cast<std::int64_t>(axis), " (", static_cast<std::int64_t>(extent), ")");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Whole views.

/// Quantizes x into q (same extents, any rank and strides) with per-tensor params.
template <class Arch = default_arch, class In, class Out, std::size_t R, class DType>
void quantize(const tensor_view<In, R>& x, const tensor_view<Out, R>& q, const per_tensor_params<DType>& params) {
  static_assert(std::is_same_v<std::remove_const_t<In>, float>, "x must be a float view");
  static_assert(std::is_same_v<Out, storage_t<DType>>, "q's element type must be the storage type of DType");
  detail::check_same_extents(q, x, "quantize", "q", "x");
  check_no_alias(q, x, "quantize", "q", "x");
  const float inv = params.inv_scale();
  const requantize_bounds b = params.bounds();
  if (x.is_contiguous() && q.is_contiguous()) {
    detail::quantize_row<Arch>(x.data(), q.data(), x.size(), inv, nullptr, b);
    return;
  }
  detail::for_each_row<R>(x.extents(), [&](const extents_t<R>& index) {
    detail::run_row(detail::row_pointer(x, index), x.stride(R - 1), detail::row_pointer(q, index), q.stride(R - 1),
                    x.extent(R - 1), [&](const float* in, Out* out, index_t n, index_t) {
                      detail::quantize_row<Arch>(in, out, n, inv, nullptr, b);
                    });
  });
}

/// Quantizes x into q with per-channel (symmetric) params along params.axis().
template <class Arch = default_arch, class In, class Out, std::size_t R, class DType>
void quantize(const tensor_view<In, R>& x, const tensor_view<Out, R>& q, const per_channel_params<DType>& params) {
  static_assert(std::is_same_v<std::remove_const_t<In>, float>, "x must be a float view");
  static_assert(std::is_same_v<Out, storage_t<DType>>, "q's element type must be the storage type of DType");
  detail::check_same_extents(q, x, "quantize", "q", "x");
  const index_t axis = params.axis();
  detail::check_axis<R>(axis, params.channels(), axis < static_cast<index_t>(R) ? x.extent(static_cast<std::size_t>(axis)) : 0,
                        "quantize");
  check_no_alias(q, x, "quantize", "q", "x");
  const requantize_bounds b = params.bounds();
  const float* inv = params.inv_scales().data();
  const bool inner = axis == static_cast<index_t>(R) - 1;
  detail::for_each_row<R>(x.extents(), [&](const extents_t<R>& index) {
    const float row_inv = inner ? 1.0f : inv[index[static_cast<std::size_t>(axis)]];
    detail::run_row(detail::row_pointer(x, index), x.stride(R - 1), detail::row_pointer(q, index), q.stride(R - 1),
                    x.extent(R - 1), [&](const float* in, Out* out, index_t n, index_t first) {
                      detail::quantize_row<Arch>(in, out, n, row_inv, inner ? inv + first : nullptr, b);
                    });
  });
}

/// Dequantizes q into y (same extents) with per-tensor params.
template <class Arch = default_arch, class In, std::size_t R, class DType>
void dequantize(const tensor_view<In, R>& q, const tensor_view<float, R>& y, const per_tensor_params<DType>& params) {
  using Q = std::remove_const_t<In>;
  static_assert(std::is_same_v<Q, storage_t<DType>>, "q's element type must be the storage type of DType");
  detail::check_same_extents(y, q, "dequantize", "y", "q");
  check_no_alias(y, q, "dequantize", "y", "q");
  const float scale = params.scale();
  const std::int32_t zp = params.zero_point();
  if (q.is_contiguous() && y.is_contiguous()) {
    detail::dequantize_row<Arch>(static_cast<const Q*>(q.data()), y.data(), q.size(), scale, nullptr, zp);
    return;
  }
  detail::for_each_row<R>(q.extents(), [&](const extents_t<R>& index) {
    detail::run_row(static_cast<const Q*>(detail::row_pointer(q, index)), q.stride(R - 1), detail::row_pointer(y, index),
                    y.stride(R - 1), q.extent(R - 1), [&](const Q* in, float* out, index_t n, index_t) {
                      detail::dequantize_row<Arch>(in, out, n, scale, nullptr, zp);
                    });
  });
}

/// Dequantizes q into y with per-channel params along params.axis().
template <class Arch = default_arch, class In, std::size_t R, class DType>
void dequantize(const tensor_view<In, R>& q, const tensor_view<float, R>& y, const per_channel_params<DType>& params) {
  using Q = std::remove_const_t<In>;
  static_assert(std::is_same_v<Q, storage_t<DType>>, "q's element type must be the storage type of DType");
  detail::check_same_extents(y, q, "dequantize", "y", "q");
  const index_t axis = params.axis();
  detail::check_axis<R>(axis, params.channels(), axis < static_cast<index_t>(R) ? q.extent(static_cast<std::size_t>(axis)) : 0,
                        "dequantize");
  check_no_alias(y, q, "dequantize", "y", "q");
  const float* scales = params.scales().data();
  const bool inner = axis == static_cast<index_t>(R) - 1;
  detail::for_each_row<R>(q.extents(), [&](const extents_t<R>& index) {
    const float row_scale = inner ? 1.0f : scales[index[static_cast<std::size_t>(axis)]];
    detail::run_row(static_cast<const Q*>(detail::row_pointer(q, index)), q.stride(R - 1), detail::row_pointer(y, index),
                    y.stride(R - 1), q.extent(R - 1), [&](const Q* in, float* out, index_t n, index_t first) {
                      detail::dequantize_row<Arch>(in, out, n, row_scale, inner ? scales + first : nullptr, 0);
                    });
  });
}

// ---------------------------------------------------------------------------------------------
// Dynamic per-row quantization (qd8).

/// Parameters of one row quantized at run time: `real = scale * (q - zero_point)`, and
/// `row_sum = sum_k q[k]` (the stored int8 values, exact in int32), which a GEMM with weight zero
/// points or a shifted (u8) activation trick needs.
struct qd8_row_params {
  float scale;
  std::int32_t zero_point;
  std::int32_t row_sum;
};

/// The parameters qd8 gives a row whose finite values lie in [lo, hi] (lo <= 0 <= hi):
/// asymmetric_params_from_range<qd8>(lo, hi).
inline per_tensor_params<qd8> qd8_params_for_range(float lo, float hi) {
  return asymmetric_params_from_range<qd8>(lo, hi);
}

/// Quantizes each row m of x [M, K] to int8 with its own asymmetric scale and zero point chosen
/// from the row's finite values (range widened to include 0; NaN -> zero point, +-Inf saturate),
/// writing q [M, K] and rows[m] = {scale, zero_point, row_sum}. K must be < 2^24.
template <class Arch = default_arch, class In>
void quantize_dynamic_rows(const matrix_view<In>& x, const matrix_view<std::int8_t>& q,
                           const vector_view<qd8_row_params>& rows) {
  static_assert(std::is_same_v<std::remove_const_t<In>, float>, "x must be a float view");
  detail::check_same_extents(q, x, "quantize_dynamic_rows", "q", "x");
  check_equal(rows.extent(0), x.extent(0), "quantize_dynamic_rows", "rows.extent(0)", "x.extent(0)");
  check(x.extent(1) < (index_t{1} << 24), "quantize_dynamic_rows", "K = x.extent(1) = ",
        static_cast<std::int64_t>(x.extent(1)), " must be < 2^24 so that row sums are exact");
  check_no_alias(q, x, "quantize_dynamic_rows", "q", "x");
  check_no_alias(rows, x, "quantize_dynamic_rows", "rows", "x");
  check_no_alias(rows, q, "quantize_dynamic_rows", "rows", "q");
  const index_t m_count = x.extent(0), k_count = x.extent(1);
  const bool unit = x.stride(1) == 1 || k_count <= 1;
  for (index_t m = 0; m < m_count; ++m) {
    const float* xr = x.data() + m * x.stride(0);
    std::int8_t* qr = q.data() + m * q.stride(0);
    float lo = 0.0f, hi = 0.0f;
    if (unit) {
      detail::finite_range_row<Arch>(xr, k_count, lo, hi);
    } else {
      constexpr index_t chunk = 256;
      float buf[chunk];
      for (index_t k0 = 0; k0 < k_count; k0 += chunk) {
        const index_t c = std::min(chunk, k_count - k0);
        for (index_t j = 0; j < c; ++j) buf[j] = xr[(k0 + j) * x.stride(1)];
        float l = 0.0f, h = 0.0f;
        detail::finite_range_row<Arch>(buf, c, l, h);
        lo = std::min(lo, l);
        hi = std::max(hi, h);
      }
    }
    const per_tensor_params<qd8> p = qd8_params_for_range(lo, hi);
    const float inv = p.inv_scale();
    const requantize_bounds b = p.bounds();
    std::int32_t sum = 0;
    detail::run_row(xr, x.stride(1), qr, q.stride(1), k_count, [&](const float* in, std::int8_t* out, index_t n, index_t) {
      sum += detail::quantize_row_sum<Arch>(in, out, n, inv, b);
    });
    rows(m) = qd8_row_params{p.scale(), p.zero_point(), sum};
  }
}

}  // namespace lightq

LIGHTQ_GCC_PR105593_END
