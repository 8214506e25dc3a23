// Attention micro-kernels for AArch64 NEON (no dot product): int8 Q*K^T and P*V with
// smull (int8 x int8 -> int16, exact) and sadalp (pairwise add into int32), and the fp16 -> fp32
// load (fcvtl). Equal to the scalar twin bit for bit on the int32 results.
#pragma once

#include "lightq/attention/detail/ops.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"

#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>

namespace lightq {
namespace detail {

template <class Arch>
struct attention_int8_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon> && !arch_has_v<Arch, arch::neon_dotprod>>> {
  static void prepare_query(const std::int8_t* q, index_t groups, std::uint8_t* prepared) noexcept {
    std::memcpy(prepared, q, static_cast<std::size_t>(groups * 4));
  }

  static void dot_key_tile(const std::uint8_t* prepared, const std::int8_t* tile, const std::int32_t* key_sums,
                           index_t groups, std::int32_t* dots) noexcept {
    (void)key_sums;
    // lo[i] = [t0 c01, t0 c23, t1 c01, t1 c23] of tokens 4i, 4i+1; hi[i] the same for 4i+2, 4i+3.
    int32x4_t lo[4], hi[4];
    for (int i = 0; i < 4; ++i) lo[i] = hi[i] = vdupq_n_s32(0);
    for (index_t g = 0; g < groups; ++g) {
      const int8x16_t qb = vreinterpretq_s8_s32(vdupq_n_s32(attention_load_i32(prepared + g * 4)));
      const int8x8_t ql = vget_low_s8(qb);
      for (int i = 0; i < 4; ++i) {
        const int8x16_t k = vld1q_s8(tile + g * 64 + 16 * i);
        lo[i] = vpadalq_s16(lo[i], vmull_s8(vget_low_s8(k), ql));
        hi[i] = vpadalq_s16(hi[i], vmull_high_s8(k, qb));
      }
    }
    for (int i = 0; i < 4; ++i) vst1q_s32(dots + 4 * i, vpaddq_s32(lo[i], hi[i]));
  }

  template <int N>
  static void accumulate_block(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                               index_t d0, std::int32_t* acc) noexcept {
    // Each 16-byte load is 4 channels x 4 tokens; lo: channels 0-1, hi: channels 2-3 (pairs of tokens).
    int32x4_t lo[N], hi[N];
    for (int i = 0; i < N; ++i) lo[i] = hi[i] = vdupq_n_s32(0);
    for (index_t g = 0; g < count; ++g) {
      const int8x16_t wb = vreinterpretq_s8_s32(vdupq_n_s32(attention_load_i32(w + g * 4)));
      const int8x8_t wl = vget_low_s8(wb);
      const std::int8_t* p = values + g * value_dim * 4 + d0 * 4;
      for (int i = 0; i < N; ++i) {
        const int8x16_t v = vld1q_s8(p + 16 * i);
        lo[i] = vpadalq_s16(lo[i], vmull_s8(vget_low_s8(v), wl));
        hi[i] = vpadalq_s16(hi[i], vmull_high_s8(v, wb));
      }
    }
    for (int i = 0; i < N; ++i) vst1q_s32(acc + d0 + 4 * i, vaddq_s32(vld1q_s32(acc + d0 + 4 * i), vpaddq_s32(lo[i], hi[i])));
  }

  static void accumulate_values(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                                std::int32_t* acc) noexcept {
    for (index_t d = 0; d + 16 <= value_dim; d += 16) accumulate_block<4>(w, values, count, value_dim, d, acc);
  }
};

/// fcvtl loads and the 4-lane transposing sum (faddp tree).
template <class Arch>
struct attention_float_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon>>> {
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> load_f16(const std::uint16_t* p) noexcept {
    return float_batch<Arch>(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))));
  }
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> transpose_sum(const float_batch<Arch>* acc) noexcept {
    const float32x4_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    return float_batch<Arch>(vpaddq_f32(vpaddq_f32(a0, a1), vpaddq_f32(a2, a3)));
  }
  static LIGHTQ_ALWAYS_INLINE float max_lane(const float_batch<Arch>& v) noexcept {
    return vmaxvq_f32(v);
  }
};

}  // namespace detail
}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON
