// conv2d int8 implicit-GEMM micro-kernel for neon_dotprod: 4 output pixels x 16 channels, K in
// groups of 4 (SDOT). A holds int8 activations (qs8 as is; qu8 shifted by -128).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/conv/neon/q8_igemm_4x16.hpp"

#if defined(LIGHTQ_HAS_NEON_DOTPROD)
#include <arm_neon.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lightq {
namespace detail {

/// SDOT adds four int8 x int8 products to each int32 lane without saturating (modulo 2^32). The
/// kernel sums a * w with a = x (qs8) or x - 128 (qu8); the bias absorbs -zx * column_sum
/// (-(zx - 128) * column_sum), so the result equals sum (x - zx) * w whenever that fits int32
/// (K <= conv2d_max_exact_k).
template <class Arch>
struct conv_q8_kernel<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon_dotprod>>> {
  static constexpr index_t mr = 4;
  static constexpr index_t nr = 16;
  static constexpr index_t kr = 4;
  using a_type = std::int8_t;
  using w_type = std::int8_t;
  static constexpr const char* name = "q8_igemm_4x16c4__neon_dotprod";

  template <class T>
  static a_type a_value(T x, std::int32_t) noexcept {
    if constexpr (std::is_same_v<T, std::uint8_t>)
      return static_cast<a_type>(static_cast<std::int32_t>(x) - 128);
    else
      return static_cast<a_type>(x);
  }
  template <class T>
  static std::int32_t compensation(std::int32_t zx) noexcept {
    return std::is_same_v<T, std::uint8_t> ? zx - 128 : zx;
  }

  template <class Out>
  static void run(const conv_tile<a_type, w_type, std::int32_t>& t, Out* const* out, const conv_output_stage& st) noexcept {
    int32x4_t acc[mr][4];
    for (index_t m = 0; m < mr; ++m)
      for (int j = 0; j < 4; ++j) acc[m][j] = vdupq_n_s32(0);
    const std::int8_t* a[mr];
    for (index_t m = 0; m < mr; ++m) a[m] = t.a[m];
    const std::int8_t* w = t.w;
    for (index_t k = 0; k < t.kq; ++k) {
      const int8x16_t w0 = vld1q_s8(w);  // channels 0-3, 4 k each
      const int8x16_t w1 = vld1q_s8(w + 16);
      const int8x16_t w2 = vld1q_s8(w + 32);
      const int8x16_t w3 = vld1q_s8(w + 48);
      w += 64;
      for (index_t m = 0; m < mr; ++m) {
        std::int32_t quad;
        std::memcpy(&quad, a[m] + 4 * k, 4);
        const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(quad));
        acc[m][0] = vdotq_s32(acc[m][0], w0, av);
        acc[m][1] = vdotq_s32(acc[m][1], w1, av);
        acc[m][2] = vdotq_s32(acc[m][2], w2, av);
        acc[m][3] = vdotq_s32(acc[m][3], w3, av);
      }
    }
    for (index_t m = 0; m < t.mr; ++m) {
      for (index_t j = 0; j < 4; ++j) {
        const index_t n0 = 4 * j;
        if (n0 >= t.nr) break;
        const int32x4_t v = vaddq_s32(acc[m][j], vld1q_s32(t.bias + n0));
        store_q8_stage<Arch>(conv_ibatch<Arch>(v), t.scale + n0, out[m] + n0, t.nr - n0 < 4 ? t.nr - n0 : 4, st);
      }
    }
  }
};

}  // namespace detail
}  // namespace lightq

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
