// The attention micro-kernels' contract and their scalar twin (plain C++, no SIMD types):
// exact int32 Q*K^T dot products over a 16-token K tile, and P*V accumulation over 4-token V
// groups. The SIMD backends (attention/x86, attention/neon) specialise attention_int8_ops and
// must return the same int32 values bit for bit.
#pragma once

#include <cstdint>
#include <cstring>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

LIGHTQ_ALWAYS_INLINE std::int32_t attention_load_i32(const void* p) noexcept {
  std::int32_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

/// int8 attention micro-kernels of backend `Arch`. The primary template is the scalar twin.
///
/// Layouts (kv_cache): a K tile holds 16 tokens as [groups][16 tokens][4 channels] int8 in
/// [-127, 127]; a V group holds 4 tokens as [value_dim][4 tokens] int8; P weights are uint8 in
/// [0, 127] (so u8 x s8 pairs never saturate vpmaddubsw and fit s8 for SDOT / SMULL).
template <class Arch, class = void>
struct attention_int8_ops {
  /// Bytes of a query row as dot_key_tile wants them (groups * 4 bytes). The scalar twin and the
  /// sign-trick / SMULL / SDOT backends use the int8 values; VNNI stores q + 128 as uint8.
  static void prepare_query(const std::int8_t* q, index_t groups, std::uint8_t* prepared) noexcept {
    std::memcpy(prepared, q, static_cast<std::size_t>(groups * 4));
  }
  /// dots[t] = sum_c q[c] * k[t][c] exactly, for the 16 tokens t of one K tile; `key_sums[t]`
  /// (the sum of token t's int8 values) serves the +128 correction of VNNI.
  static void dot_key_tile(const std::uint8_t* prepared, const std::int8_t* tile, const std::int32_t* key_sums,
                           index_t groups, std::int32_t* dots) noexcept {
    (void)key_sums;
    const auto* q = reinterpret_cast<const std::int8_t*>(prepared);
    for (index_t t = 0; t < 16; ++t) {
      std::int32_t acc = 0;
      for (index_t g = 0; g < groups; ++g)
        for (index_t c = 0; c < 4; ++c)
          acc += static_cast<std::int32_t>(q[g * 4 + c]) * static_cast<std::int32_t>(tile[g * 64 + t * 4 + c]);
      dots[t] = acc;
    }
  }
  /// acc[d] += sum_t w[t] * v[t][d] over `count` V groups of 4 tokens (w: 4 * count bytes),
  /// for d < value_dim (a multiple of 16).
  static void accumulate_values(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                                std::int32_t* acc) noexcept {
    for (index_t g = 0; g < count; ++g) {
      const std::int8_t* group = values + g * value_dim * 4;
      for (index_t d = 0; d < value_dim; ++d) {
        std::int32_t sum = 0;
        for (index_t t = 0; t < 4; ++t)
          sum += static_cast<std::int32_t>(w[g * 4 + t]) * static_cast<std::int32_t>(group[d * 4 + t]);
        acc[d] += sum;
      }
    }
  }
};

/// Prefetches the 64-byte line at p into L2 (no-op where the compiler has no builtin).
LIGHTQ_ALWAYS_INLINE void attention_prefetch_line(const void* p) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 2);
#else
  (void)p;
#endif
}

/// Cache lines of the K and V streams to prefetch while one K tile is scored (decode streams the
/// cache once): k_lines lines from k, v_lines from v. Kernels with a channel loop spread them over
/// it (one K and one V line per channel group) instead of issuing them in a burst.
struct attention_stream_lines {
  const char* k = nullptr;
  index_t k_lines = 0;
  const char* v = nullptr;
  index_t v_lines = 0;
  void all() const noexcept {
    for (index_t i = 0; i < k_lines; ++i) attention_prefetch_line(k + 64 * i);
    for (index_t i = 0; i < v_lines; ++i) attention_prefetch_line(v + 64 * i);
  }
};

/// Q*K^T of R query rows x 2 int8 digits against one 16-token K tile: dots[(2i + d) * ld + t] =
/// dot_key_tile(prepared[i] + d * groups * 4, ...)[t] for rows i < R and digits d < 2. Backends
/// with a fused kernel (one K load for the 2R dot products) provide
/// `dot_key_tile_rows<R>`; the others run dot_key_tile 2R times. Same int32 values either way.
template <class Arch, int R, class Ops>
LIGHTQ_ALWAYS_INLINE void attention_dot_key_tile_rows(const std::uint8_t* const* prepared, const std::int8_t* tile,
                                                      const std::int32_t* key_sums, index_t groups,
                                                      std::int32_t* dots, index_t ld,
                                                      const attention_stream_lines& ahead = {}) noexcept {
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    Ops::template dot_key_tile_rows<R>(prepared, tile, key_sums, groups, dots, ld, ahead);
  } else {
    ahead.all();
    for (int i = 0; i < R; ++i)
      for (int d = 0; d < 2; ++d) Ops::dot_key_tile(prepared[i] + d * groups * 4, tile, key_sums, groups, dots + (2 * i + d) * ld);
  }
}

/// P*V of R rows: acc[i][d] += sum_t w[i][t] * v[t][d] (accumulate_values per row). Backends with
/// a fused kernel (one V load for R rows) provide `accumulate_values_rows<R>`.
template <class Arch, int R, class Ops>
LIGHTQ_ALWAYS_INLINE void attention_accumulate_values_rows(const std::uint8_t* const* w, const std::int8_t* values,
                                                           index_t count, index_t value_dim,
                                                           std::int32_t* const* acc) noexcept {
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    Ops::template accumulate_values_rows<R>(w, values, count, value_dim, acc);
  } else {
    for (int i = 0; i < R; ++i) Ops::accumulate_values(w[i], values, count, value_dim, acc[i]);
  }
}

/// Float helpers of every SIMD backend (F16C / vcvtph2ps / fcvtl; intrinsics where xsimd has
/// none or, like xsimd 8.1's AVX-512 haddp, returns lanes out of order):
///   static float_batch<Arch> load_f16(const std::uint16_t*)  fp16 -> fp32 in registers
///   static float_batch<Arch> transpose_sum(const float_batch<Arch>* acc)  lane i = sum of acc[i]
///   static float max_lane(const float_batch<Arch>&)  the largest lane
/// The scalar twin has none: it converts with lightq::half_to_float and sums one value at a time.
template <class Arch, class = void>
struct attention_float_ops {};

}  // namespace detail
}  // namespace lightq
