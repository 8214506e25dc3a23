// Attention micro-kernels for AArch64 NEON with the dot product extension: int8 Q*K^T and P*V
// with SDOT (4 int8 products summed into each int32 lane, exact). The fp16 load is NEON's.
#pragma once

#include "lightq/attention/detail/ops.hpp"
#include "lightq/attention/neon/ops_neon.hpp"
#include "lightq/core/arch.hpp"

#if defined(LIGHTQ_HAS_NEON_DOTPROD)
#include <arm_neon.h>

namespace lightq {
namespace detail {

template <class Arch>
struct attention_int8_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon_dotprod>>> {
  static void prepare_query(const std::int8_t* q, index_t groups, std::uint8_t* prepared) noexcept {
    std::memcpy(prepared, q, static_cast<std::size_t>(groups * 4));
  }

  static void dot_key_tile(const std::uint8_t* prepared, const std::int8_t* tile, const std::int32_t* key_sums,
                           index_t groups, std::int32_t* dots) noexcept {
    (void)key_sums;
    int32x4_t a[4];
    for (int i = 0; i < 4; ++i) a[i] = vdupq_n_s32(0);
    for (index_t g = 0; g < groups; ++g) {
      const int8x16_t qb = vreinterpretq_s8_s32(vdupq_n_s32(attention_load_i32(prepared + g * 4)));
      for (int i = 0; i < 4; ++i) a[i] = vdotq_s32(a[i], vld1q_s8(tile + g * 64 + 16 * i), qb);
    }
    for (int i = 0; i < 4; ++i) vst1q_s32(dots + 4 * i, a[i]);
  }

  template <int N>
  static void accumulate_block(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                               index_t d0, std::int32_t* acc) noexcept {
    int32x4_t a[N];
    for (int i = 0; i < N; ++i) a[i] = vld1q_s32(acc + d0 + 4 * i);
    for (index_t g = 0; g < count; ++g) {
      const int8x16_t wb = vreinterpretq_s8_s32(vdupq_n_s32(attention_load_i32(w + g * 4)));
      const std::int8_t* p = values + g * value_dim * 4 + d0 * 4;
      for (int i = 0; i < N; ++i) a[i] = vdotq_s32(a[i], vld1q_s8(p + 16 * i), wb);
    }
    for (int i = 0; i < N; ++i) vst1q_s32(acc + d0 + 4 * i, a[i]);
  }

  static void accumulate_values(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                                std::int32_t* acc) noexcept {
    index_t d = 0;
    for (; d + 32 <= value_dim; d += 32) accumulate_block<8>(w, values, count, value_dim, d, acc);
    for (; d + 16 <= value_dim; d += 16) accumulate_block<4>(w, values, count, value_dim, d, acc);
  }
};

}  // namespace detail
}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON_DOTPROD
