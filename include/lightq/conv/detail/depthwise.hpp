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
    constexpr index_t cap = NT > 0 ? NT : 64;
    // Local copies: the int8 stores below may alias anything, so values read through the
    // arguments would be reloaded for every channel block.
    const conv_output_stage stage = st;
    const T* xs[cap];
    const std::int32_t* ws[cap];
    for (index_t t = 0; t < nt; ++t) {
      xs[t] = x[t];
      ws[t] = w + tap[t] * cp;
    }
    const ib zxv(zx);
    index_t c = 0;
    for (; c + B <= channels; c += B) {
      ib acc = ib::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t) acc += (load_widen<Arch>(xs[t] + c) - zxv) * ib::load_unaligned(ws[t] + c);
      store_q8_stage<Arch>(acc, scale + c, out + c, B, stage);
    }
    if (c < channels) {
      const index_t rest = channels - c;
      ib acc = ib::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t)
        acc += (load_widen_partial<Arch>(xs[t] + c, rest) - zxv) * ib::load_unaligned(ws[t] + c);
      store_q8_stage<Arch>(acc, scale + c, out + c, rest, stage);
    }
  }
#endif
}

#if defined(LIGHTQ_HAS_AVX2)
/// x86 int8 depthwise pixel with taps in pairs: every tap is present (padding taps read a row of
/// zero points), int8 inputs widen to int32 lanes, the pair (x_2p, x_2p+1) is packed into the two
/// int16 halves of each lane and multiplied by the packed weight pair with vpmaddwd (avx2) or
/// vpdpwssd (avx512_vnni): exact products (|x| <= 255, |w| <= 127), int32 sums. The bias carries
/// -zx * sum_t w_t. np pairs, x has 2 * np valid pointers.
template <class Arch, index_t NP, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel_pairs(const T* const* x, index_t np_runtime, index_t channels,
                                                   const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                   const float* scale, Out* out, const conv_output_stage& st) noexcept {
  using ib = conv_ibatch<Arch>;
  constexpr index_t B = static_cast<index_t>(ib::size);
  constexpr index_t cap = NP > 0 ? NP : 32;
  const index_t np = NP > 0 ? NP : np_runtime;
  const conv_output_stage stage = st;
  const T* xs[2 * cap];
  const std::int32_t* ws[cap];
  for (index_t p = 0; p < np; ++p) {
    xs[2 * p] = x[2 * p];
    xs[2 * p + 1] = x[2 * p + 1];
    ws[p] = w + p * cp;
  }
  auto pair_madd = [](ib acc, ib lo, ib hi, ib wv) -> ib {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
    if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
      const __m512i packed = _mm512_mask_blend_epi16(0xAAAAAAAAu, lo, _mm512_slli_epi32(hi, 16));
      return _mm512_dpwssd_epi32(acc, packed, wv);
    } else
#endif
    {
      const __m256i packed = _mm256_blend_epi16(lo, _mm256_slli_epi32(hi, 16), 0xAA);
      return _mm256_add_epi32(acc, _mm256_madd_epi16(packed, wv));
    }
  };
  index_t c = 0;
  for (; c + B <= channels; c += B) {
    ib acc = ib::load_unaligned(bias + c);
    for (index_t p = 0; p < np; ++p)
      acc = pair_madd(acc, load_widen<Arch>(xs[2 * p] + c), load_widen<Arch>(xs[2 * p + 1] + c), ib::load_unaligned(ws[p] + c));
    store_q8_stage<Arch>(acc, scale + c, out + c, B, stage);
  }
  if (c < channels) {
    const index_t rest = channels - c;
    ib acc = ib::load_unaligned(bias + c);
    for (index_t p = 0; p < np; ++p)
      acc = pair_madd(acc, load_widen_partial<Arch>(xs[2 * p] + c, rest), load_widen_partial<Arch>(xs[2 * p + 1] + c, rest),
                      ib::load_unaligned(ws[p] + c));
    store_q8_stage<Arch>(acc, scale + c, out + c, rest, stage);
  }
}
#endif

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
    constexpr index_t cap = NT > 0 ? NT : 64;
    const float* xs[cap];
    const float* ws[cap];
    for (index_t t = 0; t < nt; ++t) {
      xs[t] = x[t];
      ws[t] = w + tap[t] * cp;
    }
    const fb lo(st.min), hi(st.max);
    index_t c = 0;
    for (; c + B <= channels; c += B) {
      // Three partial sums: a 9-tap chain of dependent FMAs would be latency-bound.
      fb acc0 = fb::load_unaligned(bias + c), acc1(0.0f), acc2(0.0f);
      index_t t = 0;
      for (; t + 3 <= nt; t += 3) {
        acc0 = xsimd::fma(fb::load_unaligned(xs[t] + c), fb::load_unaligned(ws[t] + c), acc0);
        acc1 = xsimd::fma(fb::load_unaligned(xs[t + 1] + c), fb::load_unaligned(ws[t + 1] + c), acc1);
        acc2 = xsimd::fma(fb::load_unaligned(xs[t + 2] + c), fb::load_unaligned(ws[t + 2] + c), acc2);
      }
      for (; t < nt; ++t) acc0 = xsimd::fma(fb::load_unaligned(xs[t] + c), fb::load_unaligned(ws[t] + c), acc0);
      xsimd::min(xsimd::max(acc0 + (acc1 + acc2), lo), hi).store_unaligned(out + c);
    }
    if (c < channels) {
      const index_t rest = channels - c;
      fb acc = fb::load_unaligned(bias + c);
      for (index_t t = 0; t < nt; ++t) {
        alignas(64) float tmp[B] = {};
        std::memcpy(tmp, xs[t] + c, static_cast<std::size_t>(rest) * sizeof(float));
        acc = xsimd::fma(fb::load_aligned(tmp), fb::load_unaligned(ws[t] + c), acc);
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
                         context& ctx, Pixel pixel, const T* pad_row = nullptr) {
  const index_t rows = s.n * s.oh;
  const index_t tasks = std::min(ctx.threads(), rows);
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(rows, tasks, task);
    const T* x[66];
    depthwise_taps taps;
    for (index_t row = range.first; row < range.second; ++row) {
      const index_t n = row / s.oh, oy = row % s.oh;
      for (index_t ox = 0; ox < s.ow; ++ox) {
        taps.count = 0;
        for (index_t ky = 0; ky < s.kh; ++ky) {
          const index_t iy = oy * s.sh - s.pt + ky * s.dh;
          const bool row_inside = iy >= 0 && iy < s.h;
          if (!row_inside && !pad_row) continue;
          for (index_t kx = 0; kx < s.kw; ++kx) {
            const index_t ix = ox * s.sw - s.pl + kx * s.dw;
            if (row_inside && ix >= 0 && ix < s.w) {
              x[taps.count] = &in(n, iy, ix, 0);
            } else if (pad_row) {
              x[taps.count] = pad_row;  // padding reads the zero point (all taps present)
            } else {
              continue;
            }
            taps.tap[taps.count++] = ky * s.kw + kx;
          }
        }
        if (pad_row) x[taps.count] = pad_row;  // partner of an odd last tap (weight 0)
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
