// Helpers of the conv2d tests: random problems, runs of the backend under test and of the
// reference, and a printable description of each case.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lightq/conv/conv2d.hpp"
#include "lightq/conv/reference.hpp"
#include "test_common.hpp"

namespace lightq {
namespace test {

/// One convolution case of a sweep.
struct conv_case {
  index_t n, h, w, c_in, c_out, kh, kw;
  conv2d_params p;
  std::string to_string() const {
    std::string s = "N=" + std::to_string(n) + " H=" + std::to_string(h) + " W=" + std::to_string(w) +
                    " Cin=" + std::to_string(c_in) + " Cout=" + std::to_string(c_out) + " K=" + std::to_string(kh) + "x" +
                    std::to_string(kw) + " s=" + std::to_string(p.stride_h) + "," + std::to_string(p.stride_w) +
                    " d=" + std::to_string(p.dilation_h) + "," + std::to_string(p.dilation_w) + " g=" + std::to_string(p.groups);
    if (p.same_padding)
      s += " pad=same";
    else
      s += " pad=" + std::to_string(p.padding.top) + "," + std::to_string(p.padding.left) + "," +
           std::to_string(p.padding.bottom) + "," + std::to_string(p.padding.right);
    return s;
  }
};

/// The shared sweep: pointwise, general, grouped and depthwise cases (bounded for qemu).
inline std::vector<conv_case> conv_sweep() {
  std::vector<conv_case> cases;
  auto add = [&](index_t n, index_t h, index_t w, index_t ci, index_t co, index_t kh, index_t kw, conv2d_params p) {
    cases.push_back({n, h, w, ci, co, kh, kw, p});
  };
  // 1x1 (pointwise), channels around every tile width (6x16, 12x32, 4x4, 8x12, 4x4 of the GEMM kernels).
  for (index_t ci : {1, 3, 8, 17, 33})
    for (index_t co : {1, 7, 16, 17, 33, 65}) add(1, 3, 5, ci, co, 1, 1, conv2d_params{});
  add(2, 1, 1, 5, 9, 1, 1, conv2d_params{});  // 1-pixel images
  add(1, 7, 9, 32, 24, 1, 1, conv2d_params::padded(0, 2));  // 1x1 stride 2
  add(2, 29, 31, 5, 9, 1, 1, conv2d_params{});  // 1x1 stride 1 (one GEMM) over more rows than a conv tile
  add(1, 37, 29, 5, 9, 3, 3, conv2d_params::same(1));  // 3x3 over more pixels than one tile (1024)
  // General kernels: every stride / dilation / padding combination on odd sizes.
  for (index_t k : {2, 3, 5})
    for (index_t s : {1, 2, 3})
      for (index_t d : {1, 2}) {
        conv2d_params p;
        p.stride_h = p.stride_w = s;
        p.dilation_h = p.dilation_w = d;
        p.padding = {1, 0, 2, 1};
        add(1, 9, 8, 3, 5, k, k, p);
        p.same_padding = true;
        add(1, 6, 11, 4, 17, k, k, p);
      }
  // Non-square kernels, asymmetric strides and dilations.
  {
    conv2d_params p;
    p.stride_h = 1;
    p.stride_w = 2;
    p.dilation_h = 2;
    p.dilation_w = 1;
    p.padding = {2, 1, 0, 3};
    add(2, 8, 7, 5, 11, 3, 2, p);
    add(1, 5, 9, 7, 3, 1, 4, p);
  }
  // Kernel as large as the padded input; 1-pixel images with padding.
  add(1, 3, 3, 4, 6, 3, 3, conv2d_params{});
  add(1, 1, 1, 8, 8, 3, 3, conv2d_params::padded(1));
  add(1, 1, 1, 3, 5, 3, 3, conv2d_params::same(2));
  // Grouped convolutions (not depthwise), and depthwise with a channel multiplier (igemm path).
  add(1, 6, 5, 8, 12, 3, 3, conv2d_params::padded(1, 1, 4));
  add(1, 7, 7, 6, 9, 3, 3, conv2d_params::same(2, 3));
  add(1, 5, 6, 4, 8, 3, 3, conv2d_params::same(1, 4));  // multiplier 2
  add(1, 5, 5, 64, 64, 1, 1, conv2d_params::padded(0, 1, 2));
  // Depthwise: channels around 4/8/16 lanes, 3x3 / 5x5 / others, strides 1 and 2, dilation.
  for (index_t c : {1, 3, 8, 16, 17, 33, 70})
    for (index_t k : {3, 5})
      for (index_t s : {1, 2}) {
        add(1, 7, 6, c, c, k, k, conv2d_params::same(s, c));
        add(1, 9, 8, c, c, k, k, conv2d_params::padded(k / 2, s, c));
      }
  for (index_t k : {1, 2, 4, 7}) add(1, 8, 9, 19, 19, k, k, conv2d_params::padded(1, 1, 19));
  {
    conv2d_params p = conv2d_params::padded(2, 1, 24);
    p.dilation_h = p.dilation_w = 2;
    add(2, 7, 8, 24, 24, 3, 3, p);
    p.stride_h = 2;
    p.padding = {0, 3, 1, 0};
    add(1, 9, 5, 24, 24, 3, 3, p);
  }
  // 3x3 depthwise rows (one call per output row, input columns shared by adjacent pixels): widths
  // 1..4 and 13, channels at and around the 64-channel zmm blocks and the ymm tail, strides 1-3,
  // left / right padding wider than the window, and a row narrower than the window.
  for (index_t c : {32, 64, 96, 145})
    for (index_t w : {1, 2, 4, 13})
      for (index_t s : {1, 2}) add(1, 3, w, c, c, 3, 3, conv2d_params::same(s, c));
  for (index_t s : {1, 2, 3}) {
    conv2d_params p = conv2d_params::padded(0, 1, 40);
    p.stride_w = s;
    p.padding = {1, 3, 0, 2};
    add(1, 4, 5, 40, 40, 3, 3, p);
    p.padding = {2, 0, 2, 0};
    add(1, 2, 7, 40, 40, 3, 3, p);
  }
  add(1, 1, 1, 16, 16, 3, 3, conv2d_params::padded(1, 1, 16));
  add(1, 2, 2, 9, 9, 5, 5, conv2d_params::same(1, 9));
  // Deeper K (many panels, a multi-tile image).
  add(1, 14, 13, 64, 40, 3, 3, conv2d_params::same(1));
  // MobileNet-like 1x1 (narrow N = 16 / 24, K = 16 / 24, pixels not a multiple of any tile), K
  // with a tail past 64-byte activation blocks, K beyond one K slice (1024), and a 3x3 whose taps
  // straddle activation blocks (C_in = 24) next to one whose taps are whole blocks (C_in = 128).
  add(1, 7, 7, 24, 16, 1, 1, conv2d_params{});
  add(1, 13, 11, 16, 24, 1, 1, conv2d_params{});
  add(1, 9, 9, 100, 48, 1, 1, conv2d_params{});
  add(1, 5, 7, 1100, 20, 1, 1, conv2d_params{});
  add(1, 6, 7, 24, 16, 3, 3, conv2d_params::same(1));
  add(1, 5, 4, 128, 24, 3, 3, conv2d_params::same(2));
  // C_in a multiple of 64, one group, stride 1, N <= 128, more pixels than a 12-row tile: the
  // VNNI kernel reads the windows in place in a padded copy (an indirection buffer). Tiles
  // across output rows and images, dilation and uneven padding (window spans clipped to what is
  // read), K over one K slice (1152), N past two column tiles; and stride 2 and a 1x1 stride 2
  // beside them (the im2col path).
  add(2, 5, 7, 64, 33, 3, 3, conv2d_params::same(1));
  {
    conv2d_params p;
    p.dilation_h = 2;
    p.dilation_w = 3;
    p.padding = {0, 3, 2, 1};
    add(1, 9, 10, 64, 16, 3, 3, p);
  }
  add(1, 6, 7, 128, 70, 3, 3, conv2d_params::same(1));
  add(1, 11, 10, 64, 20, 3, 3, conv2d_params::same(2));
  add(1, 9, 9, 64, 24, 1, 1, conv2d_params::padded(0, 2));
  return cases;
}

/// Random quantized problem data for a case.
struct q8_problem {
  std::vector<std::int8_t> weights;
  std::vector<float> scales;
  std::vector<std::int32_t> bias;
  conv2d_quantization in_q, out_q;
};

template <class T>
q8_problem make_q8_problem(std::mt19937_64& rng, const conv_case& c, bool with_bias = true) {
  q8_problem p;
  const index_t cg = c.c_in / c.p.groups;
  const index_t k = c.kh * c.kw * cg;
  p.weights = random_ints<std::int8_t>(rng, static_cast<std::size_t>(c.c_out * k), -127, 127);
  std::uniform_real_distribution<float> sd(0.5f, 2.0f);
  p.scales.resize(static_cast<std::size_t>(c.c_out));
  for (auto& s : p.scales) s = sd(rng) / 128.0f;
  if (with_bias) p.bias = random_ints<std::int32_t>(rng, static_cast<std::size_t>(c.c_out), -20000, 20000);
  const int lo = std::is_same_v<T, std::int8_t> ? -128 : 0;
  std::uniform_int_distribution<int> zd(lo + 20, lo + 235);
  p.in_q = {0.05f, zd(rng)};
  // Typical |acc| ~ sqrt(K) * 74 * 73: map it to ~ +-60 output steps so few outputs saturate.
  const float acc_std = std::sqrt(static_cast<float>(k)) * 74.0f * 73.0f;
  p.out_q = {p.in_q.scale * (1.0f / 128.0f) * acc_std / 60.0f, zd(rng)};
  return p;
}

}  // namespace test
}  // namespace lightq
