// Attention micro-kernels for AVX2: int8 Q*K^T with the sign trick (|q| u8 x sign(k, q) s8 in
// vpmaddubsw: pairs of 127*127 never saturate), P*V with vpmaddubsw (P in [0, 127]), and the F16C
// fp16 -> fp32 load. Equal to the scalar twin bit for bit on the int32 results.
#pragma once

#include "lightq/attention/detail/ops.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>

namespace lightq {
namespace detail {

template <class Arch>
struct attention_int8_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx2> && !arch_has_v<Arch, arch::avx512_vnni>>> {
  static void prepare_query(const std::int8_t* q, index_t groups, std::uint8_t* prepared) noexcept {
    std::memcpy(prepared, q, static_cast<std::size_t>(groups * 4));
  }

  static void dot_key_tile(const std::uint8_t* prepared, const std::int8_t* tile, const std::int32_t* key_sums,
                           index_t groups, std::int32_t* dots) noexcept {
    (void)key_sums;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i lo0 = _mm256_setzero_si256(), hi0 = _mm256_setzero_si256();
    __m256i lo1 = _mm256_setzero_si256(), hi1 = _mm256_setzero_si256();
    index_t g = 0;
    auto step = [&](index_t group, __m256i& lo, __m256i& hi) {
      const __m256i qb = _mm256_set1_epi32(attention_load_i32(prepared + group * 4));
      const __m256i qa = _mm256_abs_epi8(qb);
      const __m256i k0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + group * 64));
      const __m256i k1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + group * 64 + 32));
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(k0, qb)), ones));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(k1, qb)), ones));
    };
    for (; g + 2 <= groups; g += 2) {
      step(g, lo0, hi0);
      step(g + 1, lo1, hi1);
    }
    if (g < groups) step(g, lo0, hi0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots), _mm256_add_epi32(lo0, lo1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots + 8), _mm256_add_epi32(hi0, hi1));
  }

  template <int N>
  static void accumulate_block(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                               index_t d0, std::int32_t* acc) noexcept {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a[N];
    for (int i = 0; i < N; ++i) a[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + d0 + 8 * i));
    for (index_t g = 0; g < count; ++g) {
      const __m256i wb = _mm256_set1_epi32(attention_load_i32(w + g * 4));
      const std::int8_t* p = values + g * value_dim * 4 + d0 * 4;
      for (int i = 0; i < N; ++i) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * i));
        a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(_mm256_maddubs_epi16(wb, v), ones));
      }
    }
    for (int i = 0; i < N; ++i) _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + d0 + 8 * i), a[i]);
  }

  static void accumulate_values(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                                std::int32_t* acc) noexcept {
    index_t d = 0;
    for (; d + 64 <= value_dim; d += 64) accumulate_block<8>(w, values, count, value_dim, d, acc);
    for (; d + 16 <= value_dim; d += 16) accumulate_block<2>(w, values, count, value_dim, d, acc);
  }
};

/// Lane i = sum of a[i] for 8 vectors (hadd tree, then the two 128-bit halves).
LIGHTQ_ALWAYS_INLINE __m256 attention_transpose_sum8(const __m256* a) noexcept {
  const __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
}

/// F16C loads and the 8-lane transposing sum.
template <class Arch>
struct attention_float_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx2> && !arch_has_v<Arch, arch::avx512_vnni>>> {
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> load_f16(const std::uint16_t* p) noexcept {
    return float_batch<Arch>(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> transpose_sum(const float_batch<Arch>* acc) noexcept {
    __m256 a[8];
    for (int i = 0; i < 8; ++i) a[i] = acc[i];
    return float_batch<Arch>(attention_transpose_sum8(a));
  }
  static LIGHTQ_ALWAYS_INLINE float max_lane(const float_batch<Arch>& v) noexcept {
    const __m256 x = v;
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
};

}  // namespace detail
}  // namespace lightq

#endif  // LIGHTQ_HAS_AVX2
