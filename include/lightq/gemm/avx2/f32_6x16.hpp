// AVX2 fp32 micro-kernels: 6 rows x 16 columns (12 ymm accumulators, vbroadcastss + FMA),
// weights fp32 or fp16 (widened in registers with F16C vcvtph2ps).
#pragma once

#include <cstdint>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_AVX2)
#include <immintrin.h>

namespace lightq {
namespace detail {

LIGHTQ_ALWAYS_INLINE __m256 load_weights_ymm(const float* w) noexcept { return _mm256_load_ps(w); }
LIGHTQ_ALWAYS_INLINE __m256 load_weights_ymm(const std::uint16_t* w) noexcept {
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(w)));
}

/// The fp32 tile for `Rows` (1..6) rows: packed A is 6 floats per k, packed W 16 values per k.
template <class Arch, int Rows, class WType>
LIGHTQ_ALWAYS_INLINE void f32_6x16_tile(const gemm_tile_args<float>& args) noexcept {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define LIGHTQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
  if (args.accumulate) {
    const float* p = args.partial;
    const index_t ps = args.partial_stride;
#define LIGHTQ_LOAD_ROW(r)                         \
  if constexpr (Rows > r) {                        \
    c##r##0 = _mm256_loadu_ps(p + r * ps);         \
    c##r##1 = _mm256_loadu_ps(p + r * ps + 8);     \
  }
    LIGHTQ_ROWS(LIGHTQ_LOAD_ROW)
#undef LIGHTQ_LOAD_ROW
  }
  const auto* a = static_cast<const float*>(args.a);
  const auto* w = static_cast<const WType*>(args.w);
  for (index_t k = args.kc; k > 0; --k) {
    _mm_prefetch(reinterpret_cast<const char*>(w) + 1024, _MM_HINT_T0);  // weights stream once (GEMV)
    const __m256 b0 = load_weights_ymm(w);
    const __m256 b1 = load_weights_ymm(w + 8);
#define LIGHTQ_FMA_ROW(r)                           \
  if constexpr (Rows > r) {                         \
    const __m256 av = _mm256_broadcast_ss(a + r);   \
    c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);     \
    c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);     \
  }
    LIGHTQ_ROWS(LIGHTQ_FMA_ROW)
#undef LIGHTQ_FMA_ROW
    a += 6;
    w += 16;
  }
  // Finished tiles go through the shared output stage; K-slice partials go straight to memory.
  alignas(32) float tile[6 * 16];
  float* dst = args.out ? tile : args.partial;
  const index_t ds = args.out ? 16 : args.partial_stride;
#define LIGHTQ_STORE_ROW(r)                            \
  if constexpr (Rows > r) {                            \
    _mm256_storeu_ps(dst + r * ds, c##r##0);           \
    _mm256_storeu_ps(dst + r * ds + 8, c##r##1);       \
  }
  LIGHTQ_ROWS(LIGHTQ_STORE_ROW)
#undef LIGHTQ_STORE_ROW
#undef LIGHTQ_ROWS
  if (args.out) store_gemm_tile<Arch, 16, float>(tile, args);
}

/// Shared body of the fp32 and fp16-weight AVX2 kernels.
template <class WType>
struct avx2_f32_6x16_kernel {
  using arch = arch::avx2;
  static constexpr index_t mr = 6, nr = 16, kr = 1;
  using a_type = float;
  using w_type = WType;
  using acc_type = float;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr index_t kc_block = 256, mc_block = 24 * mr, nc_block = 32 * nr;

  static void run(const gemm_tile_args<float>& args) noexcept {
    switch (args.rows) {
      case 1: f32_6x16_tile<arch, 1, WType>(args); break;
      case 2: f32_6x16_tile<arch, 2, WType>(args); break;
      case 3: f32_6x16_tile<arch, 3, WType>(args); break;
      case 4: f32_6x16_tile<arch, 4, WType>(args); break;
      case 5: f32_6x16_tile<arch, 5, WType>(args); break;
      default: f32_6x16_tile<arch, 6, WType>(args); break;
    }
  }
};

}  // namespace detail

/// fp32 x fp32 on AVX2: `gemm/avx2/f32_6x16.hpp`.
template <>
struct gemm_kernel<arch::avx2, gemm_dtype::f32, gemm_dtype::f32> : detail::avx2_f32_6x16_kernel<float> {
  static constexpr const char* name = "f32_6x16__avx2";
};
/// fp32 activations x fp16 weights on AVX2 (F16C).
template <>
struct gemm_kernel<arch::avx2, gemm_dtype::f32, gemm_dtype::f16> : detail::avx2_f32_6x16_kernel<std::uint16_t> {
  static constexpr const char* name = "f32_f16w_6x16__avx2";
};
/// fp16 activations x fp16 weights on AVX2: no fp16 arithmetic here, so the activations are
/// widened (exactly) when packed and the fp32 x fp16-weight tile runs.
template <>
struct gemm_kernel<arch::avx2, gemm_dtype::f16, gemm_dtype::f16> : detail::avx2_f32_6x16_kernel<std::uint16_t> {
  static constexpr const char* name = "f16_f16w_6x16__avx2 (fp32 arithmetic)";
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_AVX2
