// The few register operations xsimd 8.1 lacks, as intrinsics in one guarded section per
// instruction set: int8/uint8 loads widened to int32, int32 narrowed to int8/uint8 stores, and a
// fused multiply-add that is fused on every backend (8.1 has none for AVX-512).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/xsimd_compat.hpp"

// xsimd declares no batch API when the target has no SIMD at all (AArch64 with +nosimd): the
// quant headers then compile their scalar twins only.
#if defined(LIGHTQ_XSIMD_AVAILABLE)
#define LIGHTQ_QUANT_XSIMD 1
#else
#define LIGHTQ_QUANT_XSIMD 0
#endif

#if defined(LIGHTQ_HAS_AVX2) || defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>
#endif
#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>
#endif

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// Selected by capability of the xsimd arch A (never by identity); specialised below.
template <class A, class = void>
struct simd_ops;  // no definition: A has no int8 load/store here

#if defined(LIGHTQ_HAS_AVX512_VNNI)
template <class A>
struct simd_ops<A, std::enable_if_t<std::is_base_of_v<xsimd::avx512bw, A>>> {
  using ibatch = xsimd::batch<std::int32_t, A>;
  using fbatch = xsimd::batch<float, A>;
  static LIGHTQ_ALWAYS_INLINE fbatch fma(const fbatch& x, const fbatch& y, const fbatch& z) noexcept {
    return _mm512_fmadd_ps(x, y, z);
  }
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::int8_t* p) noexcept {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::uint8_t* p) noexcept {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  // vpmovdb truncates: the caller has already clamped into the output type's range.
  template <class T>
  static LIGHTQ_ALWAYS_INLINE void store(T* p, const ibatch& v) noexcept {
    static_assert(sizeof(T) == 1, "int8 or uint8");
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
  }
};
#endif

#if defined(LIGHTQ_HAS_AVX2)
template <class A>
struct simd_ops<A, std::enable_if_t<std::is_base_of_v<xsimd::avx2, A>>> {
  using ibatch = xsimd::batch<std::int32_t, A>;
  using fbatch = xsimd::batch<float, A>;
  static LIGHTQ_ALWAYS_INLINE fbatch fma(const fbatch& x, const fbatch& y, const fbatch& z) noexcept {
    return _mm256_fmadd_ps(x, y, z);
  }
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::int8_t* p) noexcept {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::uint8_t* p) noexcept {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  // Low byte of each int32 (truncation; the caller has already clamped), gathered into 8 bytes.
  template <class T>
  static LIGHTQ_ALWAYS_INLINE void store(T* p, const ibatch& v) noexcept {
    static_assert(sizeof(T) == 1, "int8 or uint8");
    const __m256i bytes = _mm256_shuffle_epi8(
        v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    const __m256i packed = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
  }
};
#endif

#if defined(LIGHTQ_HAS_NEON)
template <class A>
struct simd_ops<A, std::enable_if_t<std::is_base_of_v<xsimd::neon64, A>>> {
  using ibatch = xsimd::batch<std::int32_t, A>;
  using fbatch = xsimd::batch<float, A>;
  static LIGHTQ_ALWAYS_INLINE fbatch fma(const fbatch& x, const fbatch& y, const fbatch& z) noexcept {
    return vfmaq_f32(z, x, y);
  }
  // Four bytes through a 32-bit lane: never reads or writes past the 4 elements.
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::int8_t* p) noexcept {
    std::int32_t w;
    std::memcpy(&w, p, 4);
    const int8x8_t b = vreinterpret_s8_s32(vdup_n_s32(w));
    return vmovl_s16(vget_low_s16(vmovl_s8(b)));
  }
  static LIGHTQ_ALWAYS_INLINE ibatch load(const std::uint8_t* p) noexcept {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    const uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(w));
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
  }
  template <class T>
  static LIGHTQ_ALWAYS_INLINE void store(T* p, const ibatch& v) noexcept {
    static_assert(sizeof(T) == 1, "int8 or uint8");
    const int16x4_t h = vmovn_s32(v);
    const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
    const std::int32_t w = vget_lane_s32(vreinterpret_s32_s8(b), 0);
    std::memcpy(p, &w, 4);
  }
};
#endif

#if LIGHTQ_QUANT_XSIMD
/// batch::size int8/uint8 values at p, widened to int32.
template <class A, class T>
LIGHTQ_ALWAYS_INLINE xsimd::batch<std::int32_t, A> load_widen(const T* p) noexcept {
  return simd_ops<A>::load(p);
}
/// Stores the low byte of each lane (already clamped into T's range) to batch::size bytes at p.
template <class A, class T>
LIGHTQ_ALWAYS_INLINE void store_narrow(T* p, const xsimd::batch<std::int32_t, A>& v) noexcept {
  simd_ops<A>::store(p, v);
}
/// x * y + z rounded once (std::fma is the scalar twin).
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<float, A> fused_multiply_add(const xsimd::batch<float, A>& x,
                                                               const xsimd::batch<float, A>& y,
                                                               const xsimd::batch<float, A>& z) noexcept {
  return simd_ops<A>::fma(x, y, z);
}
#endif

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END
