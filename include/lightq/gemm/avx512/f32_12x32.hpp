// AVX-512 fp32 micro-kernels: 12 rows x 32 columns (24 zmm accumulators, the A broadcast folded
// into the FMA), weights fp32 or fp16 (widened in registers with vcvtph2ps).
#pragma once

#include <cstdint>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

LIGHTQ_ALWAYS_INLINE __m512 load_weights_zmm(const float* w) noexcept { return _mm512_load_ps(w); }
LIGHTQ_ALWAYS_INLINE __m512 load_weights_zmm(const std::uint16_t* w) noexcept {
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w)));
}

/// The fp32 tile for `Rows` (1..12) rows: packed A is 12 floats per k, packed W 32 values per k.
template <int Rows, class WType>
LIGHTQ_ALWAYS_INLINE void f32_12x32_tile(const gemm_tile_args<float>& args) noexcept {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00, cA0 = c00, cA1 = c00, cB0 = c00, cB1 = c00;
#define LIGHTQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(A) X(B)
#define LIGHTQ_ROW_INDEX(r) (0x##r)
  if (args.accumulate) {
    const float* p = args.partial;
    const index_t ps = args.partial_stride;
#define LIGHTQ_LOAD_ROW(r)                                                 \
  if constexpr (Rows > LIGHTQ_ROW_INDEX(r)) {                              \
    c##r##0 = _mm512_loadu_ps(p + LIGHTQ_ROW_INDEX(r) * ps);               \
    c##r##1 = _mm512_loadu_ps(p + LIGHTQ_ROW_INDEX(r) * ps + 16);          \
  }
    LIGHTQ_ROWS(LIGHTQ_LOAD_ROW)
#undef LIGHTQ_LOAD_ROW
  }
  const auto* a = static_cast<const float*>(args.a);
  const auto* w = static_cast<const WType*>(args.w);
  for (index_t k = args.kc; k > 0; --k) {
    _mm_prefetch(reinterpret_cast<const char*>(w) + 2048, _MM_HINT_T0);  // weights stream once (GEMV)
    if constexpr (sizeof(WType) == 4) _mm_prefetch(reinterpret_cast<const char*>(w) + 2048 + 64, _MM_HINT_T0);
    const __m512 b0 = load_weights_zmm(w);
    const __m512 b1 = load_weights_zmm(w + 16);
#define LIGHTQ_FMA_ROW(r)                                    \
  if constexpr (Rows > LIGHTQ_ROW_INDEX(r)) {                \
    const __m512 av = _mm512_set1_ps(a[LIGHTQ_ROW_INDEX(r)]); \
    c##r##0 = _mm512_fmadd_ps(av, b0, c##r##0);              \
    c##r##1 = _mm512_fmadd_ps(av, b1, c##r##1);              \
  }
    LIGHTQ_ROWS(LIGHTQ_FMA_ROW)
#undef LIGHTQ_FMA_ROW
    a += 12;
    w += 32;
  }
  // A finished tile is biased, clamped and stored from the registers (masks cover a column
  // tail; the same two operations as the shared stage, so the same bits).
  if (args.out) {
    const gemm_output_tile& o = *args.out;
    const int cols = static_cast<int>(args.cols);
    const __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1u);
    const __mmask16 m1 = cols >= 32 ? __mmask16(0xffff) : cols > 16 ? __mmask16((1u << (cols - 16)) - 1u) : __mmask16(0);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = bias0;
    if (o.bias_f32) {
      bias0 = _mm512_maskz_loadu_ps(m0, o.bias_f32 + args.col0);
      bias1 = _mm512_maskz_loadu_ps(m1, o.bias_f32 + args.col0 + 16);
    }
    const __m512 lo = _mm512_set1_ps(o.min), hi = _mm512_set1_ps(o.max);
    float* y = static_cast<float*>(o.data) + args.row0 * o.row_stride + args.col0;
    // min(max(acc + bias, lo), hi) in the shared stage's operand order (NaN behaves the same).
#define LIGHTQ_FINISH_ROW(r)                                                                                   \
  if constexpr (Rows > LIGHTQ_ROW_INDEX(r)) {                                                                  \
    _mm512_mask_storeu_ps(y + LIGHTQ_ROW_INDEX(r) * o.row_stride, m0,                                          \
                          _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(c##r##0, bias0), lo), hi));               \
    _mm512_mask_storeu_ps(y + LIGHTQ_ROW_INDEX(r) * o.row_stride + 16, m1,                                     \
                          _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(c##r##1, bias1), lo), hi));               \
  }
    LIGHTQ_ROWS(LIGHTQ_FINISH_ROW)
#undef LIGHTQ_FINISH_ROW
    return;
  }
  // K-slice partials go straight to memory.
  float* dst = args.partial;
  const index_t ds = args.partial_stride;
#define LIGHTQ_STORE_ROW(r)                                          \
  if constexpr (Rows > LIGHTQ_ROW_INDEX(r)) {                        \
    _mm512_storeu_ps(dst + LIGHTQ_ROW_INDEX(r) * ds, c##r##0);       \
    _mm512_storeu_ps(dst + LIGHTQ_ROW_INDEX(r) * ds + 16, c##r##1);  \
  }
  LIGHTQ_ROWS(LIGHTQ_STORE_ROW)
#undef LIGHTQ_STORE_ROW
#undef LIGHTQ_ROW_INDEX
#undef LIGHTQ_ROWS
}

/// Shared body of the fp32 and fp16-weight AVX-512 kernels.
template <class WType>
struct avx512_f32_12x32_kernel {
  using arch = arch::avx512_vnni;
  static constexpr index_t mr = 12, nr = 32, kr = 1;
  using a_type = float;
  using w_type = WType;
  using acc_type = float;
  using a_layout = blocked_panel_layout<mr, kr>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr index_t kc_block = 384, mc_block = 16 * mr, nc_block = 16 * nr;

  static void run(const gemm_tile_args<float>& args) noexcept {
    switch (args.rows) {
      case 1: f32_12x32_tile<1, WType>(args); break;
      case 2: f32_12x32_tile<2, WType>(args); break;
      case 3: f32_12x32_tile<3, WType>(args); break;
      case 4: f32_12x32_tile<4, WType>(args); break;
      case 5: f32_12x32_tile<5, WType>(args); break;
      case 6: f32_12x32_tile<6, WType>(args); break;
      case 7: f32_12x32_tile<7, WType>(args); break;
      case 8: f32_12x32_tile<8, WType>(args); break;
      case 9: f32_12x32_tile<9, WType>(args); break;
      case 10: f32_12x32_tile<10, WType>(args); break;
      case 11: f32_12x32_tile<11, WType>(args); break;
      default: f32_12x32_tile<12, WType>(args); break;
    }
  }
};

}  // namespace detail

/// fp32 x fp32 on AVX-512: `gemm/avx512/f32_12x32.hpp`.
template <>
struct gemm_kernel<arch::avx512_vnni, gemm_dtype::f32, gemm_dtype::f32> : detail::avx512_f32_12x32_kernel<float> {
  static constexpr const char* name = "f32_12x32__avx512";
};
/// fp32 activations x fp16 weights on AVX-512 (F16C widening in registers).
template <>
struct gemm_kernel<arch::avx512_vnni, gemm_dtype::f32, gemm_dtype::f16> : detail::avx512_f32_12x32_kernel<std::uint16_t> {
  static constexpr const char* name = "f32_f16w_12x32__avx512";
};
/// fp16 activations x fp16 weights on AVX-512 (no AVX512-FP16 backend): activations widened
/// exactly when packed, fp32 arithmetic.
template <>
struct gemm_kernel<arch::avx512_vnni, gemm_dtype::f16, gemm_dtype::f16> : detail::avx512_f32_12x32_kernel<std::uint16_t> {
  static constexpr const char* name = "f16_f16w_12x32__avx512 (fp32 arithmetic)";
};

}  // namespace lightq

LIGHTQ_GCC_PR105593_END

#endif  // LIGHTQ_HAS_AVX512_VNNI
