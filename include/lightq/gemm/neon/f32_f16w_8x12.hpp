// fp32 activations x fp16 weights GEMM micro-kernel for AArch64 ASIMD: the 8x12 fp32 tile with
// its weights stored as binary16 (half the bytes) and widened exactly by FCVTL/FCVTL2.
#pragma once

#include <cstdint>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/neon/f32_8x12.hpp"

#if defined(LIGHTQ_HAS_NEON)

namespace lightq {

/// ASIMD fp32 x fp16-weight kernel (neon_dotprod uses it too). Widening is exact, so it computes
/// what f32_8x12__neon computes on the widened weights.
template <>
struct gemm_kernel<arch::neon, gemm_dtype::f32, gemm_dtype::f16>
    : detail::neon_gemm::f32_8x12_kernel<arch::neon, std::uint16_t> {
  static constexpr const char* name = "f32_f16w_8x12__neon";
};

/// fp16 activations x fp16 weights on ASIMD without fp16 arithmetic: activations widened
/// exactly when packed, the fp32 x fp16-weight tile runs (neon_dotprod has its own fp16 kernel).
template <>
struct gemm_kernel<arch::neon, gemm_dtype::f16, gemm_dtype::f16>
    : detail::neon_gemm::f32_8x12_kernel<arch::neon, std::uint16_t> {
  static constexpr const char* name = "f16_f16w_8x12__neon (fp32 arithmetic)";
};

}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON
