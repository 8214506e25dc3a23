// Depthwise conv2d (groups == channels): one SIMD kernel over channels for every kernel size,
// stride and dilation, specialised at compile time for full 3x3 and 5x5 windows; int8 (exact
// int32: widened products, requantize_fp32) and fp32 (FMA); the scalar twin is the same loop
// without SIMD types.
#pragma once

#include <algorithm>
#include <cstdint>

#include "lightq/config.hpp"
#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/detail/pack.hpp"
#include "lightq/conv/detail/simd_io.hpp"
#include "lightq/conv/detail/tile.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// The taps of one output pixel that fall inside the input: input pointers and tap indices.
/// Taps in the padding are left out (they read the zero point: centered value 0).
struct depthwise_taps {
  index_t count = 0;
  index_t tap[64];
};

/// A run of output pixels along one output row of a 3x3 depthwise convolution, handed to the
/// kernels in the pixel callback's x array as a pointer converted to const T* (the callback's only
/// argument besides the output): by conv_depthwise_rows_padded in x[3 * 3 + 3] (the whole row), by
/// conv_depthwise_rows (fp32) in x[9] (the pixels whose window lies inside the input). Input column ix of window row ky is at rows[ky] + ix * column_step[ky]
/// when 0 <= ix < w; outside the input (or for a padding row: column_step 0, rows[ky] = pad) the
/// pad row (zero points) stands in. Output pixel o reads columns ix0 + o * stride + kx * dilation
/// and is written at out + o * out_step.
template <class T>
struct depthwise_row_run {
  const T* rows[3];
  index_t column_step[3];
  const T* pad;
  index_t ix0, w, stride, dilation, pixels, out_step;

  /// The input pointer of window row ky at input column ix (the pad row outside the input).
  const T* at(index_t ky, index_t ix) const noexcept {
    return static_cast<std::size_t>(ix) < static_cast<std::size_t>(w) ? rows[ky] + ix * column_step[ky] : pad;
  }
  /// The run behind the pointer `entry` of a pixel callback's x array.
  static const depthwise_row_run& of(const T* entry) noexcept { return *reinterpret_cast<const depthwise_row_run*>(entry); }
  /// The pointer to this run as an entry of a pixel callback's x array.
  const T* as_entry() const noexcept { return reinterpret_cast<const T*>(this); }
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

/// The column pipeline of the 3x3 row kernels over a run (depthwise_row_run): column(ix) builds
/// input column ix once (the three window rows), dot(acc, x, w_kx) adds it times the weights of
/// window column kx, start() is an accumulator holding the bias, store(acc, o) writes output o.
/// S = 1: each column is built once and feeds the three outputs that read it; S = 2: the even
/// columns feed two outputs; S = 0: any stride and dilation, three columns per output.
template <index_t S, class T, class W, class Column, class Start, class Dot, class Store>
LIGHTQ_ALWAYS_INLINE void depthwise_row3_columns(const depthwise_row_run<T>& r, const W& w0, const W& w1, const W& w2,
                                                 Column column, Start start, Dot dot, Store store) {
  if constexpr (S == 1) {
    // a: output o (columns o, o + 1 done), b: output o + 1 (column o + 1 done).
    auto a = dot(start(), column(r.ix0), w0);
    const auto q = column(r.ix0 + 1);
    a = dot(a, q, w1);
    auto b = dot(start(), q, w0);
    for (index_t o = 0; o < r.pixels; ++o) {
      const auto x = column(r.ix0 + o + 2);
      store(dot(a, x, w2), o);
      a = dot(b, x, w1);
      b = dot(start(), x, w0);
    }
  } else if constexpr (S == 2) {
    auto a = dot(start(), column(r.ix0), w0);  // output o, column 2 o done
    for (index_t o = 0; o < r.pixels; ++o) {
      a = dot(a, column(r.ix0 + 2 * o + 1), w1);
      const auto x = column(r.ix0 + 2 * o + 2);
      store(dot(a, x, w2), o);
      a = dot(start(), x, w0);
    }
  } else {
    for (index_t o = 0; o < r.pixels; ++o) {
      const index_t ix = r.ix0 + o * r.stride;
      store(dot(dot(dot(start(), column(ix), w0), column(ix + r.dilation), w1), column(ix + 2 * r.dilation), w2), o);
    }
  }
}

/// Calls pixel(x, out) for every output pixel of a 3x3 run, x holding the pixel's 9 tap pointers
/// in row-major order (the pad row outside the input) and 3 more pad row pointers.
template <class T, class Out, class Pixel>
LIGHTQ_ALWAYS_INLINE void for_each_run_pixel(const depthwise_row_run<T>& run, Out* out, Pixel pixel) {
  const T* x[12];
  for (index_t t = 9; t < 12; ++t) x[t] = run.pad;
  for (index_t o = 0; o < run.pixels; ++o, out += run.out_step) {
    const index_t ix = run.ix0 + o * run.stride;
    for (index_t ky = 0; ky < 3; ++ky)
      for (index_t kx = 0; kx < 3; ++kx) x[3 * ky + kx] = run.at(ky, ix + kx * run.dilation);
    pixel(static_cast<const T* const*>(x), out);
  }
}

#if defined(LIGHTQ_HAS_AVX2)
/// AVX2 int8 depthwise pixel with taps in pairs: every tap is present (padding taps read a row of
/// zero points), 16 channels per step. The bytes of two taps are interleaved (punpck{l,h}bw) and
/// widened to int16 pairs (x_2p[c], x_2p+1[c]), each multiplied by the packed int16 weight pair
/// of channel c with vpmaddwd: exact products (|x| <= 255, |w| <= 127), pair sums <= 64770, int32
/// accumulators in channel order. The bias carries -zx * sum_t w_t. np pairs, x has 2 * np
/// valid pointers.
template <class Arch, index_t NP, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_pairs_pixel(const T* const* x, index_t np_runtime, index_t channels,
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

/// The int16 pairs of one input column for 16 channels: (x[ky = 0], x[1]) and (x[2], sign or 0
/// of x[2]: its weight is 0) of channels 0-7 (lo) and 8-15 (hi).
struct column_pairs {
  __m256i p01_lo, p01_hi, p2_lo, p2_hi;
};

/// A 3x3 row (depthwise_row_run) for channels [c, c + rest), rest <= 16, taps in column pairs
/// (depthwise_column_taps: groups 2 kx and 2 kx + 1 hold (w[0][kx], w[1][kx]) and (w[2][kx], 0)):
/// each input column is widened once into int16 pairs and multiplied with vpmaddwd by the weight
/// pairs of every output pixel that reads it (depthwise_row3_columns).
template <class Arch, bool Full, index_t S, class T, class Out>
LIGHTQ_NOINLINE void depthwise_pairs_row(const depthwise_row_run<T>& run, index_t c, index_t rest, const std::int32_t* w,
                                         index_t cp, const std::int32_t* bias, const float* scale, Out* out,
                                         const conv_output_stage& st) noexcept {
  using ib = conv_ibatch<Arch>;
  struct acc_t {
    __m256i lo, hi;
  };
  constexpr bool is_signed = std::is_same_v<T, std::int8_t>;
  const conv_output_stage stage = st;
  const depthwise_row_run<T> r = run;
  auto row = [&](index_t ky, index_t ix, T* tmp) -> const T* {
    const T* p = r.at(ky, ix) + c;
    if constexpr (Full) {
      return p;
    } else {  // channel tail: never read past the input's channels
      std::memcpy(tmp, p, static_cast<std::size_t>(rest));
      return tmp;
    }
  };
  auto column = [&](index_t ix) {
    alignas(16) T t0[16] = {}, t1[16] = {}, t2[16] = {};
    const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row(0, ix, t0)));
    const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row(1, ix, t1)));
    const T* p2 = row(2, ix, t2);
    const __m128i x2_lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p2));
    const __m128i x2_hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p2 + 8));
    const __m128i lo = _mm_unpacklo_epi8(x0, x1), hi = _mm_unpackhi_epi8(x0, x1);
    if constexpr (is_signed)
      return column_pairs{_mm256_cvtepi8_epi16(lo), _mm256_cvtepi8_epi16(hi), _mm256_cvtepi8_epi32(x2_lo),
                          _mm256_cvtepi8_epi32(x2_hi)};
    else
      return column_pairs{_mm256_cvtepu8_epi16(lo), _mm256_cvtepu8_epi16(hi), _mm256_cvtepu8_epi32(x2_lo),
                          _mm256_cvtepu8_epi32(x2_hi)};
  };
  auto load = [](const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  auto start = [&]() { return acc_t{load(bias + c), load(bias + c + 8)}; };
  // Weights of window column kx: the pair groups at wk and wk + cp.
  auto dot = [&](const acc_t& a, const column_pairs& x, const std::int32_t* wk) {
    return acc_t{_mm256_add_epi32(a.lo, _mm256_add_epi32(_mm256_madd_epi16(x.p01_lo, load(wk)),
                                                          _mm256_madd_epi16(x.p2_lo, load(wk + cp)))),
                 _mm256_add_epi32(a.hi, _mm256_add_epi32(_mm256_madd_epi16(x.p01_hi, load(wk + 8)),
                                                          _mm256_madd_epi16(x.p2_hi, load(wk + cp + 8))))};
  };
  auto store = [&](const acc_t& a, index_t o) {
    Out* y = out + o * r.out_step + c;
    store_q8_stage<Arch>(ib(a.lo), scale + c, y, std::min<index_t>(8, rest), stage);
    if (rest > 8) store_q8_stage<Arch>(ib(a.hi), scale + c + 8, y + 8, rest - 8, stage);
  };
  const std::int32_t *w0 = w + c, *w1 = w + 2 * cp + c, *w2 = w + 4 * cp + c;
  depthwise_row3_columns<S>(r, w0, w1, w2, column, start, dot, store);
}

/// A 3x3 row over all channels in blocks of 16.
template <class Arch, index_t S, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_pairs_row_channels(const depthwise_row_run<T>& run, index_t channels,
                                                       const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                       const float* scale, Out* out, const conv_output_stage& st) noexcept {
  index_t c = 0;
  for (; c + 16 <= channels; c += 16) depthwise_pairs_row<Arch, true, S>(run, c, 16, w, cp, bias, scale, out, st);
  if (c < channels) depthwise_pairs_row<Arch, false, S>(run, c, channels - c, w, cp, bias, scale, out, st);
}

/// A 3x3 row in row-major pairs, pixel by pixel (out of line: its own register allocation).
template <class Arch, class T, class Out>
LIGHTQ_NOINLINE void depthwise_pairs_run_pixels(const depthwise_row_run<T>& run, index_t channels, const std::int32_t* w,
                                                index_t cp, const std::int32_t* bias, const float* scale, Out* out,
                                                const conv_output_stage& st) noexcept {
  for_each_run_pixel(run, out, [&](const T* const* xp, Out* o) {
    depthwise_pairs_pixel<Arch, 5>(xp, 5, channels, w, cp, bias, scale, o, st);
  });
}

/// AVX2 int8 depthwise with taps in pairs: one pixel (depthwise_pairs_pixel), or for 3x3 windows
/// (NP = 5) the whole row of conv_depthwise_rows_padded: depthwise_pairs_row (column pairs) with
/// stride 1, else pixel by pixel (row-major pairs; see depthwise_column_taps).
template <class Arch, index_t NP, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel_pairs(const T* const* x, index_t np_runtime, index_t channels,
                                                   const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                   const float* scale, Out* out, const conv_output_stage& st) noexcept {
  if constexpr (NP == 5) {
    const auto& run = depthwise_row_run<T>::of(x[3 * 3 + 3]);
    if (depthwise_column_taps(2, 3, 3, run.stride, run.dilation)) {
      depthwise_pairs_row_channels<Arch, 1>(run, channels, w, cp, bias, scale, out, st);
    } else {
      depthwise_pairs_run_pixels<Arch>(run, channels, w, cp, bias, scale, out, st);
    }
  } else {
    depthwise_pairs_pixel<Arch, NP>(x, np_runtime, channels, w, cp, bias, scale, out, st);
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
  static vec load_bytes(const void* p) noexcept { return _mm512_loadu_si512(p); }
  static vec load(const std::int32_t* p) noexcept { return _mm512_loadu_si512(p); }
  static vec bytes(std::int8_t v) noexcept { return _mm512_set1_epi8(v); }
  static vec bit_xor(vec a, vec b) noexcept { return _mm512_xor_si512(a, b); }
  static vec unpacklo8(vec a, vec b) noexcept { return _mm512_unpacklo_epi8(a, b); }
  static vec unpackhi8(vec a, vec b) noexcept { return _mm512_unpackhi_epi8(a, b); }
  static vec unpacklo16(vec a, vec b) noexcept { return _mm512_unpacklo_epi16(a, b); }
  static vec unpackhi16(vec a, vec b) noexcept { return _mm512_unpackhi_epi16(a, b); }
  static vec dpbusd(vec acc, vec a, vec b) noexcept { return _mm512_dpbusd_epi32(acc, a, b); }
  static vec packs32(vec a, vec b) noexcept { return _mm512_packs_epi32(a, b); }
  static vec max16(vec a, vec b) noexcept { return _mm512_max_epi16(a, b); }
  static vec add16(vec a, vec b) noexcept { return _mm512_add_epi16(a, b); }
  static vec words(std::int16_t v) noexcept { return _mm512_set1_epi16(v); }
  static vec packs16(vec a, vec b) noexcept { return _mm512_packs_epi16(a, b); }
  static vec packus16(vec a, vec b) noexcept { return _mm512_packus_epi16(a, b); }
  static void store_bytes(void* p, mask m, vec v) noexcept { _mm512_mask_storeu_epi8(p, m, v); }
  static void store_bytes(void* p, vec v) noexcept { _mm512_storeu_si512(p, v); }
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
  static vec load_bytes(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static vec load(const std::int32_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static vec bytes(std::int8_t v) noexcept { return _mm256_set1_epi8(v); }
  static vec bit_xor(vec a, vec b) noexcept { return _mm256_xor_si256(a, b); }
  static vec unpacklo8(vec a, vec b) noexcept { return _mm256_unpacklo_epi8(a, b); }
  static vec unpackhi8(vec a, vec b) noexcept { return _mm256_unpackhi_epi8(a, b); }
  static vec unpacklo16(vec a, vec b) noexcept { return _mm256_unpacklo_epi16(a, b); }
  static vec unpackhi16(vec a, vec b) noexcept { return _mm256_unpackhi_epi16(a, b); }
  static vec dpbusd(vec acc, vec a, vec b) noexcept { return _mm256_dpbusd_epi32(acc, a, b); }
  static vec packs32(vec a, vec b) noexcept { return _mm256_packs_epi32(a, b); }
  static vec max16(vec a, vec b) noexcept { return _mm256_max_epi16(a, b); }
  static vec add16(vec a, vec b) noexcept { return _mm256_add_epi16(a, b); }
  static vec words(std::int16_t v) noexcept { return _mm256_set1_epi16(v); }
  static vec packs16(vec a, vec b) noexcept { return _mm256_packs_epi16(a, b); }
  static vec packus16(vec a, vec b) noexcept { return _mm256_packus_epi16(a, b); }
  static void store_bytes(void* p, mask m, vec v) noexcept { _mm256_mask_storeu_epi8(p, m, v); }
  static void store_bytes(void* p, vec v) noexcept { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  /// y_j (lane L: channels 16 L + 4 j .. + 3) to channel order: transpose 2x2 of 128-bit lanes.
  static void to_channel_order(__m256 y[4]) noexcept {
    const __m256 y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];
    y[0] = _mm256_permute2f128_ps(y0, y1, 0x20);
    y[1] = _mm256_permute2f128_ps(y2, y3, 0x20);
    y[2] = _mm256_permute2f128_ps(y0, y1, 0x31);
    y[3] = _mm256_permute2f128_ps(y2, y3, 0x31);
  }
};

/// Four registers of the quad kernels: accumulators, weight quads or the uint8 quads of taps, in
/// the order of depthwise_quad_slot (register j, lane 4 L + e: channel 16 L + 4 j + e of the block).
template <class Ops>
struct quad_regs {
  typename Ops::vec v0, v1, v2, v3;

  static quad_regs load(const std::int32_t* p) noexcept {
    return {Ops::load(p), Ops::load(p + 16), Ops::load(p + 32), Ops::load(p + 48)};
  }
  /// The uint8 quads of four tap registers x0..x3 (bytes in channel order): two rounds of unpacks.
  static quad_regs interleave(typename Ops::vec x0, typename Ops::vec x1, typename Ops::vec x2,
                              typename Ops::vec x3) noexcept {
    const auto lo01 = Ops::unpacklo8(x0, x1), hi01 = Ops::unpackhi8(x0, x1);
    const auto lo23 = Ops::unpacklo8(x2, x3), hi23 = Ops::unpackhi8(x2, x3);
    return {Ops::unpacklo16(lo01, lo23), Ops::unpackhi16(lo01, lo23), Ops::unpacklo16(hi01, hi23),
            Ops::unpackhi16(hi01, hi23)};
  }
  /// this + x * w quad by quad (vpdpbusd: uint8 x, int8 w).
  quad_regs dot(const quad_regs& x, const quad_regs& w) const noexcept {
    return {Ops::dpbusd(v0, x.v0, w.v0), Ops::dpbusd(v1, x.v1, w.v1), Ops::dpbusd(v2, x.v2, w.v2),
            Ops::dpbusd(v3, x.v3, w.v3)};
  }
};

/// The output stage of the quad kernels for channels [c, c + rest) of a block: requantize_fp32 and
/// the saturating packs (int8: back in channel order, exact since the values are in range), or the
/// fp32 scale, clamp and a transpose of 128-bit lanes.
template <class Ops, bool Full = false, class Out>
LIGHTQ_ALWAYS_INLINE void store_quads(const quad_regs<Ops>& acc, index_t c, index_t rest, typename Ops::mask mask,
                                      const float* scale, Out* out, const conv_output_stage& stage) noexcept {
  using vec = typename Ops::vec;
  using ib = xsimd::batch<std::int32_t, typename Ops::xarch>;
  using fb = xsimd::batch<float, typename Ops::xarch>;
  if constexpr (std::is_same_v<Out, float>) {
    const vec a[4] = {acc.v0, acc.v1, acc.v2, acc.v3};
    constexpr index_t width = static_cast<index_t>(fb::size);
    typename fb::register_type y[4];
    for (int j = 0; j < 4; ++j)
      y[j] = xsimd::min(xsimd::max(xsimd::to_float(ib(a[j])) * fb::load_unaligned(scale + c + 16 * j), fb(stage.min)),
                        fb(stage.max));
    Ops::to_channel_order(y);
    for (index_t j = 0; j * width < rest; ++j)
      store_float_n<typename Ops::arch_tag>(fb(y[j]), out + c + width * j, std::min<index_t>(width, rest - width * j));
  } else {
    // requantize_fp32 with its lower clamp and zero point applied to the int16 packs: the same
    // values, since the bounds are whole numbers (conv2d_quantized_bounds): rounding commutes
    // with a clamp to an integer, the float upper clamp keeps vcvtps2dq in range (below -2^31 it
    // gives INT_MIN, which the packs saturate and the lower clamp lifts), and the clamped values
    // plus the zero point lie in the output type.
    const fb upper(stage.bounds.max_less_zero_point);
    auto requantize = [&](vec a, index_t j) -> vec {
      return xsimd::nearbyint_as_int(xsimd::min(xsimd::to_float(ib(a)) * fb::load_unaligned(scale + c + 16 * j), upper));
    };
    const vec lower = Ops::words(static_cast<std::int16_t>(stage.bounds.min_less_zero_point));
    const vec zero_point = Ops::words(static_cast<std::int16_t>(stage.bounds.zero_point));
    const vec p01 = Ops::add16(Ops::max16(Ops::packs32(requantize(acc.v0, 0), requantize(acc.v1, 1)), lower), zero_point);
    const vec p23 = Ops::add16(Ops::max16(Ops::packs32(requantize(acc.v2, 2), requantize(acc.v3, 3)), lower), zero_point);
    const vec y = std::is_same_v<Out, std::int8_t> ? Ops::packs16(p01, p23) : Ops::packus16(p01, p23);
    if constexpr (Full)
      Ops::store_bytes(out + c, y);
    else
      Ops::store_bytes(out + c, mask, y);
  }
}

template <class Ops>
LIGHTQ_ALWAYS_INLINE typename Ops::mask quad_mask(index_t rest) noexcept {
  using mask_t = typename Ops::mask;
  return rest == Ops::channels ? static_cast<mask_t>(~mask_t{0}) : static_cast<mask_t>((mask_t{1} << rest) - 1);
}

/// qs8 is shifted to uint8 by XOR 0x80 (the bias carries the shift); qu8 is used as it is.
template <class Ops, class T>
LIGHTQ_ALWAYS_INLINE typename Ops::vec quad_flip() noexcept {
  return Ops::bytes(std::is_same_v<T, std::int8_t> ? std::int8_t{-128} : std::int8_t{0});
}

/// One step of the quad depthwise kernel: channels [c, c + rest) with rest <= Ops::channels, c a
/// multiple of 64 unless Ops is the zmm one (see depthwise_q8_pixel_quads).
template <class Ops, index_t NQ, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_quads_step(const T* const* xs, index_t nq, index_t c, index_t rest,
                                               const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                               const float* scale, Out* out, const conv_output_stage& stage) noexcept {
  using vec = typename Ops::vec;
  const auto mask = quad_mask<Ops>(rest);
  const vec flip = quad_flip<Ops, T>();
  auto acc = quad_regs<Ops>::load(bias + c);
  for (index_t q = 0; q < (NQ > 0 ? NQ : nq); ++q) {
    auto tap = [&](index_t t) { return Ops::bit_xor(Ops::load_bytes(mask, xs[4 * q + t] + c), flip); };
    acc = acc.dot(quad_regs<Ops>::interleave(tap(0), tap(1), tap(2), tap(3)), quad_regs<Ops>::load(w + q * cp + c));
  }
  store_quads<Ops>(acc, c, rest, mask, scale, out, stage);
}

/// The ymm step for a channel tail of at most 32, out of line: inlined beside the zmm loop it
/// makes gcc 12 keep the tap pointers in vector registers and slows every pixel down by a third.
template <index_t NQ, class T, class Out>
LIGHTQ_NOINLINE void depthwise_quads_tail(const T* const* xs, index_t nq, index_t c, index_t rest, const std::int32_t* w,
                                          index_t cp, const std::int32_t* bias, const float* scale, Out* out,
                                          const conv_output_stage& stage) noexcept {
  depthwise_quads_step<quad_ops<false>, NQ>(xs, nq, c, rest, w, cp, bias, scale, out, stage);
}

/// A 3x3 row (depthwise_row_run) for channels [c, c + rest) of one block, taps in column quads
/// (depthwise_column_taps): the bytes of an input column's three window rows are interleaved once
/// into uint8 quads (x[ky = 0], x[1], x[2], x[2]; the fourth weight is 0) and multiplied with the
/// weight quads of every output pixel that reads the column: with stride 1 each column is built
/// once for three outputs (8 unpacks per 64 channels and pixel instead of 24), with stride 2
/// every other column is shared. The block's weights stay in registers over the row; S = 0:
/// any stride and dilation (each output builds its three columns).
template <class Ops, bool Full, index_t S, class T, class Out>
LIGHTQ_NOINLINE void depthwise_quads_row(const depthwise_row_run<T>& run, index_t c, index_t rest, const std::int32_t* w,
                                         index_t cp, const std::int32_t* bias, const float* scale, Out* out,
                                         const conv_output_stage& st) noexcept {
  using regs = quad_regs<Ops>;
  const conv_output_stage stage = st;
  const auto mask = quad_mask<Ops>(rest);
  const auto flip = quad_flip<Ops, T>();
  const regs w0 = regs::load(w + c), w1 = regs::load(w + cp + c), w2 = regs::load(w + 2 * cp + c);
  const depthwise_row_run<T> r = run;
  auto column = [&](index_t ix) {
    auto row = [&](index_t ky) {
      const T* p = r.at(ky, ix) + c;
      return Ops::bit_xor(Full ? Ops::load_bytes(p) : Ops::load_bytes(mask, p), flip);
    };
    const auto x2 = row(2);
    return regs::interleave(row(0), row(1), x2, x2);
  };
  auto start = [&]() { return regs::load(bias + c); };
  auto store = [&](const regs& acc, index_t o) { store_quads<Ops, Full>(acc, c, rest, mask, scale, out + o * r.out_step, stage); };
  auto dot = [](const regs& acc, const regs& x, const regs& wk) { return acc.dot(x, wk); };
  depthwise_row3_columns<S>(r, w0, w1, w2, column, start, dot, store);
}

/// A 3x3 row over all channels: 64-channel zmm blocks, a tail of at most 32 in ymm.
template <index_t S, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_quads_row_channels(const depthwise_row_run<T>& run, index_t channels,
                                                       const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                       const float* scale, Out* out, const conv_output_stage& st) noexcept {
  index_t c = 0;
  for (; c + 64 <= channels; c += 64) depthwise_quads_row<quad_ops<true>, true, S>(run, c, 64, w, cp, bias, scale, out, st);
  if (c + 32 < channels)
    depthwise_quads_row<quad_ops<true>, false, S>(run, c, channels - c, w, cp, bias, scale, out, st);
  else if (c + 32 == channels)
    depthwise_quads_row<quad_ops<false>, true, S>(run, c, 32, w, cp, bias, scale, out, st);
  else if (c < channels)
    depthwise_quads_row<quad_ops<false>, false, S>(run, c, channels - c, w, cp, bias, scale, out, st);
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
/// NQ = 3 (3x3 windows): x carries the whole row (depthwise_row_run), run by depthwise_quads_row
/// with the taps in column quads.
template <class Arch, index_t NQ, class T, class Out>
LIGHTQ_ALWAYS_INLINE void depthwise_q8_pixel_quads(const T* const* x, index_t nq_runtime, index_t channels,
                                                   const std::int32_t* w, index_t cp, const std::int32_t* bias,
                                                   const float* scale, Out* out, const conv_output_stage& st) noexcept {
  if constexpr (NQ == 3) {
    const auto& run = depthwise_row_run<T>::of(x[3 * 3 + 3]);
    if (run.dilation == 1 && run.stride == 1)
      depthwise_quads_row_channels<1>(run, channels, w, cp, bias, scale, out, st);
    else if (run.dilation == 1 && run.stride == 2)
      depthwise_quads_row_channels<2>(run, channels, w, cp, bias, scale, out, st);
    else
      depthwise_quads_row_channels<0>(run, channels, w, cp, bias, scale, out, st);
    return;
  }
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

#if defined(LIGHTQ_XSIMD_AVAILABLE)
/// Output pixels [o_begin, o_end) of depthwise_f32_row3 for the channels [c, c + B) (Full) or
/// [c, c + rest) of one register: x_ky + o * step is tap (ky, 0) of pixel o, taps d apart.
template <class Arch, bool Full>
LIGHTQ_ALWAYS_INLINE void depthwise_f32_row3_block(const float* x0, const float* x1, const float* x2, index_t step,
                                                   index_t d, index_t o_begin, index_t o_end, index_t c, index_t rest,
                                                   const float* w, index_t cp, const float* bias, float* out,
                                                   index_t out_step, const conv_fbatch<Arch>& lo,
                                                   const conv_fbatch<Arch>& hi) noexcept {
  using fb = conv_fbatch<Arch>;
  auto load = [&](const float* p) {
    if constexpr (Full) {
      return fb::load_unaligned(p);
    } else {
      alignas(64) float tmp[fb::size] = {};
      std::memcpy(tmp, p, static_cast<std::size_t>(rest) * sizeof(float));
      return fb::load_aligned(tmp);
    }
  };
  const fb w0 = fb::load_unaligned(w + c), w1 = fb::load_unaligned(w + cp + c), w2 = fb::load_unaligned(w + 2 * cp + c);
  const fb w3 = fb::load_unaligned(w + 3 * cp + c), w4 = fb::load_unaligned(w + 4 * cp + c);
  const fb w5 = fb::load_unaligned(w + 5 * cp + c), w6 = fb::load_unaligned(w + 6 * cp + c);
  const fb w7 = fb::load_unaligned(w + 7 * cp + c), w8 = fb::load_unaligned(w + 8 * cp + c);
  const fb b = fb::load_unaligned(bias + c), zero(0.0f);
  for (index_t o = o_begin; o < o_end; ++o) {
    const float* p0 = x0 + o * step + c;
    const float* p1 = x1 + o * step + c;
    const float* p2 = x2 + o * step + c;
    fb acc0 = xsimd::fma(load(p0), w0, b);
    fb acc1 = xsimd::fma(load(p0 + d), w1, zero);
    fb acc2 = xsimd::fma(load(p0 + 2 * d), w2, zero);
    acc0 = xsimd::fma(load(p1), w3, acc0);
    acc1 = xsimd::fma(load(p1 + d), w4, acc1);
    acc2 = xsimd::fma(load(p1 + 2 * d), w5, acc2);
    acc0 = xsimd::fma(load(p2), w6, acc0);
    acc1 = xsimd::fma(load(p2 + d), w7, acc1);
    acc2 = xsimd::fma(load(p2 + 2 * d), w8, acc2);
    const fb y = xsimd::min(xsimd::max(acc0 + (acc1 + acc2), lo), hi);
    if constexpr (Full)
      y.store_unaligned(out + o * out_step + c);
    else
      store_float_n<Arch>(y, out + o * out_step + c, rest);
  }
}

/// A run of fp32 3x3 output pixels whose windows lie inside the input (no padding rows or
/// columns), weights [9][cp]: per register of channels the nine weights stay in registers over a
/// tile of pixels, and each pixel sums its taps as depthwise_f32_pixel does (three partial sums
/// over taps t, t + 1, t + 2, the same order), so interior and border pixels agree.
template <class Arch>
LIGHTQ_NOINLINE void depthwise_f32_row3(const depthwise_row_run<float>& run, index_t channels, const float* w, index_t cp,
                                        const float* bias, float* out, const conv_output_stage& st) noexcept {
  using fb = conv_fbatch<Arch>;
  constexpr index_t B = static_cast<index_t>(fb::size);
  const depthwise_row_run<float> r = run;
  const fb lo(st.min), hi(st.max);
  const index_t step = r.stride * r.column_step[0], d = r.dilation * r.column_step[0];
  const float* x0 = r.rows[0] + r.ix0 * r.column_step[0];
  const float* x1 = r.rows[1] + r.ix0 * r.column_step[1];
  const float* x2 = r.rows[2] + r.ix0 * r.column_step[2];
  // Tiles of pixels, channel registers inside: the tile's input is read in order (a pass over the
  // whole row per register strides through memory and slows layers that stream from L3).
  constexpr index_t tile = 16;
  for (index_t o = 0; o < r.pixels; o += tile) {
    const index_t o_end = std::min(r.pixels, o + tile);
    index_t c = 0;
    for (; c + B <= channels; c += B)
      depthwise_f32_row3_block<Arch, true>(x0, x1, x2, step, d, o, o_end, c, B, w, cp, bias, out, r.out_step, lo, hi);
    if (c < channels)
      depthwise_f32_row3_block<Arch, false>(x0, x1, x2, step, d, o, o_end, c, channels - c, w, cp, bias, out, r.out_step,
                                            lo, hi);
  }
}
#endif

/// One output pixel of an fp32 depthwise convolution: clamp(bias[c] + sum_t x_t[c] * w[tap_t][c]).
/// NT = 9 with x[9] set (by conv_depthwise_rows, for 3x3 windows): a run of pixels
/// (depthwise_row_run), all taps inside the input.
template <class Arch, index_t NT>
LIGHTQ_ALWAYS_INLINE void depthwise_f32_pixel(const float* const* x, const index_t* tap, index_t ntaps, index_t channels,
                                              const float* w, index_t cp, const float* bias, float* out,
                                              const conv_output_stage& st) noexcept {
  const index_t nt = NT > 0 ? NT : ntaps;
  if constexpr (NT == 9) {
    if (x[9]) {
      const auto& run = depthwise_row_run<float>::of(x[9]);
      if constexpr (conv_simd_v<Arch>) {
#if defined(LIGHTQ_XSIMD_AVAILABLE)
        depthwise_f32_row3<Arch>(run, channels, w, cp, bias, out, st);
#endif
      } else {
        for_each_run_pixel(run, out, [&](const float* const* xp, float* o) {
          depthwise_f32_pixel<Arch, 0>(xp, tap, 9, channels, w, cp, bias, o, st);
        });
      }
      return;
    }
  }
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
/// taps call the compile-time specialisations. fp32 3x3 windows with stride 1: the pixels of a
/// row whose window lies inside the input go in one call with ntaps = 9 and x[9] pointing at
/// their depthwise_row_run (x[0..8] unset, `out` at the first of them); every other call with 9
/// taps has x[9] = nullptr.
template <class T, class Out, class Pixel>
void conv_depthwise_rows(const conv2d_shape& s, const tensor_view<const T, 4>& in, const tensor_view<Out, 4>& out,
                         context& ctx, Pixel pixel) {
  const index_t rows = s.n * s.oh;
  const index_t tasks = std::min(ctx.threads(), rows);
  // Stride 1 only: with stride 2 a run reads its tile register by register with gaps, and the
  // layer whose fp32 input streams from L3 (112x112x96) lost 3-16% (bench, avx512 / avx2).
  const bool runs = std::is_same_v<T, float> && s.kh == 3 && s.kw == 3 && s.sw == 1;
  // Output columns [first, last) have their window inside the input.
  const index_t first = std::min(s.ow, (s.pl + s.sw - 1) / s.sw);
  const index_t last = std::max(first, std::min(s.ow, s.w - 1 - 2 * s.dw + s.pl >= 0 ? (s.w - 1 - 2 * s.dw + s.pl) / s.sw + 1 : 0));
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(rows, tasks, task);
    const T* x[64];
    depthwise_taps taps;
    for (index_t row = range.first; row < range.second; ++row) {
      const index_t n = row / s.oh, oy = row % s.oh;
      auto one_pixel = [&](index_t ox) {
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
        if (taps.count == 9) x[9] = nullptr;
        pixel(static_cast<const T* const*>(x), taps.tap, taps.count, &out(n, oy, ox, 0));
      };
      const index_t iy0 = oy * s.sh - s.pt;
      if (runs && first < last && iy0 >= 0 && iy0 + 2 * s.dh < s.h) {
        for (index_t ox = 0; ox < first; ++ox) one_pixel(ox);
        depthwise_row_run<T> run;
        for (index_t ky = 0; ky < 3; ++ky) {
          run.rows[ky] = &in(n, iy0 + ky * s.dh, 0, 0);
          run.column_step[ky] = in.stride(2);
        }
        run.pad = nullptr;
        run.ix0 = first * s.sw - s.pl;
        run.w = s.w;
        run.stride = s.sw;
        run.dilation = s.dw;
        run.pixels = last - first;
        run.out_step = out.stride(2);
        for (index_t t = 0; t < 9; ++t) taps.tap[t] = t;
        x[9] = run.as_entry();
        pixel(static_cast<const T* const*>(x), taps.tap, index_t{9}, &out(n, oy, first, 0));
        for (index_t ox = last; ox < s.ow; ++ox) one_pixel(ox);
      } else {
        for (index_t ox = 0; ox < s.ow; ++ox) one_pixel(ox);
      }
    }
  });
}

/// conv_depthwise_rows for the kernels that read every tap (padding taps read `pad_row`, a row of
/// zero points): `pixel(x_ptrs, out)` gets KH * KW input pointers in tap order followed by three
/// more `pad_row` (partners of the last pair or quad). KH, KW > 0: compile-time window (unrolled);
/// 0: the shape's. The input rows of the window are found once per output row. 3x3 windows: one
/// call per output row instead, x[12] pointing at the row's depthwise_row_run (x[0..11] unset),
/// `out` at its first pixel.
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
      if constexpr (KH == 3 && KW == 3) {
        depthwise_row_run<T> run;
        for (index_t ky = 0; ky < 3; ++ky) {
          run.rows[ky] = row_ptr[ky] ? row_ptr[ky] : pad_row;
          run.column_step[ky] = row_ptr[ky] ? pixel_stride : 0;
        }
        run.pad = pad_row;
        run.ix0 = -s.pl;
        run.w = w;
        run.stride = s.sw;
        run.dilation = dw;
        run.pixels = s.ow;
        run.out_step = out_stride;
        x[3 * 3 + 3] = run.as_entry();
        pixel(static_cast<const T* const*>(x), o);
        continue;
      }
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

LIGHTQ_GCC_PR105593_END
