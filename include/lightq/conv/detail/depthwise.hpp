// Depthwise conv2d (groups == channels): one SIMD kernel over channels for every kernel size,
// stride and dilation, specialised at compile time for full 3x3 and 5x5 windows; int8 (exact
// int32: widened products, requantize_fp32) and fp32 (FMA); the scalar twin is the same loop
// without SIMD types.
#pragma once

#include <algorithm>
#include <cstdint>

#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/detail/simd_io.hpp"
#include "lightq/conv/detail/tile.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*
// placeholders) once they are inlined here; a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lightq {
namespace detail {

/// The taps of one output pixel that fall inside the input: input pointers and tap indices.
/// Taps in the padding are left out (they read the zero point: centered value 0).
struct depthwise_taps {
  index_t count = 0;
  index_t tap[64];
};

/// One output pixel of an int8 depthwise convolution: acc[c] = bias[c] + sum_t (x_t[c] - zx) *
/// w[tap_t][c] for every channel c < C, then the output stage. NT > 0: exactly NT taps (full window).
template <class Arch, index_t NT, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel(const T* const* x, const index_t* tap, index_t ntaps, index_t channels,
                                             std::int32_t zx, const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                             const float* scale, Out* out, const conv_output_stage& st) noexcept {
  const index_t nt = NT > 0 ? NT : ntaps;
  if constexpr (!conv_simd_v<Arch>) {
    for (index_t c = 0; c < channels; ++c) {
      std::int32_t acc = bias[c];
      for (index_t t = 0; t < nt; ++t) acc += (static_cast<std::int32_t>(x[t][c]) - zx) * w[tap[t] * cp + c];
      out[c] = conv_store_q8<Out>(acc, scale[c], st);
    }
  }
#if defined(LIGHTQ_XSIMD_AVAILABLE)
  else {
    using ib = conv_ibatch<Arch>;
    constexpr index_t B = static_cast<index_t>(ib::size);
    const ib zxv(zx);
    index_t c = 0;
    for (; c + B <= channels; c += B) {
      ib acc = ib::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t)
        acc += (load_widen<Arch>(x[t] + c) - zxv) * ib::load_unaligned(w + tap[t] * cp + c);
      store_q8_stage<Arch>(acc, scale + c, out + c, B, st);
    }
    if (c < channels) {
      const index_t rest = channels - c;
      ib acc = ib::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t)
        acc += (load_widen_partial<Arch>(x[t] + c, rest) - zxv) * ib::load_unaligned(w + tap[t] * cp + c);
      store_q8_stage<Arch>(acc, scale + c, out + c, rest, st);
    }
  }
#endif
}

/// One output pixel of an fp32 depthwise convolution: clamp(bias[c] + sum_t x_t[c] * w[tap_t][c]).
template <class Arch, index_t NT>
LIGHTQ_ALWAYS_INLINE void depthwise_f32_pixel(const float* const* x, const index_t* tap, index_t ntaps, index_t channels,
                                              const float* w, index_t cp, const float* bias, float* out,
                                              const conv_output_stage& st) noexcept {
  const index_t nt = NT > 0 ? NT : ntaps;
  if constexpr (!conv_simd_v<Arch>) {
    for (index_t c = 0; c < channels; ++c) {
      float acc = bias[c];
      for (index_t t = 0; t < nt; ++t) acc += x[t][c] * w[tap[t] * cp + c];
      out[c] = std::min(std::max(acc, st.min), st.max);
    }
  }
#if defined(LIGHTQ_XSIMD_AVAILABLE)
  else {
    using fb = conv_fbatch<Arch>;
    constexpr index_t B = static_cast<index_t>(fb::size);
    const fb lo(st.min), hi(st.max);
    index_t c = 0;
    for (; c + B <= channels; c += B) {
      fb acc = fb::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t) acc = xsimd::fma(fb::load_unaligned(x[t] + c), fb::load_unaligned(w + tap[t] * cp + c), acc);
      xsimd::min(xsimd::max(acc, lo), hi).store_unaligned(out + c);
    }
    if (c < channels) {
      const index_t rest = channels - c;
      fb acc = fb::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t) {
        alignas(64) float tmp[B] = {};
        std::memcpy(tmp, x[t] + c, static_cast<std::size_t>(rest) * sizeof(float));
        acc = xsimd::fma(fb::load_aligned(tmp), fb::load_unaligned(w + tap[t] * cp + c), acc);
      }
      store_float_n<Arch>(xsimd::min(xsimd::max(acc, lo), hi), out + c, rest);
    }
  }
#endif
}

/// Runs a depthwise convolution over output rows split across the context's threads.
/// `pixel(x_ptrs, taps, ntaps_or_full, out)` computes one output pixel; full windows of 9 or 25
/// taps call the compile-time specialisations.
template <class T, class Out, class Pixel>
void conv_depthwise_rows(const conv2d_shape& s, const tensor_view<const T, 4>& in, const tensor_view<Out, 4>& out,
                         context& ctx, Pixel pixel) {
  const index_t rows = s.n * s.oh;
  const index_t tasks = std::min(ctx.threads(), rows);
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(rows, tasks, task);
    const T* x[64];
    depthwise_taps taps;
    for (index_t row = range.first; row < range.second; ++row) {
      const index_t n = row / s.oh, oy = row % s.oh;
      for (index_t ox = 0; ox < s.ow; ++ox) {
        taps.count = 0;
        for (index_t ky = 0; ky < s.kh; ++ky) {
          const index_t iy = oy * s.sh - s.pt + ky * s.dh;
          if (iy < 0 || iy >= s.h) continue;
          for (index_t kx = 0; kx < s.kw; ++kx) {
            const index_t ix = ox * s.sw - s.pl + kx * s.dw;
            if (ix < 0 || ix >= s.w) continue;
            x[taps.count] = &in(n, iy, ix, 0);
            taps.tap[taps.count++] = ky * s.kw + kx;
          }
        }
        pixel(x, taps.tap, taps.count, &out(n, oy, ox, 0));
      }
    }
  });
}

/// True when a depthwise kernel of KH x KW taps fits the fixed tap arrays (64 taps).
inline bool depthwise_taps_fit(index_t kh, index_t kw) noexcept { return kh * kw <= 64; }

}  // namespace detail
}  // namespace lightq

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
