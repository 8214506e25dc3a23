// conv2d int8 implicit-GEMM micro-kernel for avx2: 6 output pixels x 16 channels, K in pairs
// (vpmaddwd on int16). A holds centered activations x - zx as int16, so nothing saturates.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/conv/detail/kernels_scalar.hpp"
#include "lightq/conv/detail/simd_io.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>

namespace lightq {
namespace detail {

/// Exactness: x - zx is in [-255, 255] and w in [-127, 127]; vpmaddwd forms a*w + a'*w' in
/// int32 (at most 64770 in magnitude, no saturation) and vpaddd accumulates: exact for any K
/// whose true sum fits int32. (vpmaddubsw would saturate u8 x s8 pairs: not used.)
template <class Arch>
struct conv_q8_kernel<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx2> && !arch_has_v<Arch, arch::avx512_vnni>>> {
  static constexpr index_t mr = 6;
  static constexpr index_t nr = 16;
  static constexpr index_t kr = 2;
  using a_type = std::int16_t;
  using w_type = std::int16_t;
  static constexpr const char* name = "q8_igemm_6x16c2__avx2";

  template <class T>
  static a_type a_value(T x, std::int32_t zx) noexcept {
    return static_cast<a_type>(static_cast<std::int32_t>(x) - zx);
  }
  template <class T>
  static std::int32_t compensation(std::int32_t) noexcept {
    return 0;
  }

  template <class Out>
  static void run(const conv_tile<a_type, w_type, std::int32_t>& t, Out* const* out, const conv_output_stage& st) noexcept {
    __m256i acc[mr][2];
    for (index_t m = 0; m < mr; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_si256();
    const std::int16_t* a[mr];
    for (index_t m = 0; m < mr; ++m) a[m] = t.a[m];
    const std::int16_t* w = t.w;
    for (index_t k = 0; k < t.kq; ++k) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16));
      w += 32;
      for (index_t m = 0; m < mr; ++m) {
        std::int32_t pair;
        std::memcpy(&pair, a[m] + 2 * k, 4);
        const __m256i av = _mm256_set1_epi32(pair);
        acc[m][0] = _mm256_add_epi32(acc[m][0], _mm256_madd_epi16(av, w0));
        acc[m][1] = _mm256_add_epi32(acc[m][1], _mm256_madd_epi16(av, w1));
      }
    }
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.bias));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.bias + 8));
    for (index_t m = 0; m < t.mr; ++m) {
      store_q8_stage<Arch>(conv_ibatch<Arch>(_mm256_add_epi32(acc[m][0], b0)), t.scale, out[m], t.nr < 8 ? t.nr : 8, st);
      if (t.nr > 8)
        store_q8_stage<Arch>(conv_ibatch<Arch>(_mm256_add_epi32(acc[m][1], b1)), t.scale + 8, out[m] + 8, t.nr - 8, st);
    }
  }
};

}  // namespace detail
}  // namespace lightq
#endif
