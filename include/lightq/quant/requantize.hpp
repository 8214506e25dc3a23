// Requantization of int32 accumulators to int8/uint8: the scalar twin and the one-register
// building block that every GEMM / conv / attention output stage uses.
//
// The contract (docs/quantization.md):  y = saturate(round_half_even(clamp(float(acc) * m,
// qmin - zp, qmax - zp)) + zp). float(acc) rounds to nearest even; the multiply rounds once;
// clamping in float before rounding makes saturation and the fused activation one step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"

namespace lightq {

/// Clamp bounds of an output stage with the zero point subtracted, as the kernels use them.
struct requantize_bounds {
  float min_less_zero_point;  ///< qmin - zero_point (qmin already includes a fused activation)
  float max_less_zero_point;  ///< qmax - zero_point
  std::int32_t zero_point;
};

/// Makes the bounds for output zero point `zero_point` and the clamp range [qmin, qmax].
constexpr requantize_bounds make_requantize_bounds(std::int32_t zero_point, std::int32_t qmin, std::int32_t qmax) noexcept {
  return {static_cast<float>(qmin - zero_point), static_cast<float>(qmax - zero_point), zero_point};
}

/// Scalar twin: one accumulator to the output integer (already inside [qmin, qmax]).
LIGHTQ_ALWAYS_INLINE std::int32_t requantize_fp32(std::int32_t acc, float multiplier, const requantize_bounds& b) noexcept {
  float x = static_cast<float>(acc) * multiplier;
  x = std::max(x, b.min_less_zero_point);
  x = std::min(x, b.max_less_zero_point);
  return static_cast<std::int32_t>(std::nearbyint(x)) + b.zero_point;
}

#if defined(LIGHTQ_XSIMD_AVAILABLE)
/// One register of accumulators (xsimd batch of any backend): equal to the scalar twin lane by lane.
template <class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<std::int32_t, A> requantize_fp32(const xsimd::batch<std::int32_t, A>& acc,
                                                                   const xsimd::batch<float, A>& multiplier,
                                                                   const requantize_bounds& b) noexcept {
  using fb = xsimd::batch<float, A>;
  fb x = xsimd::to_float(acc) * multiplier;
  x = xsimd::max(x, fb(b.min_less_zero_point));
  x = xsimd::min(x, fb(b.max_less_zero_point));
  return xsimd::nearbyint_as_int(x) + xsimd::batch<std::int32_t, A>(b.zero_point);
}
#endif

}  // namespace lightq
