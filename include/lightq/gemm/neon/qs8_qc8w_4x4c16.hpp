// int8 GEMM micro-kernel for AArch64 ASIMD without SDOT: 4x4 tile, K groups of 16, exact
// widening multiplies (smull + smlal2 into int16 pairs, sadalp into int32).
#pragma once

#include <cstdint>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>

namespace lightq {
namespace detail {
namespace neon_gemm {

// Why the pair fits int16: activations are int8 (qu8 arrives shifted by -128 by the packer) and
// weights are in [-127, 127], so |a0 * w0 + a1 * w1| <= 2 * 128 * 127 = 32512 < 2^15. This is
// why qc8w excludes -128: with it a pair could reach 2 * 128 * 128 = 32768 and wrap.
//
// One inline-asm statement per 16 products: written with intrinsics, gcc 12 hoists all the
// smull of a tile before the first sadalp and spills the accumulators; as one unit, each int16
// temporary dies at once and the 16 accumulators stay in registers.
template <class Arch>
LIGHTQ_ALWAYS_INLINE void mac16_s8(int32x4_t& acc, int8x16_t a, int8x16_t w) noexcept {
  int16x8_t pairs;
  __asm__(
      "smull  %[p].8h, %[a].8b, %[w].8b\n\t"
      "smlal2 %[p].8h, %[a].16b, %[w].16b\n\t"
      "sadalp %[acc].4s, %[p].8h"
      : [acc] "+w"(acc), [p] "=&w"(pairs)
      : [a] "w"(a), [w] "w"(w));
}

/// The 4x4c16 tile for the first `Rows` rows. Packed A: 4 rows x 16 bytes per K group; packed W:
/// 4 columns x 16 bytes per group. acc[i][j] holds four partial sums of (row i, column j),
/// reduced by pairwise adds at the end.
template <class Arch, int Rows>
LIGHTQ_ALWAYS_INLINE void qs8_4x4c16_tile(const gemm_tile_args<std::int32_t>& args) noexcept {
  constexpr index_t MR = 4, NR = 4, KR = 16;
  int32x4_t acc[Rows][NR];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j)
      acc[i][j] = args.accumulate ? vsetq_lane_s32(args.partial[i * args.partial_stride + j], vdupq_n_s32(0), 0)
                                  : vdupq_n_s32(0);
  const auto* a = static_cast<const std::int8_t*>(args.a);
  const auto* w = static_cast<const std::int8_t*>(args.w);
  for (index_t k = 0; k < args.kc; k += KR) {
    const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
#pragma GCC unroll 4
    for (int i = 0; i < Rows; ++i) {
      const int8x16_t ai = vld1q_s8(a + i * KR);
      mac16_s8<Arch>(acc[i][0], ai, w0);
      mac16_s8<Arch>(acc[i][1], ai, w1);
      mac16_s8<Arch>(acc[i][2], ai, w2);
      mac16_s8<Arch>(acc[i][3], ai, w3);
    }
    a += MR * KR;
    w += NR * KR;
  }
  alignas(16) std::int32_t tile[MR * NR];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
    vst1q_s32(tile + i * NR, vpaddq_s32(vpaddq_s32(acc[i][0], acc[i][1]), vpaddq_s32(acc[i][2], acc[i][3])));
  store_gemm_tile<Arch, NR, std::int32_t>(tile, args);
}

}  // namespace neon_gemm
}  // namespace detail

/// ASIMD int8 kernel (qs8, qu8 and qd8 activations, all packed as int8) x qc8w.
template <>
struct gemm_kernel<arch::neon, gemm_dtype::qs8, gemm_dtype::qc8w> {
  static constexpr const char* name = "qs8_qc8w_4x4c16__neon";
  using arch = lightq::arch::neon;
  static constexpr index_t mr = 4, nr = 4, kr = 16;
  using a_type = std::int8_t;
  using w_type = std::int8_t;
  using acc_type = std::int32_t;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr int a_shift_from_qs8 = 0;
  static constexpr int a_shift_from_qu8 = -128;  // uint8 -> int8 (XOR 0x80); the zero point follows
  // A 4 x 2048 panel (8 KiB) and a 4 x 2048 W panel stay in L1; a 256 x 2048 W block (512 KiB) in L2.
  static constexpr index_t kc_block = 2048, mc_block = 128, nc_block = 256;

  static void run(const gemm_tile_args<std::int32_t>& args) noexcept {
    switch (args.rows) {
      case 1: detail::neon_gemm::qs8_4x4c16_tile<arch, 1>(args); break;
      case 2: detail::neon_gemm::qs8_4x4c16_tile<arch, 2>(args); break;
      case 3: detail::neon_gemm::qs8_4x4c16_tile<arch, 3>(args); break;
      default: detail::neon_gemm::qs8_4x4c16_tile<arch, 4>(args); break;
    }
  }
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON
