// oneDNN peer: int8 and fp32 2D convolution primitives (C++ API of oneDNN 2.x), NHWC.
//
// int8: u8 or s8 activations (zero point 0), s8 weights with one scale per output channel, s32
// bias, s8 output; per-channel output scales and a clip post-op (the fused activation in output
// units). With s8 activations oneDNN's VNNI kernels add 128 to every activation (vpdpbusd takes
// u8 x s8) and subtract 128 * sum(w) per channel; u8 activations go in as they are. fp32: f32
// everywhere, same post-op. Weights are given as lightq holds them ([C_out, KH, KW, C_in /
// groups]) and reordered once, at creation, into the layout the primitive asks for (format
// `any`); activations stay NHWC (the layout lightq benchmarks).
// Runs on the calling thread (OpenMP set to one thread). Available when LIGHTQ_BENCH_HAVE_DNNL
// is defined (bench/CMakeLists.txt).
#pragma once

#if defined(LIGHTQ_BENCH_HAVE_DNNL)
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <dnnl.hpp>

#include "peers/onednn.hpp"

namespace lightq::bench::peers::onednn {

/// Geometry of one convolution (batch 1, square stride, no dilation).
struct conv_geometry {
  std::int64_t h = 0, w = 0, c_in = 0, c_out = 0, kh = 1, kw = 1, stride = 1, groups = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::int64_t oh() const { return (h + pad_top + pad_bottom - kh) / stride + 1; }
  std::int64_t ow() const { return (w + pad_left + pad_right - kw) / stride + 1; }
};

/// One convolution primitive with its reordered weights and bias; run() executes it on
/// caller-owned NHWC buffers. valid() is false when oneDNN rejects the configuration.
class convolution {
 public:
  /// int8: x NHWC of type `src` (u8 or s8, zero point 0), weights s8 [C_out, KH, KW, C_in/groups],
  /// per-channel output scales (s_in * s_w[c] / s_out), s32 bias (C_out), y s8 NHWC clipped to
  /// [lo, hi] (output units).
  static std::unique_ptr<convolution> int8(const conv_geometry& g, dnnl::memory::data_type src,
                                           const std::int8_t* weights, const std::vector<float>& output_scales,
                                           const std::int32_t* bias, float lo, float hi) {
    using dt = dnnl::memory::data_type;
    return make(g, src, dt::s8, dt::s32, dt::s8, weights, bias, &output_scales, lo, hi);
  }

  /// fp32: x, weights [C_out, KH, KW, C_in/groups], bias (C_out) and y fp32, y clipped to [lo, hi].
  static std::unique_ptr<convolution> f32(const conv_geometry& g, const float* weights, const float* bias, float lo,
                                          float hi) {
    using dt = dnnl::memory::data_type;
    return make(g, dt::f32, dt::f32, dt::f32, dt::f32, weights, bias, nullptr, lo, hi);
  }

  bool valid() const noexcept { return valid_; }
  /// oneDNN's name of the implementation it picked (e.g. "jit_int8:avx512_core_vnni").
  const std::string& implementation() const noexcept { return impl_; }

  /// y = conv(x): NHWC buffers of this geometry. Returns false on a oneDNN error.
  bool run(const void* x, void* y) {
    try {
      src_.set_data_handle(const_cast<void*>(x));
      dst_.set_data_handle(y);
      prim_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_BIAS, bias_}, {DNNL_ARG_DST, dst_}});
      stream_.wait();
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }

 private:
  static std::unique_ptr<convolution> make(const conv_geometry& g, dnnl::memory::data_type src_type,
                                           dnnl::memory::data_type weight_type, dnnl::memory::data_type bias_type,
                                           dnnl::memory::data_type dst_type, const void* weights, const void* bias,
                                           const std::vector<float>* output_scales, float lo, float hi) {
    using namespace dnnl;
    using tag = memory::format_tag;
    init();
    auto c = std::unique_ptr<convolution>(new convolution());
    try {
      c->engine_ = engine(engine::kind::cpu, 0);
      c->stream_ = stream(c->engine_);
      const bool grouped = g.groups > 1;
      const memory::dims src_dims{1, g.c_in, g.h, g.w}, dst_dims{1, g.c_out, g.oh(), g.ow()};
      const memory::dims w_dims = grouped ? memory::dims{g.groups, g.c_out / g.groups, g.c_in / g.groups, g.kh, g.kw}
                                          : memory::dims{g.c_out, g.c_in, g.kh, g.kw};
      const memory::desc src_md(src_dims, src_type, tag::nhwc), dst_md(dst_dims, dst_type, tag::nhwc);
      const memory::desc w_any(w_dims, weight_type, tag::any), bias_md({g.c_out}, bias_type, tag::x);
      const convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any,
                                           bias_md, dst_md, {g.stride, g.stride}, {g.pad_top, g.pad_left},
                                           {g.pad_bottom, g.pad_right});
      primitive_attr attr;
      if (output_scales) attr.set_output_scales(1 << 1, *output_scales);  // per output channel
      post_ops po;
      po.append_eltwise(1.0f, algorithm::eltwise_clip, lo, hi);
      attr.set_post_ops(po);
      const convolution_forward::primitive_desc pd(desc, attr, c->engine_);
      c->impl_ = pd.impl_info_str();
      c->prim_ = convolution_forward(pd);
      // Weights as lightq holds them ([g][oc][kh][kw][ic]), reordered once.
      memory user_w({w_dims, weight_type, grouped ? tag::gohwi : tag::ohwi}, c->engine_, const_cast<void*>(weights));
      c->weights_ = memory(pd.weights_desc(), c->engine_);
      reorder(user_w, c->weights_).execute(c->stream_, user_w, c->weights_);
      const std::size_t bias_bytes = bias_md.get_size();
      c->bias_ = memory(bias_md, c->engine_);
      std::memcpy(c->bias_.get_data_handle(), bias, bias_bytes);
      c->stream_.wait();
      c->src_ = memory(src_md, c->engine_, DNNL_MEMORY_NONE);
      c->dst_ = memory(dst_md, c->engine_, DNNL_MEMORY_NONE);
      c->valid_ = true;
    } catch (const dnnl::error& e) {
      c->impl_ = std::string("error: ") + e.what();
      c->valid_ = false;
    }
    return c;
  }

  convolution() = default;
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::convolution_forward prim_;
  dnnl::memory weights_, bias_, src_, dst_;
  std::string impl_;
  bool valid_ = false;
};

}  // namespace lightq::bench::peers::onednn
#endif  // LIGHTQ_BENCH_HAVE_DNNL
