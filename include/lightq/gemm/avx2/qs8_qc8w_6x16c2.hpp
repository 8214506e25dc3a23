// AVX2 int8 micro-kernel, exact: 6 rows x 16 columns, K in pairs. Activations are packed as
// int16, weights stay int8 in memory and are sign-extended in registers (vpmovsxbw); vpmaddwd
// sums two products per 32-bit lane exactly, vpaddd accumulates modulo 2^32.
//
// Why not vpmaddubsw: it multiplies uint8 x int8 and saturates the int16 sum of two products,
// which uint8 activations x [-127, 127] weights overflow (2 * 255 * 127 = 64770). The sign trick
// (|a| x sign(a) * w with int8 activations) avoids the overflow but costs 4.5 uops per 32
// products against 2 per 16 here, and breaks on a = -128 when the sign is put on the
// activation; vpmaddwd is exact for every qs8/qu8 input with no re-encoding.
#pragma once

#include <cstdint>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>

namespace lightq {
namespace detail {

/// The int8 tile for `Rows` (1..6) rows: packed A holds 6 rows x 2 int16 per K pair, packed W
/// 16 columns x 2 int8.
template <class Arch, int Rows>
LIGHTQ_ALWAYS_INLINE void qs8_6x16c2_tile(const gemm_tile_args<std::int32_t>& args) noexcept {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define LIGHTQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
  if (args.accumulate) {
    const std::int32_t* p = args.partial;
    const index_t ps = args.partial_stride;
#define LIGHTQ_LOAD_ROW(r)                                                                     \
  if constexpr (Rows > r) {                                                                    \
    c##r##0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + r * ps));                \
    c##r##1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + r * ps + 8));            \
  }
    LIGHTQ_ROWS(LIGHTQ_LOAD_ROW)
#undef LIGHTQ_LOAD_ROW
  }
  const auto* a = static_cast<const std::int16_t*>(args.a);
  const auto* w = static_cast<const std::int8_t*>(args.w);
  for (index_t pairs = args.kc / 2; pairs > 0; --pairs) {
    _mm_prefetch(reinterpret_cast<const char*>(w) + 1024, _MM_HINT_T0);  // weights stream once (GEMV)
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(w)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(w + 16)));
#define LIGHTQ_MADD_ROW(r)                                                        \
  if constexpr (Rows > r) {                                                       \
    std::int32_t a2;                                                              \
    __builtin_memcpy(&a2, a + 2 * r, 4);                                          \
    const __m256i av = _mm256_set1_epi32(a2);                                     \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(av, b0));               \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(av, b1));               \
  }
    LIGHTQ_ROWS(LIGHTQ_MADD_ROW)
#undef LIGHTQ_MADD_ROW
    a += 12;
    w += 32;
  }
  // A full-width int8/uint8 tile with one zero point for all rows is finished from the
  // registers with the shared stage's own requantize_fp32 and store_narrow (the same bits): at
  // small K (MobileNet's 1x1 layers) the round trip through memory cost as much as the products.
  if (args.out && args.cols == 16 && args.out->column_offsets &&
      (args.out->kind == gemm_output_kind::int8 || args.out->kind == gemm_output_kind::uint8)) {
    const gemm_output_tile& o = *args.out;
    using xarch = xsimd_arch_t<Arch>;
    using ib = xsimd::batch<std::int32_t, xarch>;
    using fb = xsimd::batch<float, xarch>;
    const ib off0 = ib::load_unaligned(o.column_offsets + args.col0), off1 = ib::load_unaligned(o.column_offsets + args.col0 + 8);
    const fb mul0 = fb::load_unaligned(o.column_multipliers + args.col0);
    const fb mul1 = fb::load_unaligned(o.column_multipliers + args.col0 + 8);
    const index_t offset = args.row0 * o.row_stride + args.col0;
#define LIGHTQ_FINISH_ROW(r)                                                                              \
  if constexpr (Rows > r) {                                                                               \
    store_narrow<xarch>(y + r * o.row_stride, requantize_fp32(ib(c##r##0) + off0, mul0, o.bounds));       \
    store_narrow<xarch>(y + r * o.row_stride + 8, requantize_fp32(ib(c##r##1) + off1, mul1, o.bounds));   \
  }
    if (o.kind == gemm_output_kind::int8) {
      std::int8_t* y = static_cast<std::int8_t*>(o.data) + offset;
      LIGHTQ_ROWS(LIGHTQ_FINISH_ROW)
    } else {
      std::uint8_t* y = static_cast<std::uint8_t*>(o.data) + offset;
      LIGHTQ_ROWS(LIGHTQ_FINISH_ROW)
    }
#undef LIGHTQ_FINISH_ROW
    return;
  }
  // Other tiles go through the shared output stage; K-slice partials go straight to memory.
  alignas(32) std::int32_t tile[6 * 16];
  std::int32_t* dst = args.out ? tile : args.partial;
  const index_t ds = args.out ? 16 : args.partial_stride;
#define LIGHTQ_STORE_ROW(r)                                                          \
  if constexpr (Rows > r) {                                                          \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + r * ds), c##r##0);          \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + r * ds + 8), c##r##1);      \
  }
  LIGHTQ_ROWS(LIGHTQ_STORE_ROW)
#undef LIGHTQ_STORE_ROW
#undef LIGHTQ_ROWS
  if (args.out) store_gemm_tile<Arch, 16, std::int32_t>(tile, args);
}

}  // namespace detail

/// qs8/qu8/qd8 x qc8w on AVX2, exact: `gemm/avx2/qs8_qc8w_6x16c2.hpp`.
template <>
struct gemm_kernel<arch::avx2, qs8, qc8w> {
  static constexpr const char* name = "qs8_qc8w_6x16c2__avx2";
  using arch = arch::avx2;
  static constexpr index_t mr = 6, nr = 16, kr = 2;
  using a_type = std::int16_t;  // int8 and uint8 activations both fit: no re-encoding
  using w_type = std::int8_t;
  using acc_type = std::int32_t;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr int a_shift_from_qs8 = 0;
  static constexpr int a_shift_from_qu8 = 0;
  static constexpr index_t kc_block = 2048, mc_block = 32 * mr, nc_block = 32 * nr;

  static void run(const gemm_tile_args<std::int32_t>& args) noexcept {
    switch (args.rows) {
      case 1: detail::qs8_6x16c2_tile<arch, 1>(args); break;
      case 2: detail::qs8_6x16c2_tile<arch, 2>(args); break;
      case 3: detail::qs8_6x16c2_tile<arch, 3>(args); break;
      case 4: detail::qs8_6x16c2_tile<arch, 4>(args); break;
      case 5: detail::qs8_6x16c2_tile<arch, 5>(args); break;
      default: detail::qs8_6x16c2_tile<arch, 6>(args); break;
    }
  }
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_AVX2
