// conv2d fp32 implicit-GEMM micro-kernel for every SIMD backend (xsimd): MR pixels x 2 registers
// of channels, fp32 FMA; weights fp32 or fp16 bits widened in registers (F16C / fcvtl).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "lightq/conv/detail/kernels_scalar.hpp"
#include "lightq/conv/detail/simd_io.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*
// placeholders) once they are inlined here; a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lightq {
namespace detail {

#if defined(LIGHTQ_XSIMD_AVAILABLE)
template <class Arch>
constexpr index_t conv_float_mr() noexcept {
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>)
    return 8;  // 16 zmm accumulators
  else if constexpr (arch_has_v<Arch, arch::avx2>)
    return 6;  // 12 ymm accumulators of 16
  else
    return 8;  // neon: 16 of 32 q registers
}

template <class Arch, class W>
struct conv_float_kernel<Arch, W, std::enable_if_t<conv_simd_v<Arch>>> {
  using fb = conv_fbatch<Arch>;
  static constexpr index_t lanes = static_cast<index_t>(fb::size);
  static constexpr index_t mr = conv_float_mr<Arch>();
  static constexpr index_t nr = 2 * lanes;
  static constexpr index_t kr = 1;
  using a_type = float;
  using w_type = W;

  static void run(const conv_tile<float, W, float>& t, float* const* out, const conv_output_stage& st) noexcept {
    fb acc[mr][2];
    for (index_t m = 0; m < mr; ++m) acc[m][0] = acc[m][1] = fb(0.0f);
    const float* a[mr];
    for (index_t m = 0; m < mr; ++m) a[m] = t.a[m];
    const W* w = t.w;
    for (index_t k = 0; k < t.kq; ++k) {
      const fb w0 = load_weights_as_float<Arch>(w);
      const fb w1 = load_weights_as_float<Arch>(w + lanes);
      w += nr;
      for (index_t m = 0; m < mr; ++m) {
        const fb av(a[m][k]);
        acc[m][0] = xsimd::fma(av, w0, acc[m][0]);
        acc[m][1] = xsimd::fma(av, w1, acc[m][1]);
      }
    }
    const fb lo(st.min), hi(st.max);
    for (index_t m = 0; m < t.mr; ++m) {
      for (index_t j = 0; j < 2; ++j) {
        const index_t n0 = j * lanes;
        if (n0 >= t.nr) break;
        fb y = acc[m][j] + fb::load_unaligned(t.bias + n0);
        y = xsimd::min(xsimd::max(y, lo), hi);
        store_float_n<Arch>(y, out[m] + n0, std::min(lanes, t.nr - n0));
      }
    }
  }
};

#endif  // LIGHTQ_XSIMD_AVAILABLE

}  // namespace detail
}  // namespace lightq

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
