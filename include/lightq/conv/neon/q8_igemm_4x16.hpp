// conv2d int8 implicit-GEMM micro-kernel for neon (and neon_dotprod): 4 output pixels x 16
// channels, K one at a time (smlal on int16: exact widening multiply-accumulate into int32).
#pragma once

#include <cstdint>
#include <type_traits>

#include "lightq/conv/detail/kernels_scalar.hpp"
#include "lightq/conv/detail/simd_io.hpp"

#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>

namespace lightq {
namespace detail {

/// A holds x - zx as int16 ([-255, 255]) and W the weights as int16: each smlal lane adds one
/// product (at most 32385) to an int32 accumulator, so nothing saturates or wraps for K within
/// conv2d_max_exact_k.
#if defined(LIGHTQ_HAS_NEON_DOTPROD)
inline constexpr bool conv_sdot_compiled = true;
#else
inline constexpr bool conv_sdot_compiled = false;
#endif

template <class Arch>
struct conv_q8_kernel<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon> &&
                                             !(conv_sdot_compiled && arch_has_v<Arch, arch::neon_dotprod>)>> {
  static constexpr index_t mr = 4;
  static constexpr index_t nr = 16;
  static constexpr index_t kr = 1;
  using a_type = std::int16_t;
  using w_type = std::int16_t;
  static constexpr const char* name = "q8_igemm_4x16__neon";

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
    int32x4_t acc[mr][4];
    for (index_t m = 0; m < mr; ++m)
      for (int j = 0; j < 4; ++j) acc[m][j] = vdupq_n_s32(0);
    const std::int16_t* a[mr];
    for (index_t m = 0; m < mr; ++m) a[m] = t.a[m];
    const std::int16_t* w = t.w;
    for (index_t k = 0; k < t.kq; ++k) {
      const int16x8_t w0 = vld1q_s16(w);
      const int16x8_t w1 = vld1q_s16(w + 8);
      w += 16;
      for (index_t m = 0; m < mr; ++m) {
        const std::int16_t av = a[m][k];
        acc[m][0] = vmlal_n_s16(acc[m][0], vget_low_s16(w0), av);
        acc[m][1] = vmlal_high_n_s16(acc[m][1], w0, av);
        acc[m][2] = vmlal_n_s16(acc[m][2], vget_low_s16(w1), av);
        acc[m][3] = vmlal_high_n_s16(acc[m][3], w1, av);
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
#endif
