// The output stage of the conv2d depthwise kernels: bounds and clamp, and its scalar twin.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// Output stage of a tile: requantization bounds for int8/uint8 outputs, a float clamp for fp32.
struct conv_output_stage {
  requantize_bounds bounds{};
  float min = 0.0f;
  float max = 0.0f;
};

/// Scalar output stage of one int32 accumulator (shared by every twin).
template <class Out>
LIGHTQ_ALWAYS_INLINE Out conv_store_q8(std::int32_t acc, float scale, const conv_output_stage& st) noexcept {
  if constexpr (std::is_same_v<Out, float>) {
    const float y = static_cast<float>(acc) * scale;
    return std::min(std::max(y, st.min), st.max);
  } else {
    return static_cast<Out>(requantize_fp32(acc, scale, st.bounds));
  }
}

}  // namespace detail
}  // namespace lightq
