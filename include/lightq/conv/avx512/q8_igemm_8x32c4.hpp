// conv2d int8 implicit-GEMM micro-kernel for avx512_vnni: 8 output pixels x 32 channels, K in
// groups of 4 (vpdpbusd). A holds activations shifted to uint8 (int8 x + 128; uint8 as is).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/conv/detail/kernels_scalar.hpp"
#include "lightq/conv/detail/simd_io.hpp"

#if defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*
// placeholders) once they are inlined here; a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lightq {
namespace detail {

/// vpdpbusd multiplies uint8 by int8 without saturation and sums 4 products into int32, so the
/// kernel sums (x + 128) * w for int8 inputs (x for uint8) exactly modulo 2^32; the bias absorbs
/// -(zx + 128) * column_sum (-(zx) * column_sum), and the result equals sum (x - zx) * w
/// whenever that fits int32 (K <= conv2d_max_exact_k).
template <class Arch>
struct conv_q8_kernel<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx512_vnni>>> {
  static constexpr index_t mr = 8;
  static constexpr index_t nr = 32;
  static constexpr index_t kr = 4;
  using a_type = std::uint8_t;
  using w_type = std::int8_t;
  static constexpr const char* name = "q8_igemm_8x32c4__avx512_vnni";

  template <class T>
  static a_type a_value(T x, std::int32_t) noexcept {
    if constexpr (std::is_same_v<T, std::int8_t>)
      return static_cast<a_type>(static_cast<std::int32_t>(x) + 128);
    else
      return static_cast<a_type>(x);
  }
  template <class T>
  static std::int32_t compensation(std::int32_t zx) noexcept {
    return std::is_same_v<T, std::int8_t> ? zx + 128 : zx;
  }

  template <class Out>
  static void run(const conv_tile<a_type, w_type, std::int32_t>& t, Out* const* out, const conv_output_stage& st) noexcept {
    __m512i acc[mr][2];
    for (index_t m = 0; m < mr; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_si512();
    const std::uint8_t* a[mr];
    for (index_t m = 0; m < mr; ++m) a[m] = t.a[m];
    const std::int8_t* w = t.w;
    for (index_t k = 0; k < t.kq; ++k) {
      const __m512i w0 = _mm512_loadu_si512(w);
      const __m512i w1 = _mm512_loadu_si512(w + 64);
      w += 128;
      for (index_t m = 0; m < mr; ++m) {
        std::int32_t quad;
        std::memcpy(&quad, a[m] + 4 * k, 4);
        const __m512i av = _mm512_set1_epi32(quad);
        acc[m][0] = _mm512_dpbusd_epi32(acc[m][0], av, w0);
        acc[m][1] = _mm512_dpbusd_epi32(acc[m][1], av, w1);
      }
    }
    const __m512i b0 = _mm512_loadu_si512(t.bias);
    const __m512i b1 = _mm512_loadu_si512(t.bias + 16);
    for (index_t m = 0; m < t.mr; ++m) {
      store_q8_stage<Arch>(conv_ibatch<Arch>(_mm512_add_epi32(acc[m][0], b0)), t.scale, out[m], t.nr < 16 ? t.nr : 16, st);
      if (t.nr > 16)
        store_q8_stage<Arch>(conv_ibatch<Arch>(_mm512_add_epi32(acc[m][1], b1)), t.scale + 16, out[m] + 16, t.nr - 16, st);
    }
  }
};

}  // namespace detail
}  // namespace lightq

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
