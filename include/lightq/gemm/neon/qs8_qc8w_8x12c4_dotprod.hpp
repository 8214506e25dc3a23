// int8 GEMM micro-kernel for AArch64 with the dot-product extension: 8x12 tile, K groups of 4,
// SDOT by lane (int8 x int8 -> int32, exact, wraps modulo 2^32 like the scalar twin).
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

/// Row i of the tile += its 4 activations (lane Lane of `a`) . 12 columns of 4 weights.
template <class Arch, int Lane>
LIGHTQ_ALWAYS_INLINE void sdot_row(int32x4_t (&acc)[3], int8x16_t w0, int8x16_t w1, int8x16_t w2, int8x16_t a) noexcept {
  acc[0] = vdotq_laneq_s32(acc[0], w0, a, Lane);
  acc[1] = vdotq_laneq_s32(acc[1], w1, a, Lane);
  acc[2] = vdotq_laneq_s32(acc[2], w2, a, Lane);
}

/// One K group of 4: packed A holds 8 rows x 4 bytes (rows 0-3 in one register, 4-7 in the
/// next, one row per 32-bit lane), packed W 12 columns x 4 bytes (three registers).
template <class Arch, int Rows, int... I>
LIGHTQ_ALWAYS_INLINE void sdot_group(int32x4_t (&acc)[Rows][3], const std::int8_t* a, const std::int8_t* w,
                                     std::integer_sequence<int, I...>) noexcept {
  const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32);
  const int8x16_t a_lo = vld1q_s8(a);
  int8x16_t a_hi = a_lo;
  if constexpr (Rows > 4) a_hi = vld1q_s8(a + 16);
  (sdot_row<Arch, I % 4>(acc[I], w0, w1, w2, I < 4 ? a_lo : a_hi), ...);
}

/// The 8x12c4 tile for the first `Rows` rows (a GEMV runs Rows = 1: 3 SDOT per 48 weight bytes).
template <class Arch, int Rows>
LIGHTQ_ALWAYS_INLINE void qs8_8x12c4_tile(const gemm_tile_args<std::int32_t>& args) noexcept {
  constexpr index_t MR = 8, NR = 12, KR = 4;
  int32x4_t acc[Rows][3];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 3; ++j)
      acc[i][j] = args.accumulate ? vld1q_s32(args.partial + i * args.partial_stride + 4 * j) : vdupq_n_s32(0);
  const auto* a = static_cast<const std::int8_t*>(args.a);
  const auto* w = static_cast<const std::int8_t*>(args.w);
  for (index_t k = 0; k < args.kc; k += KR) {
    // Keeps the next group's loads below this point: hoisted, they would need registers the 24
    // accumulators already hold, and gcc would spill.
    __asm__ volatile("" ::: "memory");
    sdot_group<Arch, Rows>(acc, a, w, std::make_integer_sequence<int, Rows>{});
    a += MR * KR;
    w += NR * KR;
  }
  alignas(16) std::int32_t tile[MR * NR];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 3; ++j) vst1q_s32(tile + i * NR + 4 * j, acc[i][j]);
  store_gemm_tile<Arch, NR, std::int32_t>(tile, args);
}

}  // namespace neon_gemm
}  // namespace detail

/// SDOT int8 kernel (qs8, qu8 and qd8 activations, all packed as int8) x qc8w.
template <>
struct gemm_kernel<arch::neon_dotprod, gemm_dtype::qs8, gemm_dtype::qc8w> {
  static constexpr const char* name = "qs8_qc8w_8x12c4__neon_dotprod";
  using arch = lightq::arch::neon_dotprod;
  static constexpr index_t mr = 8, nr = 12, kr = 4;
  using a_type = std::int8_t;
  using w_type = std::int8_t;
  using acc_type = std::int32_t;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr int a_shift_from_qs8 = 0;
  static constexpr int a_shift_from_qu8 = -128;  // uint8 -> int8 (XOR 0x80); the zero point follows
  // An 8 x 2048 A panel (16 KiB) and a 12 x 2048 W panel (24 KiB) share L1; a 240 x 2048 W block
  // (480 KiB) stays in L2.
  static constexpr index_t kc_block = 2048, mc_block = 128, nc_block = 240;

  static void run(const gemm_tile_args<std::int32_t>& args) noexcept {
    using detail::neon_gemm::qs8_8x12c4_tile;
    switch (args.rows) {
      case 1: qs8_8x12c4_tile<arch, 1>(args); break;
      case 2: qs8_8x12c4_tile<arch, 2>(args); break;
      case 3: qs8_8x12c4_tile<arch, 3>(args); break;
      case 4: qs8_8x12c4_tile<arch, 4>(args); break;
      case 5: qs8_8x12c4_tile<arch, 5>(args); break;
      case 6: qs8_8x12c4_tile<arch, 6>(args); break;
      case 7: qs8_8x12c4_tile<arch, 7>(args); break;
      default: qs8_8x12c4_tile<arch, 8>(args); break;
    }
  }
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON_DOTPROD
