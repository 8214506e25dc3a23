// The convolution layers every conv benchmark runs (lightq's and the peers'): the MobileNetV2
// layers (224x224 input, width 1.0) and the ResNet-18 3x3 layers, batch 1, NHWC, "same" padding.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "lightq/conv/params.hpp"

namespace lightq::bench {

/// One convolution layer: input HxW, C_in -> C_out, square kernel k, stride, groups.
struct layer {
  std::string name;
  index_t h, w, c_in, c_out, k, stride, groups;
  conv2d_params params() const { return conv2d_params::same(stride, groups); }
  index_t oh() const { return (h + stride - 1) / stride; }
  index_t ow() const { return (w + stride - 1) / stride; }
  double macs() const { return double(oh()) * double(ow()) * double(c_out) * double(k * k * (c_in / groups)); }
  double weight_count() const { return double(c_out) * double(k * k * (c_in / groups)); }
};

inline layer pointwise(index_t hw, index_t ci, index_t co) {
  return {"mbv2_pw_" + std::to_string(hw) + "x" + std::to_string(ci) + "x" + std::to_string(co), hw, hw, ci, co, 1, 1, 1};
}
inline layer depthwise(index_t hw, index_t c, index_t s) {
  return {"mbv2_dw3x3_" + std::to_string(hw) + "x" + std::to_string(c) + "_s" + std::to_string(s), hw, hw, c, c, 3, s, c};
}
inline layer resnet(index_t hw, index_t ci, index_t co, index_t s) {
  return {"r18_3x3_" + std::to_string(hw) + "x" + std::to_string(ci) + "x" + std::to_string(co) + "_s" + std::to_string(s),
          hw, hw, ci, co, 3, s, 1};
}

/// MobileNetV2 (width 1.0, 224x224): every conv layer in order (stem, 17 inverted residual
/// blocks, last 1x1), repeats included.
inline std::vector<layer> mobilenet_v2_stack() {
  std::vector<layer> s;
  s.push_back({"mbv2_stem_3x3_224x3x32_s2", 224, 224, 3, 32, 3, 2, 1});
  index_t hw = 112, c = 32;
  struct cfg { index_t t, c, n, s; };
  for (cfg b : {cfg{1, 16, 1, 1}, cfg{6, 24, 2, 2}, cfg{6, 32, 3, 2}, cfg{6, 64, 4, 2}, cfg{6, 96, 3, 1},
                cfg{6, 160, 3, 2}, cfg{6, 320, 1, 1}}) {
    for (index_t i = 0; i < b.n; ++i) {
      const index_t stride = i == 0 ? b.s : 1;
      const index_t hidden = c * b.t;
      if (b.t != 1) s.push_back(pointwise(hw, c, hidden));
      s.push_back(depthwise(hw, hidden, stride));
      hw = (hw + stride - 1) / stride;
      s.push_back(pointwise(hw, hidden, b.c));
      c = b.c;
    }
  }
  s.push_back(pointwise(hw, c, 1280));
  return s;
}

inline std::vector<layer> distinct_layers() {
  std::vector<layer> out;
  for (const layer& l : mobilenet_v2_stack()) {
    bool seen = false;
    for (const layer& o : out) seen = seen || o.name == l.name;
    if (!seen && l.name.rfind("mbv2_stem", 0) != 0) out.push_back(l);
  }
  for (const layer& l : {resnet(56, 64, 64, 1), resnet(56, 64, 128, 2), resnet(28, 128, 128, 1), resnet(28, 128, 256, 2),
                         resnet(14, 256, 256, 1), resnet(14, 256, 512, 2), resnet(7, 512, 512, 1)})
    out.push_back(l);
  return out;
}

/// "same" padding of one dimension (TensorFlow rule, as conv2d_params::same resolves it):
/// {before, after}.
inline std::pair<index_t, index_t> same_padding(index_t in, index_t k, index_t stride) {
  const index_t out = (in + stride - 1) / stride;
  const index_t total = std::max<index_t>((out - 1) * stride + k - in, 0);
  return {total / 2, total - total / 2};
}

}  // namespace lightq::bench
