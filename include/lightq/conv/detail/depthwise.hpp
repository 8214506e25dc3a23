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
/// AVX2 int8 depthwise pixel with taps in pairs: every tap is present (padding taps read a row of
/// zero points), 16 channels per step. The bytes of two taps are interleaved (punpck{l,h}bw) and
/// widened to int16 pairs (x_2p[c], x_2p+1[c]), each multiplied by the packed int16 weight pair
/// of channel c with vpmaddwd: exact products (|x| <= 255, |w| <= 127), pair sums <= 64770, int32
/// accumulators in channel order. The bias carries -zx * sum_t w_t. np pairs, x has 2 * np
/// valid pointers.
template <class Arch, index_t NP, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel_pairs(const T* const* x, index_t np_runtime, index_t channels,
                                                   const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                   const float* scale, Out* out, const conv_output_stage& st) noexcept {
  using ib = conv_ibatch<Arch>;
  constexpr index_t cap = NP > 0 ? NP : 32;
  const index_t np = NP > 0 ? NP : np_runtime;
  const conv_output_stage stage = st;
  const T* xs[2 * cap];
  for (index_t t = 0; t < 2 * np; ++t) xs[t] = x[t];
  auto widen = [](__m128i v) { return std::is_same_v<T, std::int8_t> ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v); };
  for (index_t c = 0; c < channels; c += 16) {
    const index_t rest = std::min<index_t>(16, channels - c);
    __m256i acc0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
    __m256i acc1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c + 8));
    for (index_t p = 0; p < np; ++p) {
      __m128i x0, x1;
      if (rest == 16) {
        x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xs[2 * p] + c));
        x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xs[2 * p + 1] + c));
      } else {  // channel tail: never read past the input's channels
        alignas(16) T t0[16] = {}, t1[16] = {};
        std::memcpy(t0, xs[2 * p] + c, static_cast<std::size_t>(rest));
        std::memcpy(t1, xs[2 * p + 1] + c, static_cast<std::size_t>(rest));
        x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(t0));
        x1 = _mm_load_si128(reinterpret_cast<const __m128i*>(t1));
      }
      const std::int32_t* wp = w + p * cp + c;
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(widen(_mm_unpacklo_epi8(x0, x1)),
                                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp))));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(widen(_mm_unpackhi_epi8(x0, x1)),
                                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 8))));
    }
    store_q8_stage<Arch>(ib(acc0), scale + c, out + c, std::min<index_t>(8, rest), stage);
    if (rest > 8) store_q8_stage<Arch>(ib(acc1), scale + c + 8, out + c + 8, rest - 8, stage);
  }
}
#endif

#if defined(LIGHTQ_HAS_AVX512_VNNI)
/// The vector operations of the quad depthwise kernel on 64 channels (zmm) or 32 (ymm, AVX-512 VL:
/// channel tails of at most 32 do not pay for 64). The byte unpacks work in 128-bit lanes, so a
/// ymm step over the first 32 channels of a 64-channel block finds its weights, bias and scale at
/// the same offsets (16 * j) as the zmm step, 8 instead of 16 of them.
template <bool Wide>
struct quad_ops;

template <>
struct quad_ops<true> {
  using vec = __m512i;
  using mask = __mmask64;
  using arch_tag = arch::avx512_vnni;
  using xarch = xsimd_arch_t<arch_tag>;
  static constexpr index_t channels = 64;
  static vec load_bytes(mask m, const void* p) noexcept { return _mm512_maskz_loadu_epi8(m, p); }
  static vec load(const std::int32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static vec bytes(std::int8_t v) noexcept { return _mm512_set1_epi8(v); }
  static vec bit_xor(vec a, vec b) noexcept { return _mm512_xor_si512(a, b); }
  static vec unpacklo8(vec a, vec b) noexcept { return _mm512_unpacklo_epi8(a, b); }
  static vec unpackhi8(vec a, vec b) noexcept { return _mm512_unpackhi_epi8(a, b); }
  static vec unpacklo16(vec a, vec b) noexcept { return _mm512_unpacklo_epi16(a, b); }
  static vec unpackhi16(vec a, vec b) noexcept { return _mm512_unpackhi_epi16(a, b); }
  static vec dpbusd(vec acc, vec a, vec b) noexcept { return _mm512_dpbusd_epi32(acc, a, b); }
  static vec packs32(vec a, vec b) noexcept { return _mm512_packs_epi32(a, b); }
  static vec packs16(vec a, vec b) noexcept { return _mm512_packs_epi16(a, b); }
  static vec packus16(vec a, vec b) noexcept { return _mm512_packus_epi16(a, b); }
  static void store_bytes(void* p, mask m, vec v) noexcept { _mm512_mask_storeu_epi8(p, m, v); }
  /// y_j (lane L: channels 16 L + 4 j .. + 3) to channel order: transpose the 4x4 128-bit lanes.
  static void to_channel_order(__m512 y[4]) noexcept {
    const __m512 t0 = _mm512_shuffle_f32x4(y[0], y[1], 0x44), t1 = _mm512_shuffle_f32x4(y[2], y[3], 0x44);
    const __m512 t2 = _mm512_shuffle_f32x4(y[0], y[1], 0xEE), t3 = _mm512_shuffle_f32x4(y[2], y[3], 0xEE);
    y[0] = _mm512_shuffle_f32x4(t0, t1, 0x88);
    y[1] = _mm512_shuffle_f32x4(t0, t1, 0xDD);
    y[2] = _mm512_shuffle_f32x4(t2, t3, 0x88);
    y[3] = _mm512_shuffle_f32x4(t2, t3, 0xDD);
  }
};

template <>
struct quad_ops<false> {
  using vec = __m256i;
  using mask = __mmask32;
  using arch_tag = arch::avx2;
  using xarch = xsimd_arch_t<arch_tag>;
  static constexpr index_t channels = 32;
  static vec load_bytes(mask m, const void* p) noexcept { return _mm256_maskz_loadu_epi8(m, p); }
  static vec load(const std::int32_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static vec bytes(std::int8_t v) noexcept { return _mm256_set1_epi8(v); }
  static vec bit_xor(vec a, vec b) noexcept { return _mm256_xor_si256(a, b); }
  static vec unpacklo8(vec a, vec b) noexcept { return _mm256_unpacklo_epi8(a, b); }
  static vec unpackhi8(vec a, vec b) noexcept { return _mm256_unpackhi_epi8(a, b); }
  static vec unpacklo16(vec a, vec b) noexcept { return _mm256_unpacklo_epi16(a, b); }
  static vec unpackhi16(vec a, vec b) noexcept { return _mm256_unpackhi_epi16(a, b); }
  static vec dpbusd(vec acc, vec a, vec b) noexcept { return _mm256_dpbusd_epi32(acc, a, b); }
  static vec packs32(vec a, vec b) noexcept { return _mm256_packs_epi32(a, b); }
  static vec packs16(vec a, vec b) noexcept { return _mm256_packs_epi16(a, b); }
  static vec packus16(vec a, vec b) noexcept { return _mm256_packus_epi16(a, b); }
  static void store_bytes(void* p, mask m, vec v) noexcept { _mm256_mask_storeu_epi8(p, m, v); }
  /// y_j (lane L: channels 16 L + 4 j .. + 3) to channel order: transpose 2x2 of 128-bit lanes.
  static void to_channel_order(__m256 y[4]) noexcept {
    const __m256 y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];
    y[0] = _mm256_permute2f128_ps(y0, y1, 0x20);
    y[1] = _mm256_permute2f128_ps(y2, y3, 0x20);
    y[2] = _mm256_permute2f128_ps(y0, y1, 0x31);
    y[3] = _mm256_permute2f128_ps(y2, y3, 0x31);
  }
};

/// One step of the quad depthwise kernel: channels [c, c + rest) with rest <= Ops::channels, c a
/// multiple of 64 unless Ops is the zmm one (see depthwise_q8_pixel_quads).
template <class Ops, index_t NQ, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_quads_step(const T* const* xs, index_t nq, index_t c, index_t rest,
                                               const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                               const float* scale, Out* out, const conv_output_stage& stage) noexcept {
  using vec = typename Ops::vec;
  using mask_t = typename Ops::mask;
  using ib = xsimd::batch<std::int32_t, typename Ops::xarch>;
  using fb = xsimd::batch<float, typename Ops::xarch>;
  const mask_t mask = rest == Ops::channels ? static_cast<mask_t>(~mask_t{0}) : static_cast<mask_t>((mask_t{1} << rest) - 1);
  const vec flip = Ops::bytes(std::is_same_v<T, std::int8_t> ? std::int8_t{-128} : std::int8_t{0});
  vec acc0 = Ops::load(bias + c), acc1 = Ops::load(bias + c + 16), acc2 = Ops::load(bias + c + 32),
      acc3 = Ops::load(bias + c + 48);
  for (index_t q = 0; q < (NQ > 0 ? NQ : nq); ++q) {
    const vec x0 = Ops::bit_xor(Ops::load_bytes(mask, xs[4 * q] + c), flip);
    const vec x1 = Ops::bit_xor(Ops::load_bytes(mask, xs[4 * q + 1] + c), flip);
    const vec x2 = Ops::bit_xor(Ops::load_bytes(mask, xs[4 * q + 2] + c), flip);
    const vec x3 = Ops::bit_xor(Ops::load_bytes(mask, xs[4 * q + 3] + c), flip);
    const vec lo01 = Ops::unpacklo8(x0, x1), hi01 = Ops::unpackhi8(x0, x1);
    const vec lo23 = Ops::unpacklo8(x2, x3), hi23 = Ops::unpackhi8(x2, x3);
    const std::int32_t* wq = w + q * cp + c;
    acc0 = Ops::dpbusd(acc0, Ops::unpacklo16(lo01, lo23), Ops::load(wq));
    acc1 = Ops::dpbusd(acc1, Ops::unpackhi16(lo01, lo23), Ops::load(wq + 16));
    acc2 = Ops::dpbusd(acc2, Ops::unpacklo16(hi01, hi23), Ops::load(wq + 32));
    acc3 = Ops::dpbusd(acc3, Ops::unpackhi16(hi01, hi23), Ops::load(wq + 48));
  }
  if constexpr (std::is_same_v<Out, float>) {
    const vec acc[4] = {acc0, acc1, acc2, acc3};
    constexpr index_t width = static_cast<index_t>(fb::size);
    typename fb::register_type y[4];
    for (int j = 0; j < 4; ++j)
      y[j] = xsimd::min(xsimd::max(xsimd::to_float(ib(acc[j])) * fb::load_unaligned(scale + c + 16 * j), fb(stage.min)),
                        fb(stage.max));
    Ops::to_channel_order(y);
    for (index_t j = 0; j * width < rest; ++j)
      store_float_n<typename Ops::arch_tag>(fb(y[j]), out + c + width * j, std::min<index_t>(width, rest - width * j));
  } else {
    auto requantize = [&](vec a, index_t j) -> vec {
      return requantize_fp32(ib(a), fb::load_unaligned(scale + c + 16 * j), stage.bounds);
    };
    const vec p01 = Ops::packs32(requantize(acc0, 0), requantize(acc1, 1));
    const vec p23 = Ops::packs32(requantize(acc2, 2), requantize(acc3, 3));
    Ops::store_bytes(out + c, mask, std::is_same_v<Out, std::int8_t> ? Ops::packs16(p01, p23) : Ops::packus16(p01, p23));
  }
}

/// The ymm step for a channel tail of at most 32, out of line: inlined beside the zmm loop it
/// makes gcc 12 keep the tap pointers in vector registers and slows every pixel down by a third.
template <index_t NQ, class T, class Out>
LIGHTQ_NOINLINE void depthwise_quads_tail(const T* const* xs, index_t nq, index_t c, index_t rest, const std::int32_t* w,
                                          index_t cp, const std::int32_t* bias, const float* scale, Out* out,
                                          const conv_output_stage& stage) noexcept {
  depthwise_quads_step<quad_ops<false>, NQ>(xs, nq, c, rest, w, cp, bias, scale, out, stage);
}

/// AVX-512 VNNI int8 depthwise pixel with taps in quads: every tap is present (padding taps read
/// a row of zero points), 64 channels per step (a tail of at most 32 in ymm). The bytes of four
/// taps (qs8 shifted to uint8 by XOR 0x80) are interleaved with two rounds of unpacks into four
/// registers of uint8 quads, each multiplied by its int8 weight quads with vpdpbusd: exact sums
/// of four products (|u8 * s8| <= 32385) into int32, modulo 2^32 (the bias carries
/// -(zx + shift) * sum_t w_t, pack_conv_depthwise_groups<4>). The accumulators hold channels in the
/// order of depthwise_quad_slot (bias and scale come in that order); the int8 output is put back
/// in channel order by the saturating packs (exact: values already in range), the fp32 one by a
/// transpose of 128-bit lanes. nq quads, x has 4 * nq valid pointers.
template <class Arch, index_t NQ, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel_quads(const T* const* x, index_t nq_runtime, index_t channels,
                                                   const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                   const float* scale, Out* out, const conv_output_stage& st) noexcept {
  constexpr index_t cap = NQ > 0 ? NQ : 16;
  const index_t nq = NQ > 0 ? NQ : nq_runtime;
  const conv_output_stage stage = st;
  const T* xs[4 * cap];
  for (index_t t = 0; t < 4 * nq; ++t) xs[t] = x[t];
  index_t c = 0;
  for (; c + 32 < channels; c += 64)
    depthwise_quads_step<quad_ops<true>, NQ>(xs, nq, c, std::min<index_t>(64, channels - c), w, cp, bias, scale, out, stage);
  if (c < channels) depthwise_quads_tail<NQ>(xs, nq, c, channels - c, w, cp, bias, scale, out, stage);
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

/// conv_depthwise_rows for the kernels that read every tap (padding taps read `pad_row`, a row of
/// zero points): `pixel(x_ptrs, out)` gets KH * KW input pointers in tap order followed by three
/// more `pad_row` (partners of the last pair or quad). KH, KW > 0: compile-time window (unrolled);
/// 0: the shape's. The input rows of the window are found once per output row.
template <index_t KH, index_t KW, class T, class Out, class Pixel>
void conv_depthwise_rows_padded(const conv2d_shape& s, const tensor_view<const T, 4>& in, const tensor_view<Out, 4>& out,
                                context& ctx, Pixel pixel, const T* pad_row) {
  const index_t rows = s.n * s.oh;
  const index_t tasks = std::min(ctx.threads(), rows);
  const index_t kh = KH > 0 ? KH : s.kh, kw = KW > 0 ? KW : s.kw;
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(rows, tasks, task);
    const T* x[68];
    const T* row_ptr[64];
    const index_t pixel_stride = in.stride(2), dw = s.dw, w = s.w;
    for (index_t row = range.first; row < range.second; ++row) {
      const index_t n = row / s.oh, oy = row % s.oh;
      for (index_t ky = 0; ky < kh; ++ky) {
        const index_t iy = oy * s.sh - s.pt + ky * s.dh;
        row_ptr[ky] = iy >= 0 && iy < s.h ? &in(n, iy, 0, 0) : nullptr;
      }
      for (index_t t = kh * kw; t < kh * kw + 3; ++t) x[t] = pad_row;
      Out* o = &out(n, oy, 0, 0);
      const index_t out_stride = out.stride(2);
      for (index_t ox = 0; ox < s.ow; ++ox, o += out_stride) {
        const index_t ix0 = ox * s.sw - s.pl;
        const bool columns_inside = ix0 >= 0 && ix0 + (kw - 1) * dw < w;
        for (index_t ky = 0; ky < kh; ++ky) {
          const T* r = row_ptr[ky];
          for (index_t kx = 0; kx < kw; ++kx) {
            const index_t ix = ix0 + kx * dw;
            const bool inside = r && (columns_inside || (ix >= 0 && ix < w));
            x[ky * kw + kx] = inside ? r + ix * pixel_stride : pad_row;
          }
        }
        pixel(static_cast<const T* const*>(x), o);
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
