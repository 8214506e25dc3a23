// AVX-512 bulk fp32 <-> fp16 / bf16 conversion kernels (equal to the scalar twin bit for bit).
//
// fp16: vcvtps2ph (explicit round-to-nearest-even, exceptions suppressed) / vcvtph2ps on 16
// lanes. bf16: integer rounding on 16 lanes; AVX512_BF16 (vcvtneps2bf16) is not part of the
// avx512_vnni backend, and it would flush float subnormals anyway. Tails (< 16 elements) use
// masked loads and stores, which never touch memory outside [in, in + count) / [out, out + count).
#pragma once

#include "lightq/config.hpp"
#include "lightq/quant/detail/convert_scalar.hpp"

#if defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

template <class Arch>
struct convert_kernels<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx512_vnni>>> {
  static void run(const float* in, half* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 64 <= count; i += 64) {
      const __m512 a = _mm512_loadu_ps(in + i);
      const __m512 b = _mm512_loadu_ps(in + i + 16);
      const __m512 c = _mm512_loadu_ps(in + i + 32);
      const __m512 d = _mm512_loadu_ps(in + i + 48);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), to_half(a));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 16), to_half(b));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 32), to_half(c));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 48), to_half(d));
    }
    for (; i + 16 <= count; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), to_half(_mm512_loadu_ps(in + i)));
    if (i < count) {
      const __mmask16 m = tail_mask(count - i);
      _mm256_mask_storeu_epi16(out + i, m, to_half(_mm512_maskz_loadu_ps(m, in + i)));
    }
  }

  static void run(const half* in, float* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 64 <= count; i += 64) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 16));
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 32));
      const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 48));
      _mm512_storeu_ps(out + i, _mm512_cvtph_ps(a));
      _mm512_storeu_ps(out + i + 16, _mm512_cvtph_ps(b));
      _mm512_storeu_ps(out + i + 32, _mm512_cvtph_ps(c));
      _mm512_storeu_ps(out + i + 48, _mm512_cvtph_ps(d));
    }
    for (; i + 16 <= count; i += 16)
      _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
    if (i < count) {
      const __mmask16 m = tail_mask(count - i);
      _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, in + i)));
    }
  }

  static void run(const float* in, bfloat16* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 32 <= count; i += 32) {
      const __m512i a = to_bf16_in_low_halves(_mm512_loadu_si512(in + i));
      const __m512i b = to_bf16_in_low_halves(_mm512_loadu_si512(in + i + 16));
      // packus interleaves per 128-bit lane (quads a0 b0 a1 b1 ...); vpermq restores the order.
      // Every lane is <= 0xFFFF, so the unsigned saturation never triggers. Two shuffles per 32
      // elements instead of vpmovdw's two per 16.
      const __m512i packed = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), _mm512_packus_epi32(a, b));
      _mm512_storeu_si512(out + i, packed);
    }
    for (; i + 16 <= count; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          _mm512_cvtepi32_epi16(to_bf16_in_low_halves(_mm512_loadu_si512(in + i))));
    if (i < count) {
      const __mmask16 m = tail_mask(count - i);
      _mm512_mask_cvtepi32_storeu_epi16(out + i, m, to_bf16_in_low_halves(_mm512_maskz_loadu_epi32(m, in + i)));
    }
  }

  static void run(const bfloat16* in, float* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 32 <= count; i += 32) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 16));
      _mm512_storeu_si512(out + i, bf16_to_f32(a));
      _mm512_storeu_si512(out + i + 16, bf16_to_f32(b));
    }
    for (; i + 16 <= count; i += 16)
      _mm512_storeu_si512(out + i, bf16_to_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
    if (i < count) {
      const __mmask16 m = tail_mask(count - i);
      _mm512_mask_storeu_epi32(out + i, m, bf16_to_f32(_mm256_maskz_loadu_epi16(m, in + i)));
    }
  }

 private:
  // Lanes [0, n) for 0 < n < 16.
  static LIGHTQ_ALWAYS_INLINE __mmask16 tail_mask(index_t n) noexcept {
    return static_cast<__mmask16>((1u << static_cast<unsigned>(n)) - 1u);
  }

  static LIGHTQ_ALWAYS_INLINE __m256i to_half(__m512 x) noexcept {
    return _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }

  // 16 float bit patterns -> their bf16 patterns in the low 16 bits of each 32-bit lane.
  static LIGHTQ_ALWAYS_INLINE __m512i to_bf16_in_low_halves(__m512i x) noexcept {
    // vfpclassps (QNaN | SNaN): one instruction, raises no floating-point exception, no DAZ.
    const __mmask16 is_nan = _mm512_fpclass_ps_mask(_mm512_castsi512_ps(x), 0x81);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(x, _mm512_set1_epi32(0x7FFF)), lsb);
    r = _mm512_mask_or_epi32(r, is_nan, x, _mm512_set1_epi32(0x00400000));  // NaN: quiet, no rounding
    return _mm512_srli_epi32(r, 16);
  }

  // 16 bf16 patterns -> 16 float patterns (shift up, quiet NaNs).
  static LIGHTQ_ALWAYS_INLINE __m512i bf16_to_f32(__m256i h) noexcept {
    const __m512i x = _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
    const __mmask16 is_nan = _mm512_fpclass_ps_mask(_mm512_castsi512_ps(x), 0x81);
    return _mm512_mask_or_epi32(x, is_nan, x, _mm512_set1_epi32(0x00400000));
  }
};

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END

#endif  // LIGHTQ_HAS_AVX512_VNNI
