// XNNPACK peer: 2D convolution operators of Debian's 2022 snapshot, NHWC: qc8 (int8 activations
// with a zero point, int8 weights with one scale per output channel, int32 bias, int8 output:
// the same quantization as lightq's qs8 x qc8w) and fp32.
//
// XNNPACK's kernel layout is [groups][C_out / groups][KH][KW][C_in / groups], which is lightq's
// [C_out, KH, KW, C_in / groups]; depthwise (one input and one output channel per group) is the
// same operator, which then runs XNNPACK's depthwise micro-kernels. Weights are packed when the
// operator is created; setup (input size and pointers, indirection buffer) is done once, as
// XNNPACK's runtime does for a fixed-size model, and only xnn_run_operator is timed. Runs on the
// calling thread (null pthreadpool). Available when LIGHTQ_BENCH_HAVE_XNNPACK is defined.
#pragma once

#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
#include <cstdint>
#include <utility>
#include <vector>

#include "peers/xnnpack.hpp"

namespace lightq::bench::peers::xnnpack {

/// Geometry of one convolution (batch 1, square stride, no dilation).
struct conv_geometry {
  std::uint32_t h = 0, w = 0, c_in = 0, c_out = 0, kh = 1, kw = 1, stride = 1, groups = 1;
  std::uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

/// Owns one convolution operator set up for fixed input and output buffers; move-only.
class convolution {
 public:
  convolution() = default;
  convolution(const convolution&) = delete;
  convolution& operator=(const convolution&) = delete;
  convolution(convolution&& o) noexcept : op_(std::exchange(o.op_, nullptr)) {}
  convolution& operator=(convolution&& o) noexcept {
    std::swap(op_, o.op_);
    return *this;
  }
  ~convolution() {
    if (op_) xnn_delete_operator(op_);
  }

  /// qc8: x int8 (zero point zx, scale sx), weights int8 with per-channel scales, int32 bias,
  /// y int8 (zero point zy, scale sy) clamped to [lo, hi]; set up for x -> y.
  static convolution qc8(const conv_geometry& g, std::int8_t zx, float sx, const std::vector<float>& weight_scales,
                         const std::int8_t* weights, const std::int32_t* bias, std::int8_t zy, float sy, std::int8_t lo,
                         std::int8_t hi, const std::int8_t* x, std::int8_t* y) {
    convolution c;
    if (!init()) return c;
    const std::size_t cg = g.c_in / g.groups, ng = g.c_out / g.groups;
    if (xnn_create_convolution2d_nhwc_qc8(g.pad_top, g.pad_right, g.pad_bottom, g.pad_left, g.kh, g.kw, g.stride,
                                          g.stride, 1, 1, g.groups, cg, ng, g.c_in, g.c_out, zx, sx, weight_scales.data(),
                                          weights, bias, zy, sy, lo, hi, 0, &c.op_) != xnn_status_success ||
        xnn_setup_convolution2d_nhwc_qc8(c.op_, 1, g.h, g.w, x, y, nullptr) != xnn_status_success)
      c.reset();
    return c;
  }

  /// fp32: weights, bias (C_out), y clamped to [lo, hi]; set up for x -> y.
  static convolution f32(const conv_geometry& g, const float* weights, const float* bias, float lo, float hi,
                         const float* x, float* y) {
    convolution c;
    if (!init()) return c;
    const std::size_t cg = g.c_in / g.groups, ng = g.c_out / g.groups;
    if (xnn_create_convolution2d_nhwc_f32(g.pad_top, g.pad_right, g.pad_bottom, g.pad_left, g.kh, g.kw, g.stride,
                                          g.stride, 1, 1, g.groups, cg, ng, g.c_in, g.c_out, weights, bias, lo, hi, 0,
                                          &c.op_) != xnn_status_success ||
        xnn_setup_convolution2d_nhwc_f32(c.op_, 1, g.h, g.w, x, y, nullptr) != xnn_status_success)
      c.reset();
    return c;
  }

  bool valid() const noexcept { return op_ != nullptr; }
  /// Runs the operator on this thread. Returns false on error.
  bool run() { return op_ && xnn_run_operator(op_, nullptr) == xnn_status_success; }

 private:
  void reset() {
    if (op_) xnn_delete_operator(op_);
    op_ = nullptr;
  }
  xnn_operator_t op_ = nullptr;
};

}  // namespace lightq::bench::peers::xnnpack
#endif  // LIGHTQ_BENCH_HAVE_XNNPACK
