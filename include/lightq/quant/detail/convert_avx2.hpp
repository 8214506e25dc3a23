// AVX2 + F16C bulk fp32 <-> fp16 / bf16 conversion kernels (equal to the scalar twin bit for bit).
//
// fp16 uses F16C: vcvtps2ph with an explicit round-to-nearest-even immediate (independent of
// MXCSR.RC) and vcvtph2ps. Both quiet a signalling NaN and keep its sign and leading payload
// bits, which is the rule core/half.hpp defines; subnormals are kept (F16C ignores DAZ/FTZ for
// half operands, and float subnormal inputs round to +-0 in half whatever DAZ says).
// bf16 is integer arithmetic on 8 lanes (AVX2 has no bf16 instruction): the same add-0x7FFF-
// plus-lsb rounding and NaN quieting as the twin. Tails (< 8 elements) run the scalar twin.
#pragma once

#include "lightq/quant/detail/convert_scalar.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>

namespace lightq {
namespace detail {

template <class Arch>
struct convert_kernels<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx2> && !arch_has_v<Arch, arch::avx512_vnni>>> {
  static void run(const float* in, half* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 32 <= count; i += 32) {
      const __m256 a = _mm256_loadu_ps(in + i);
      const __m256 b = _mm256_loadu_ps(in + i + 8);
      const __m256 c = _mm256_loadu_ps(in + i + 16);
      const __m256 d = _mm256_loadu_ps(in + i + 24);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 8), _mm256_cvtps_ph(b, _MM_FROUND_TO_NEAREST_INT));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16), _mm256_cvtps_ph(c, _MM_FROUND_TO_NEAREST_INT));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 24), _mm256_cvtps_ph(d, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i + 8 <= count; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const half* in, float* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 32 <= count; i += 32) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 8));
      const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 16));
      const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 24));
      _mm256_storeu_ps(out + i, _mm256_cvtph_ps(a));
      _mm256_storeu_ps(out + i + 8, _mm256_cvtph_ps(b));
      _mm256_storeu_ps(out + i + 16, _mm256_cvtph_ps(c));
      _mm256_storeu_ps(out + i + 24, _mm256_cvtph_ps(d));
    }
    for (; i + 8 <= count; i += 8)
      _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const float* in, bfloat16* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      const __m256i a = f32_to_bf16_in_low_halves(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
      const __m256i b = f32_to_bf16_in_low_halves(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i + 8)));
      // packus works per 128-bit lane: [a0-3 b0-3 | a4-7 b4-7]; the permute restores the order.
      // Every lane holds a value <= 0xFFFF, so the unsigned saturation never triggers.
      const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), packed);
    }
    for (; i + 8 <= count; i += 8) {
      const __m256i a = f32_to_bf16_in_low_halves(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                       _mm_packus_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1)));
    }
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const bfloat16* in, float* out, index_t count) noexcept {
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 8));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), bf16_to_f32(a));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 8), bf16_to_f32(b));
    }
    for (; i + 8 <= count; i += 8)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          bf16_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
    convert_scalar_loop(in, out, i, count);
  }

 private:
  // 8 float bit patterns -> their bf16 patterns in the low 16 bits of each 32-bit lane.
  static LIGHTQ_ALWAYS_INLINE __m256i f32_to_bf16_in_low_halves(__m256i x) noexcept {
    const __m256i magnitude = _mm256_and_si256(x, _mm256_set1_epi32(0x7FFFFFFF));
    // Signed compare is right: magnitude >= 0.
    const __m256i is_nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7FFF)), lsb);
    const __m256i quiet_nan = _mm256_or_si256(x, _mm256_set1_epi32(0x00400000));
    return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet_nan, is_nan), 16);
  }

  // 8 bf16 patterns -> 8 float patterns (shift up, quiet NaNs).
  static LIGHTQ_ALWAYS_INLINE __m256i bf16_to_f32(__m128i h) noexcept {
    const __m256i x = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    const __m256i magnitude = _mm256_and_si256(x, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i is_nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
    return _mm256_or_si256(x, _mm256_and_si256(is_nan, _mm256_set1_epi32(0x00400000)));
  }
};

}  // namespace detail
}  // namespace lightq

#endif  // LIGHTQ_HAS_AVX2
