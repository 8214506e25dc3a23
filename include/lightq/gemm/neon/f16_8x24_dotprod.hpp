// fp16 x fp16 GEMM micro-kernel for AArch64 with fp16 arithmetic (neon_dotprod): 8x24 tile,
// FMLA .8h by lane into fp16 accumulators, flushed into fp32 every 16 k (bounded fp16 error).
//
// The (f16, f16) family of the registry: lightq::linear on lightq::half activations with weights
// packed by pack_weights_f16<Arch, gemm_dtype::f16>. Other backends run that family with fp32
// arithmetic on exactly widened activations.
//
// Error bound: within a block of at most 16 k the sum is accumulated in binary16
// with one rounding per FMA (unit roundoff u16 = 2^-11); blocks are added in fp32. For inputs
// already in binary16 and no overflow (every product and partial sum of a block below 65504):
//   |y - exact| <= 16 * u16 * sum_k |x w| + 2^-25 * K      (fp16 blocks; the second term is
//                                                          half an fp16 subnormal step per FMA)
//               + ceil(K / 16) * eps32 * sum_k |x w|       (fp32 sum of the blocks, worst case;
//                                                          ~ sqrt(K / 16) * eps32 typically)
// i.e. at most about 0.8% of sum_k |x w| (about 0.1% typically), growing with K only through
// the fp32 term.
#pragma once

#include <cstdint>
#include <utility>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_NEON_DOTPROD)
#include <arm_neon.h>

namespace lightq {
namespace detail {
namespace neon_gemm {

/// k steps accumulated in fp16 before a flush into fp32 (the bound above scales with it).
inline constexpr index_t f16_block_k = 16;

/// acc += w * a[Lane] with FMLA (by element). Inline asm because gcc 12 turns
/// vfmaq_laneq_f16 into DUP + FMLA (the by-element form of .h needs the element register in
/// v0-v15: constraint "x"), and the eight DUP registers spill the 24 accumulators.
template <class Arch, int Lane>
LIGHTQ_ALWAYS_INLINE void fmla_lane_f16(float16x8_t& acc, float16x8_t w, float16x8_t a) noexcept {
  __asm__("fmla %[acc].8h, %[w].8h, %[a].h[%[lane]]" : [acc] "+w"(acc) : [w] "w"(w), [a] "x"(a), [lane] "i"(Lane));
}

template <class Arch, int Lane>
LIGHTQ_ALWAYS_INLINE void fmla_row_f16(float16x8_t (&acc)[3], float16x8_t w0, float16x8_t w1, float16x8_t w2,
                                       float16x8_t a) noexcept {
  fmla_lane_f16<Arch, Lane>(acc[0], w0, a);
  fmla_lane_f16<Arch, Lane>(acc[1], w1, a);
  fmla_lane_f16<Arch, Lane>(acc[2], w2, a);
}

/// One k: packed A holds 8 rows (one register, one row per fp16 lane), packed W 24 columns
/// (three registers).
template <class Arch, int Rows, int... I>
LIGHTQ_ALWAYS_INLINE void fmla_step_f16(float16x8_t (&acc)[Rows][3], const std::uint16_t* a, const std::uint16_t* w,
                                        std::integer_sequence<int, I...>) noexcept {
  const float16x8_t w0 = vreinterpretq_f16_u16(vld1q_u16(w));
  const float16x8_t w1 = vreinterpretq_f16_u16(vld1q_u16(w + 8));
  const float16x8_t w2 = vreinterpretq_f16_u16(vld1q_u16(w + 16));
  const float16x8_t av = vreinterpretq_f16_u16(vld1q_u16(a));
  (fmla_row_f16<Arch, I>(acc[I], w0, w1, w2, av), ...);
}

/// fp32 tile row segment += widened fp16 accumulator (8 values).
template <class Arch>
LIGHTQ_ALWAYS_INLINE void add_widened(float* dst, float16x8_t h) noexcept {
  vst1q_f32(dst, vaddq_f32(vld1q_f32(dst), vcvt_f32_f16(vget_low_f16(h))));
  vst1q_f32(dst + 4, vaddq_f32(vld1q_f32(dst + 4), vcvt_high_f32_f16(h)));
}

template <class Arch, int Rows>
LIGHTQ_ALWAYS_INLINE void f16_8x24_tile(const gemm_tile_args<float>& args) noexcept {
  constexpr index_t MR = 8, NR = 24;
  alignas(16) float tile[MR * NR];
  for (int i = 0; i < Rows; ++i)
    for (index_t j = 0; j < NR; ++j) tile[i * NR + j] = args.accumulate ? args.partial[i * args.partial_stride + j] : 0.0f;
  const auto* a = static_cast<const std::uint16_t*>(args.a);
  const auto* w = static_cast<const std::uint16_t*>(args.w);
  for (index_t k0 = 0; k0 < args.kc; k0 += f16_block_k) {
    const index_t k_end = k0 + f16_block_k < args.kc ? k0 + f16_block_k : args.kc;
    float16x8_t acc[Rows][3];
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < 3; ++j) acc[i][j] = vreinterpretq_f16_u16(vdupq_n_u16(0));
    for (index_t k = k0; k < k_end; ++k) {
      // Keeps the next k's loads below this point (hoisted, they would spill accumulators).
      __asm__ volatile("" ::: "memory");
      fmla_step_f16<Arch, Rows>(acc, a, w, std::make_integer_sequence<int, Rows>{});
      a += MR;
      w += NR;
    }
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < 3; ++j) add_widened<Arch>(tile + i * NR + 8 * j, acc[i][j]);
  }
  store_gemm_tile<Arch, NR, float>(tile, args);
}

}  // namespace neon_gemm
}  // namespace detail

/// fp16 activations x fp16 weights -> fp32 outputs, fp16 arithmetic (see the bound above).
/// Activations and weights are binary16 bit patterns (std::uint16_t), packed like fp32 (KR = 1).
template <>
struct gemm_kernel<arch::neon_dotprod, gemm_dtype::f16, gemm_dtype::f16> {
  static constexpr const char* name = "f16_8x24__neon_dotprod";
  using arch = lightq::arch::neon_dotprod;
  static constexpr index_t mr = 8, nr = 24, kr = 1;
  using a_type = std::uint16_t;
  using w_type = std::uint16_t;
  using acc_type = float;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  // An 8 x 512 A panel (8 KiB) and a 24 x 512 W panel (24 KiB) share L1; a 192 x 512 W block
  // (192 KiB) stays in L2. kc_block is a multiple of the fp16 block so slices keep the bound.
  static constexpr index_t kc_block = 512, mc_block = 128, nc_block = 192;
  static_assert(kc_block % detail::neon_gemm::f16_block_k == 0, "K slices end on fp16 block boundaries");

  static void run(const gemm_tile_args<float>& args) noexcept {
    using detail::neon_gemm::f16_8x24_tile;
    switch (args.rows) {
      case 1: f16_8x24_tile<arch, 1>(args); break;
      case 2: f16_8x24_tile<arch, 2>(args); break;
      case 3: f16_8x24_tile<arch, 3>(args); break;
      case 4: f16_8x24_tile<arch, 4>(args); break;
      case 5: f16_8x24_tile<arch, 5>(args); break;
      case 6: f16_8x24_tile<arch, 6>(args); break;
      case 7: f16_8x24_tile<arch, 7>(args); break;
      default: f16_8x24_tile<arch, 8>(args); break;
    }
  }
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON_DOTPROD
