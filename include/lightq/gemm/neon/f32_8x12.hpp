// fp32 GEMM micro-kernel for AArch64 ASIMD: 8x12 tile (24 accumulators), FMLA by lane; the same
// tile also serves fp16 weights (f32_f16w_8x12.hpp), widened in registers by FCVTL.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>

namespace lightq {
namespace detail {
namespace neon_gemm {

/// 12 weights of one k as three fp32 registers: fp32 loaded, or binary16 widened exactly (FCVTL,
/// FCVTL2; 24 bytes read, never past the panel).
template <class Arch, class WType>
LIGHTQ_ALWAYS_INLINE void load_weights_12(const WType* w, float32x4_t& w0, float32x4_t& w1, float32x4_t& w2) noexcept {
  if constexpr (std::is_same_v<WType, float>) {
    w0 = vld1q_f32(w);
    w1 = vld1q_f32(w + 4);
    w2 = vld1q_f32(w + 8);
  } else {
    static_assert(std::is_same_v<WType, std::uint16_t>, "fp32 or binary16 weights");
    const float16x8_t h01 = vreinterpretq_f16_u16(vld1q_u16(w));
    const float16x4_t h2 = vreinterpret_f16_u16(vld1_u16(w + 8));
    w0 = vcvt_f32_f16(vget_low_f16(h01));
    w1 = vcvt_high_f32_f16(h01);
    w2 = vcvt_f32_f16(h2);
  }
}

template <class Arch, int Lane>
LIGHTQ_ALWAYS_INLINE void fmla_row(float32x4_t (&acc)[3], float32x4_t w0, float32x4_t w1, float32x4_t w2, float32x4_t a) noexcept {
  acc[0] = vfmaq_laneq_f32(acc[0], w0, a, Lane);
  acc[1] = vfmaq_laneq_f32(acc[1], w1, a, Lane);
  acc[2] = vfmaq_laneq_f32(acc[2], w2, a, Lane);
}

/// One k: packed A holds 8 rows (two registers, one row per lane), packed W 12 columns.
template <class Arch, class WType, int Rows, int... I>
LIGHTQ_ALWAYS_INLINE void fmla_step(float32x4_t (&acc)[Rows][3], const float* a, const WType* w,
                                    std::integer_sequence<int, I...>) noexcept {
  float32x4_t w0, w1, w2;
  load_weights_12<Arch>(w, w0, w1, w2);
  const float32x4_t a_lo = vld1q_f32(a);
  float32x4_t a_hi = a_lo;
  if constexpr (Rows > 4) a_hi = vld1q_f32(a + 4);
  (fmla_row<Arch, I % 4>(acc[I], w0, w1, w2, I < 4 ? a_lo : a_hi), ...);
}

/// The 8x12 tile for the first `Rows` rows; each output is one FMA chain over k in increasing
/// order (the scalar twin's order, fused), or two (even and odd k) when Rows = 1.
template <class Arch, class WType, int Rows>
LIGHTQ_ALWAYS_INLINE void f32_8x12_tile(const gemm_tile_args<float>& args) noexcept {
  constexpr index_t MR = 8, NR = 12;
  float32x4_t acc[Rows][3];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 3; ++j)
      acc[i][j] = args.accumulate ? vld1q_f32(args.partial + i * args.partial_stride + 4 * j) : vdupq_n_f32(0.0f);
  const auto* a = static_cast<const float*>(args.a);
  const auto* w = static_cast<const WType*>(args.w);
  index_t k = 0;
  if constexpr (Rows == 1) {
    // GEMV: three FMA chains alone are latency-bound (4 cycles per FMLA) below what the memory
    // delivers; odd k go to a second set of three, added once at the end.
    float32x4_t odd[1][3] = {{vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}};
    for (; k + 2 <= args.kc; k += 2) {
      __asm__ volatile("" ::: "memory");
      fmla_step<Arch, WType, 1>(acc, a, w, std::make_integer_sequence<int, 1>{});
      fmla_step<Arch, WType, 1>(odd, a + MR, w + NR, std::make_integer_sequence<int, 1>{});
      a += 2 * MR;
      w += 2 * NR;
    }
#pragma GCC unroll 8
    for (int j = 0; j < 3; ++j) acc[0][j] = vaddq_f32(acc[0][j], odd[0][j]);
  }
  for (; k < args.kc; ++k) {
    // Keeps the next k's loads below this point (hoisted, they would spill accumulators).
    __asm__ volatile("" ::: "memory");
    fmla_step<Arch, WType, Rows>(acc, a, w, std::make_integer_sequence<int, Rows>{});
    a += MR;
    w += NR;
  }
  alignas(16) float tile[MR * NR];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 3; ++j) vst1q_f32(tile + i * NR + 4 * j, acc[i][j]);
  store_gemm_tile<Arch, NR, float>(tile, args);
}

/// The float kernel of backend Arch for weights stored as WType (float or binary16 bits).
template <class Arch, class WType>
struct f32_8x12_kernel {
  using arch = Arch;
  static constexpr index_t mr = 8, nr = 12, kr = 1;
  using a_type = float;
  using w_type = WType;
  using acc_type = float;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  // A 8 x 256 panel (8 KiB) and a 12 x 256 W panel (12 KiB, 6 KiB as fp16) share L1; a
  // 192 x 256 W block (192 KiB) stays in L2.
  static constexpr index_t kc_block = 256, mc_block = 128, nc_block = 192;

  static void run(const gemm_tile_args<float>& args) noexcept {
    switch (args.rows) {
      case 1: f32_8x12_tile<Arch, WType, 1>(args); break;
      case 2: f32_8x12_tile<Arch, WType, 2>(args); break;
      case 3: f32_8x12_tile<Arch, WType, 3>(args); break;
      case 4: f32_8x12_tile<Arch, WType, 4>(args); break;
      case 5: f32_8x12_tile<Arch, WType, 5>(args); break;
      case 6: f32_8x12_tile<Arch, WType, 6>(args); break;
      case 7: f32_8x12_tile<Arch, WType, 7>(args); break;
      default: f32_8x12_tile<Arch, WType, 8>(args); break;
    }
  }
};

}  // namespace neon_gemm
}  // namespace detail

/// ASIMD fp32 x fp32 kernel (neon_dotprod uses it too).
template <>
struct gemm_kernel<arch::neon, gemm_dtype::f32, gemm_dtype::f32> : detail::neon_gemm::f32_8x12_kernel<arch::neon, float> {
  static constexpr const char* name = "f32_8x12__neon";
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON
