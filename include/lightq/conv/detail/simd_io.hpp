// Per-ISA loads and stores the conv2d kernels share: int8/uint8 widened to an int32 batch,
// an int32 batch narrowed to int8/uint8, fp16 bits widened to an fp32 batch, partial (tail)
// versions, and the one-register output stages (requantize_fp32 / dequantize + clamp).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/conv/detail/tile.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"
#include "lightq/quant/requantize.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>
#endif
#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>
#endif

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// True for the backends with an xsimd arch (every backend but scalar) compiled in this TU.
template <class Arch>
inline constexpr bool conv_simd_v = !std::is_void_v<xsimd_arch_t<Arch>>;

#if defined(LIGHTQ_XSIMD_AVAILABLE)
template <class Arch>
using conv_ibatch = xsimd::batch<std::int32_t, xsimd_arch_t<Arch>>;
template <class Arch>
using conv_fbatch = xsimd::batch<float, xsimd_arch_t<Arch>>;

/// Loads conv_ibatch<Arch>::size int8 / uint8 values widened to int32.
template <class Arch, class T>
LIGHTQ_ALWAYS_INLINE conv_ibatch<Arch> load_widen(const T* p) noexcept {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>, "int8 or uint8");
  [[maybe_unused]] constexpr bool is_signed = std::is_same_v<T, std::int8_t>;
  if constexpr (false) {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  } else if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return is_signed ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
#endif
#if defined(LIGHTQ_HAS_AVX2)
  } else if constexpr (arch_has_v<Arch, arch::avx2>) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
#endif
#if defined(LIGHTQ_HAS_NEON)
  } else if constexpr (arch_has_v<Arch, arch::neon>) {
    std::uint32_t bits;
    std::memcpy(&bits, p, 4);
    const uint8x8_t v = vreinterpret_u8_u32(vdup_n_u32(bits));
    if constexpr (is_signed)
      return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(v))));
    else
      return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(v))));
#endif
  } else {
    static_assert(conv_simd_v<Arch>, "no SIMD backend");
    (void)p;
    return {};
  }
}

/// Stores conv_ibatch<Arch>::size int32 values already inside T's range as T.
template <class Arch, class T>
LIGHTQ_ALWAYS_INLINE void store_narrow(const conv_ibatch<Arch>& v, T* p) noexcept {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>, "int8 or uint8");
  if constexpr (false) {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  } else if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));  // values in range: truncation is exact
#endif
#if defined(LIGHTQ_HAS_AVX2)
  } else if constexpr (arch_has_v<Arch, arch::avx2>) {
    const __m256i x = v;
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
    const __m128i b = std::is_same_v<T, std::int8_t> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b);
#endif
#if defined(LIGHTQ_HAS_NEON)
  } else if constexpr (arch_has_v<Arch, arch::neon>) {
    const int16x4_t h = vmovn_s32(v);
    const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
    vst1_lane_u32(reinterpret_cast<std::uint32_t*>(static_cast<void*>(p)), vreinterpret_u32_s8(b), 0);
#endif
  } else {
    static_assert(conv_simd_v<Arch>, "no SIMD backend");
    (void)v;
    (void)p;
  }
}

/// Loads conv_fbatch<Arch>::size fp16 bit patterns widened (exactly) to fp32.
template <class Arch>
LIGHTQ_ALWAYS_INLINE conv_fbatch<Arch> load_half_as_float(const std::uint16_t* p) noexcept {
  if constexpr (false) {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  } else if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
#endif
#if defined(LIGHTQ_HAS_AVX2)
  } else if constexpr (arch_has_v<Arch, arch::avx2>) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#endif
#if defined(LIGHTQ_HAS_NEON)
  } else if constexpr (arch_has_v<Arch, arch::neon>) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
#endif
  } else {
    static_assert(conv_simd_v<Arch>, "no SIMD backend");
    (void)p;
    return {};
  }
}

/// Weights of a float kernel as an fp32 batch (fp32 or fp16 bits).
template <class Arch, class W>
LIGHTQ_ALWAYS_INLINE conv_fbatch<Arch> load_weights_as_float(const W* p) noexcept {
  if constexpr (std::is_same_v<W, std::uint16_t>)
    return load_half_as_float<Arch>(p);
  else
    return conv_fbatch<Arch>::load_unaligned(p);
}

/// Widening load of the first `count` (< size) values; the rest read as 0.
template <class Arch, class T>
LIGHTQ_ALWAYS_INLINE conv_ibatch<Arch> load_widen_partial(const T* p, index_t count) noexcept {
  alignas(64) T tmp[conv_ibatch<Arch>::size * 4] = {};
  std::memcpy(tmp, p, static_cast<std::size_t>(count) * sizeof(T));
  return load_widen<Arch>(tmp);
}

/// Stores `count` lanes of an int32 batch narrowed to T (count <= size).
template <class Arch, class T>
LIGHTQ_ALWAYS_INLINE void store_narrow_n(const conv_ibatch<Arch>& v, T* p, index_t count) noexcept {
  constexpr index_t size = static_cast<index_t>(conv_ibatch<Arch>::size);
  if (count == size) {
    store_narrow<Arch>(v, p);
  } else {
    alignas(64) T tmp[size * 4];
    store_narrow<Arch>(v, tmp);
    std::memcpy(p, tmp, static_cast<std::size_t>(count) * sizeof(T));
  }
}

/// Stores `count` lanes of a float batch.
template <class Arch>
LIGHTQ_ALWAYS_INLINE void store_float_n(const conv_fbatch<Arch>& v, float* p, index_t count) noexcept {
  constexpr index_t size = static_cast<index_t>(conv_fbatch<Arch>::size);
  if (count == size) {
    v.store_unaligned(p);
  } else {
    alignas(64) float tmp[size];
    v.store_aligned(tmp);
    std::memcpy(p, tmp, static_cast<std::size_t>(count) * sizeof(float));
  }
}

/// Output stage of one register of int32 accumulators (bias already added): requantize_fp32 to
/// int8/uint8, or dequantize (acc * scale) and clamp to fp32; stores `count` lanes. Equal lane by
/// lane to conv_store_q8 (the scalar twin).
template <class Arch, class Out>
LIGHTQ_ALWAYS_INLINE void store_q8_stage(const conv_ibatch<Arch>& acc, const float* scale, Out* p, index_t count,
                                         const conv_output_stage& st) noexcept {
  using fb = conv_fbatch<Arch>;
  const fb s = fb::load_unaligned(scale);
  if constexpr (std::is_same_v<Out, float>) {
    fb y = xsimd::to_float(acc) * s;
    y = xsimd::max(y, fb(st.min));
    y = xsimd::min(y, fb(st.max));
    store_float_n<Arch>(y, p, count);
  } else {
    store_narrow_n<Arch>(requantize_fp32(acc, s, st.bounds), p, count);
  }
}

#endif  // LIGHTQ_XSIMD_AVAILABLE

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END
