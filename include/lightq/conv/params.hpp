// conv2d parameters: geometry (stride, padding, dilation, groups), fused activation, and the
// per-tensor quantization of int8 activations.
#pragma once

#include <cstdint>
#include <limits>

#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Explicit zero-point padding in pixels on each side of the input image.
struct conv2d_padding {
  index_t top = 0;
  index_t left = 0;
  index_t bottom = 0;
  index_t right = 0;
};

/// Geometry of a 2-D convolution on NHWC tensors. The kernel size comes from the weights
/// ([C_out, KH, KW, C_in / groups]).
struct conv2d_params {
  // Member order matters: GCC 12.2 with -mavx512f miscompiles the default initialisation of
  // {stride_h, stride_w, dilation_h, dilation_w, padding} = {1, 1, 1, 1, 0, 0, 0, 0} (one
  // zmm broadcast of 1 over all eight: the padding came out as 1). Padding first avoids it;
  // tests/conv/test_conv2d_errors.cpp checks the defaults.
  /// Explicit padding; ignored when `same_padding` is set.
  conv2d_padding padding{};
  /// "same" padding (TensorFlow rule): OH = ceil(H / stride_h); the total padding
  /// max((OH - 1) * stride_h + (KH - 1) * dilation_h + 1 - H, 0) is split with the smaller half on
  /// top (left), the larger at the bottom (right). Resolved per call from the input size.
  bool same_padding = false;
  /// C_in and C_out are split into `groups` independent convolutions; groups == C_in == C_out is
  /// a depthwise convolution (its own kernel).
  index_t groups = 1;
  index_t stride_h = 1;
  index_t stride_w = 1;
  index_t dilation_h = 1;
  index_t dilation_w = 1;

  /// Stride `stride`, explicit padding `pad` on every side.
  static constexpr conv2d_params padded(index_t pad, index_t stride = 1, index_t groups_ = 1) noexcept {
    conv2d_params p;
    p.stride_h = p.stride_w = stride;
    p.padding = {pad, pad, pad, pad};
    p.groups = groups_;
    return p;
  }
  /// Stride `stride`, "same" padding.
  static constexpr conv2d_params same(index_t stride = 1, index_t groups_ = 1) noexcept {
    conv2d_params p;
    p.stride_h = p.stride_w = stride;
    p.same_padding = true;
    p.groups = groups_;
    return p;
  }
};

/// Fused activation: the output (in real units) is clamped to [min, max].
struct conv2d_activation {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();

  static constexpr conv2d_activation none() noexcept { return {}; }
  static constexpr conv2d_activation relu() noexcept { return {0.0f, std::numeric_limits<float>::infinity()}; }
  static constexpr conv2d_activation relu6() noexcept { return {0.0f, 6.0f}; }
  static constexpr conv2d_activation clamp(float lo, float hi) noexcept { return {lo, hi}; }
};

/// Per-tensor affine quantization of int8 / uint8 activations: real = scale * (q - zero_point).
struct conv2d_quantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

}  // namespace lightq
