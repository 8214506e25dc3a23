// The implicit-GEMM tile contract of conv2d: what a micro-kernel is handed (row pointers into an
// im2col tile or straight into the input, one packed weight panel, the per-channel output stage).
#pragma once

#include <cstdint>

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

/// One micro-kernel call: rows [0, mr) x channels [0, nr) of the kernel's MR x NR tile.
///   a[m]     row m of A (K padded to a multiple of KR); rows m >= mr repeat a valid row
///   w        the packed panel [K / KR][NR][KR] of these NR output channels
///   bias     NR int32 (int8 paths: bias minus the zero-point compensation) or float
///   scale    NR float: requantization multiplier (int8 out) or dequantization scale (fp32 out)
///   out[m]   output pointer of row m at the panel's first channel (rows m >= mr unused)
template <class A, class W, class Bias>
struct conv_tile {
  index_t mr = 0;
  index_t nr = 0;
  index_t kq = 0;  ///< number of K groups of KR
  const A* const* a = nullptr;
  const W* w = nullptr;
  const Bias* bias = nullptr;
  const float* scale = nullptr;
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

/// Wrapping int32 addition (the accumulators of shifted kernels are exact modulo 2^32).
LIGHTQ_ALWAYS_INLINE std::int32_t wrap_add(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

}  // namespace detail
}  // namespace lightq
