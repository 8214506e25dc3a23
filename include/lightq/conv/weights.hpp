// conv2d packed weights: int8 per-output-channel (qc8w) with int32 bias, fp32, and fp16 weights
// for fp32 activations. Packed once into the layout of backend Arch's micro-kernel.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightq/conv/detail/pack.hpp"
#include "lightq/conv/params.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/half.hpp"
#include "lightq/gemm/registry.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// int8 convolution weights (qc8w: int8 in [-127, 127], zero point 0, one scale per output
/// channel) with the geometry and an int32 bias at scale s_in * s_w[c], packed for backend Arch.
///   weights [C_out, KH, KW, C_in / groups]; scales: C_out values, finite and > 0;
///   bias: empty (no bias) or C_out values.
/// Depthwise convolutions (groups == C_out, one input channel per group) get the depthwise
/// layout; every other one the weight panels of the GEMM kernel gemm_kernel_for<Arch, qs8, qc8w>
/// and column sums.
template <class Arch = default_arch>
class conv2d_qc8w_weights {
 public:
  using arch_type = Arch;
  using kernel = gemm_kernel_for<Arch, gemm_dtype::qs8, gemm_dtype::qc8w>;
  using w_type = typename kernel::w_type;
  /// Depthwise tap layout: AVX-512 VNNI quads of int8 (vpdpbusd), AVX2 pairs of int16
  /// (vpmaddwd); elsewhere one int32 per tap.
  static constexpr bool depthwise_quads = arch_has_v<Arch, arch::avx512_vnni>;
  static constexpr bool depthwise_pairs = is_x86_arch_v<Arch> && !depthwise_quads;

  conv2d_qc8w_weights(tensor_view<const std::int8_t, 4> weights, std::vector<float> scales, std::vector<std::int32_t> bias,
                      const conv2d_params& params)
      : scales_(std::move(scales)), bias_(std::move(bias)) {
    const char* where = "conv2d_qc8w_weights";
    info_ = detail::make_conv_pack_info(weights.extents(), params, kernel::nr, kernel::kr, where);
    const index_t c_out = weights.extent(0);
    check_equal(static_cast<std::int64_t>(scales_.size()), c_out, where, "scales.size()", "weights C_out");
    for (std::size_t c = 0; c < scales_.size(); ++c)
      if (!(std::isfinite(scales_[c]) && scales_[c] > 0.0f)) fail(where, "scales[", c, "] must be finite and > 0, got ", scales_[c]);
    check(bias_.empty() || static_cast<index_t>(bias_.size()) == c_out, where, "bias has ", bias_.size(),
          " elements, must be 0 or C_out = ", c_out);
    if (info_.k > conv2d_max_exact_k)
      fail(where, "K = KH * KW * C_in / groups = ", info_.k, " exceeds the largest K (", conv2d_max_exact_k,
           ") for which int32 accumulation of int8 x qc8w is exact");
    for (index_t c = 0; c < c_out; ++c)
      for (index_t ky = 0; ky < info_.kh; ++ky)
        for (index_t kx = 0; kx < info_.kw; ++kx)
          for (index_t ci = 0; ci < info_.cg; ++ci)
            if (weights(c, ky, kx, ci) == -128)
              fail(where, "weights must be in [-127, 127] (qc8w), got -128 at [", c, ", ", ky, ", ", kx, ", ", ci, "]");
    auto to_w = [](std::int8_t v) { return static_cast<w_type>(v); };
    if (info_.depthwise && depthwise_quads)
      detail::pack_conv_depthwise_groups<4>(weights, info_, depthwise_, column_sums_, detail::depthwise_quad_slot);
    else if (info_.depthwise && depthwise_pairs)
      detail::pack_conv_depthwise_groups<2>(weights, info_, depthwise_, column_sums_, [](index_t c) { return c; });
    else if (info_.depthwise)
      detail::pack_conv_depthwise(weights, info_, depthwise_, [](std::int8_t v) { return static_cast<std::int32_t>(v); });
    else
      detail::pack_conv_panels<typename kernel::w_layout>(weights, info_, panels_, &column_sums_, to_w);
  }

  const conv2d_params& params() const noexcept { return info_.params; }
  /// [C_out, KH, KW, C_in / groups]
  const extents_t<4>& weight_extents() const noexcept { return info_.weight_extents; }
  index_t output_channels() const noexcept { return info_.weight_extents[0]; }
  bool depthwise() const noexcept { return info_.depthwise; }
  const std::vector<float>& scales() const noexcept { return scales_; }
  const std::vector<std::int32_t>& bias() const noexcept { return bias_; }
  /// Bytes of packed weight data (what a model stores for this layer).
  std::size_t packed_bytes() const noexcept {
    return panels_.size() * sizeof(w_type) + column_sums_.size() * 4 + depthwise_.size() * 4 + scales_.size() * 4 +
           bias_.size() * 4;
  }

  const detail::conv_pack_info& info() const noexcept { return info_; }
  const w_type* panels() const noexcept { return panels_.data(); }
  /// Column sums of the panels, or (depthwise pairs / quads) the per-channel sums of the taps.
  const std::int32_t* column_sums() const noexcept { return column_sums_.data(); }
  const std::int32_t* depthwise_taps() const noexcept { return depthwise_.data(); }

 private:
  detail::conv_pack_info info_;
  std::vector<float> scales_;
  std::vector<std::int32_t> bias_;
  aligned_buffer<w_type> panels_;
  aligned_buffer<std::int32_t> column_sums_;
  aligned_buffer<std::int32_t> depthwise_;
};

namespace detail {

/// Packed float convolution weights; W is float (fp32) or std::uint16_t (fp16 bits), packed for
/// the GEMM kernel gemm_kernel_for<Arch, f32, f32 or f16>.
/// Depthwise weights are widened to fp32 (they are KH * KW * C values: a few KiB).
template <class Arch, class W>
class conv2d_float_weights_base {
 public:
  using arch_type = Arch;
  using kernel = gemm_kernel_for<Arch, gemm_dtype::f32, std::conditional_t<std::is_same_v<W, float>, gemm_dtype::f32, gemm_dtype::f16>>;
  static_assert(std::is_same_v<typename kernel::w_type, W>, "the GEMM kernel stores W as given");
  using w_type = W;

  template <class Src, class ToW>
  conv2d_float_weights_base(const tensor_view<const Src, 4>& weights, std::vector<float> bias, const conv2d_params& params,
                            const char* where, ToW to_w)
      : bias_(std::move(bias)) {
    info_ = make_conv_pack_info(weights.extents(), params, kernel::nr, kernel::kr, where);
    const index_t c_out = weights.extent(0);
    check(bias_.empty() || static_cast<index_t>(bias_.size()) == c_out, where, "bias has ", bias_.size(),
          " elements, must be 0 or C_out = ", c_out);
    if (info_.depthwise)
      pack_conv_depthwise(weights, info_, depthwise_, [](Src v) { return static_cast<float>(v); });
    else
      pack_conv_panels<typename kernel::w_layout>(weights, info_, panels_, nullptr, to_w);
  }

  const conv2d_params& params() const noexcept { return info_.params; }
  const extents_t<4>& weight_extents() const noexcept { return info_.weight_extents; }
  index_t output_channels() const noexcept { return info_.weight_extents[0]; }
  bool depthwise() const noexcept { return info_.depthwise; }
  const std::vector<float>& bias() const noexcept { return bias_; }
  std::size_t packed_bytes() const noexcept {
    return panels_.size() * sizeof(W) + depthwise_.size() * 4 + bias_.size() * 4;
  }
  const conv_pack_info& info() const noexcept { return info_; }
  const W* panels() const noexcept { return panels_.data(); }
  const float* depthwise_taps() const noexcept { return depthwise_.data(); }

 private:
  conv_pack_info info_;
  std::vector<float> bias_;
  aligned_buffer<W> panels_;
  aligned_buffer<float> depthwise_;
};

}  // namespace detail

/// fp32 convolution weights [C_out, KH, KW, C_in / groups] with an fp32 bias (empty or C_out).
template <class Arch = default_arch>
class conv2d_f32_weights : public detail::conv2d_float_weights_base<Arch, float> {
 public:
  conv2d_f32_weights(tensor_view<const float, 4> weights, std::vector<float> bias, const conv2d_params& params)
      : detail::conv2d_float_weights_base<Arch, float>(weights, std::move(bias), params, "conv2d_f32_weights",
                                                       [](float v) { return v; }) {}
};

/// fp16 convolution weights (lightq::half) for fp32 activations: stored as fp16 (half the bytes
/// of fp32), widened exactly to fp32 in registers; the convolution accumulates in fp32.
template <class Arch = default_arch>
class conv2d_f16_weights : public detail::conv2d_float_weights_base<Arch, std::uint16_t> {
 public:
  conv2d_f16_weights(tensor_view<const half, 4> weights, std::vector<float> bias, const conv2d_params& params)
      : detail::conv2d_float_weights_base<Arch, std::uint16_t>(weights, std::move(bias), params, "conv2d_f16_weights",
                                                               [](half v) { return v.bits(); }) {}
};

}  // namespace lightq
