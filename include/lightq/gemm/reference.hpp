// The scalar reference twins of the GEMM micro-kernels (no SIMD types): they define the
// semantics every backend reproduces — bit for bit for integer outputs.
#pragma once

#include <cstdint>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/detail/half_bits.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

namespace lightq {
namespace detail {

/// Integer twin: C = sum_k a[k] * w[k] over uint8 activations (int8 ones shifted by +128) and
/// int8 weights, modulo 2^32 (unsigned arithmetic, the same wrap as vpdpbusd / SDOT).
template <class Arch, index_t MR, index_t NR, index_t KR>
struct scalar_int8_kernel {
  using arch = Arch;
  static constexpr index_t mr = MR, nr = NR, kr = KR;
  using a_type = std::uint8_t;
  using w_type = std::int8_t;
  using acc_type = std::int32_t;
  using a_layout = blocked_panel_layout<MR, KR>;
  using w_layout = blocked_panel_layout<NR, KR>;
  static constexpr int a_shift_from_qs8 = 128;
  static constexpr int a_shift_from_qu8 = 0;
  static constexpr index_t kc_block = 4096, mc_block = 64 * MR, nc_block = 16 * NR;

  static void run(const gemm_tile_args<std::int32_t>& args) noexcept {
    std::uint32_t acc[MR * NR];
    for (index_t i = 0; i < MR; ++i)
      for (index_t j = 0; j < NR; ++j)
        acc[i * NR + j] = (args.accumulate && i < args.rows)
                              ? static_cast<std::uint32_t>(args.partial[i * args.partial_stride + j])
                              : 0u;
    const auto* a = static_cast<const std::uint8_t*>(args.a);
    const auto* w = static_cast<const std::int8_t*>(args.w);
    for (index_t k = 0; k < args.kc; k += KR) {
      for (index_t i = 0; i < args.rows; ++i)
        for (index_t j = 0; j < NR; ++j) {
          std::uint32_t sum = acc[i * NR + j];
          for (index_t t = 0; t < KR; ++t)
            sum += static_cast<std::uint32_t>(static_cast<std::int32_t>(a[i * KR + t]) * static_cast<std::int32_t>(w[j * KR + t]));
          acc[i * NR + j] = sum;
        }
      a += MR * KR;
      w += NR * KR;
    }
    std::int32_t tile[MR * NR];
    for (index_t i = 0; i < MR * NR; ++i) tile[i] = static_cast<std::int32_t>(acc[i]);
    store_gemm_tile<Arch, NR, std::int32_t>(tile, args);
  }
};

/// Float twin: C = sum_k a[k] * w[k] in fp32, k in increasing order. W is fp32 or binary16
/// bits (widened exactly to fp32 before the multiply).
template <class Arch, class WType, index_t MR, index_t NR>
struct scalar_float_kernel {
  using arch = Arch;
  static constexpr index_t mr = MR, nr = NR, kr = 1;
  using a_type = float;
  using w_type = WType;
  using acc_type = float;
  using a_layout = blocked_panel_layout<MR, 1>;
  using w_layout = blocked_panel_layout<NR, 1>;
  static constexpr index_t kc_block = 256, mc_block = 64 * MR, nc_block = 16 * NR;

  static float widen(float x) noexcept { return x; }
  static float widen(std::uint16_t x) noexcept { return half_bits_to_float(x); }

  static void run(const gemm_tile_args<float>& args) noexcept {
    float acc[MR * NR];
    for (index_t i = 0; i < MR; ++i)
      for (index_t j = 0; j < NR; ++j)
        acc[i * NR + j] = (args.accumulate && i < args.rows) ? args.partial[i * args.partial_stride + j] : 0.0f;
    const auto* a = static_cast<const float*>(args.a);
    const auto* w = static_cast<const WType*>(args.w);
    for (index_t k = 0; k < args.kc; ++k) {
      for (index_t i = 0; i < args.rows; ++i)
        for (index_t j = 0; j < NR; ++j) acc[i * NR + j] += a[i] * widen(w[j]);
      a += MR;
      w += NR;
    }
    store_gemm_tile<Arch, NR, float>(acc, args);
  }
};

}  // namespace detail

/// Scalar twin, int8 activations (qs8, qu8 and qd8 all pack to uint8) x qc8w.
template <>
struct gemm_kernel<arch::scalar, gemm_dtype::qs8, gemm_dtype::qc8w> : detail::scalar_int8_kernel<arch::scalar, 4, 4, 4> {
  static constexpr const char* name = "qs8_qc8w_4x4c4__scalar";
};
/// Scalar twin, fp32 x fp32.
template <>
struct gemm_kernel<arch::scalar, gemm_dtype::f32, gemm_dtype::f32> : detail::scalar_float_kernel<arch::scalar, float, 4, 4> {
  static constexpr const char* name = "f32_4x4__scalar";
};
/// Scalar twin, fp32 activations x fp16 weights.
template <>
struct gemm_kernel<arch::scalar, gemm_dtype::f32, gemm_dtype::f16>
    : detail::scalar_float_kernel<arch::scalar, std::uint16_t, 4, 4> {
  static constexpr const char* name = "f32_f16w_4x4__scalar";
};
/// Scalar twin, fp16 activations x fp16 weights: activations are widened (exactly) when packed,
/// the arithmetic is fp32.
template <>
struct gemm_kernel<arch::scalar, gemm_dtype::f16, gemm_dtype::f16>
    : detail::scalar_float_kernel<arch::scalar, std::uint16_t, 4, 4> {
  static constexpr const char* name = "f16_f16w_4x4__scalar";
};

}  // namespace lightq
