// Scalar twins of the conv2d implicit-GEMM micro-kernels (int8 and float) and their traits: the
// kernel every backend that has no kernel of its own uses, and the semantics the others match.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "lightq/conv/detail/tile.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/half.hpp"

namespace lightq {
namespace detail {

/// int8 implicit-GEMM kernel of backend Arch (specialised per ISA in conv/<isa>/). The scalar
/// twin: A holds centered activations (x - zx) as int16, W the int8 weights, KR = 1.
template <class Arch, class = void>
struct conv_q8_kernel {
  static constexpr index_t mr = 4;
  static constexpr index_t nr = 8;
  static constexpr index_t kr = 1;
  using a_type = std::int16_t;
  using w_type = std::int8_t;
  static constexpr const char* name = "q8_igemm_4x8__scalar";

  /// Value of input x (zero point zx) in the A tile; the padding value is a_value(zx, zx).
  template <class T>
  static a_type a_value(T x, std::int32_t zx) noexcept {
    return static_cast<a_type>(static_cast<std::int32_t>(x) - zx);
  }
  /// Offset c such that the kernel's raw sum equals sum (x - zx) w + c * column_sum: subtracted
  /// times the column sums from the bias. 0: this kernel sums centered values.
  template <class T>
  static std::int32_t compensation(std::int32_t) noexcept {
    return 0;
  }

  template <class Out>
  static void run(const conv_tile<a_type, w_type, std::int32_t>& t, Out* const* out, const conv_output_stage& st) noexcept {
    for (index_t m = 0; m < t.mr; ++m) {
      for (index_t j = 0; j < t.nr; ++j) {
        std::int32_t acc = 0;
        const w_type* w = t.w + j;
        const a_type* a = t.a[m];
        for (index_t k = 0; k < t.kq; ++k) acc += static_cast<std::int32_t>(a[k]) * w[k * nr];
        out[m][j] = conv_store_q8<Out>(wrap_add(acc, t.bias[j]), t.scale[j], st);
      }
    }
  }
};

/// Float weights of the float kernels: fp32, or fp16 bits widened in registers.
template <class W>
LIGHTQ_ALWAYS_INLINE float conv_weight_to_float(W w) noexcept {
  if constexpr (std::is_same_v<W, std::uint16_t>)
    return lightq::half_to_float(w);  // qualified: other modules add detail:: converters
  else
    return w;
}

/// fp32 implicit-GEMM kernel of backend Arch (W = float or std::uint16_t fp16 bits). The scalar
/// twin: out = clamp(bias + sum_k a[k] * w[k], min, max), summed in k order.
template <class Arch, class W, class = void>
struct conv_float_kernel {
  static constexpr index_t mr = 4;
  static constexpr index_t nr = 8;
  static constexpr index_t kr = 1;
  using a_type = float;
  using w_type = W;

  static void run(const conv_tile<float, W, float>& t, float* const* out, const conv_output_stage& st) noexcept {
    for (index_t m = 0; m < t.mr; ++m) {
      for (index_t j = 0; j < t.nr; ++j) {
        float acc = 0.0f;
        const float* a = t.a[m];
        for (index_t k = 0; k < t.kq; ++k) acc += a[k] * conv_weight_to_float(t.w[k * nr + j]);
        out[m][j] = std::min(std::max(acc + t.bias[j], st.min), st.max);
      }
    }
  }
};

}  // namespace detail
}  // namespace lightq
