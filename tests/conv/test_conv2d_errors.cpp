// conv2d bad input: every check names its argument (lightq::error), in the packing, the op and
// the reference alike.
#include <cstdint>
#include <string>
#include <vector>

#include "conv/conv_test_util.hpp"

namespace lightq {
namespace test {
namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const lightq::error& e) {
    return e.what();
  }
  return "";
}

#define CHECK_ERROR_MENTIONS(expr, text)                                            \
  do {                                                                              \
    const std::string message_ = error_of([&] { expr; });                           \
    CHECK_MESSAGE(message_.find(text) != std::string::npos, "message: ", message_); \
  } while (0)

TEST_CASE("conv2d_params defaults survive AVX-512 code generation (GCC 12 SLP bug)") {
  // GCC 12.2 -O2 -mavx512f once stored {1 x 8} for {stride, dilation, padding} defaults.
  auto make = [](conv2d_params p) {
    volatile index_t sink = p.padding.top;
    (void)sink;
    return p;
  };
  const conv2d_params p = make(conv2d_params{});
  CHECK(p.padding.top == 0);
  CHECK(p.padding.left == 0);
  CHECK(p.padding.bottom == 0);
  CHECK(p.padding.right == 0);
  CHECK(p.stride_h == 1);
  CHECK(p.stride_w == 1);
  CHECK(p.dilation_h == 1);
  CHECK(p.dilation_w == 1);
  CHECK(p.groups == 1);
  CHECK(!p.same_padding);
}

TEST_CASE("conv2d rejects bad input with a clear lightq::error") {
  std::vector<std::int8_t> w(8 * 3 * 3 * 4, 1);
  std::vector<std::int8_t> x(1 * 5 * 5 * 4, 0), y(1 * 5 * 5 * 8, 0);
  const std::vector<float> scales(8, 0.01f);
  const tensor_view<const std::int8_t, 4> wv(w.data(), {8, 3, 3, 4});
  const tensor_view<const std::int8_t, 4> xv(x.data(), {1, 5, 5, 4});
  const tensor_view<std::int8_t, 4> yv(y.data(), {1, 5, 5, 8});
  const conv2d_quantization q{0.1f, 0};

  // Geometry.
  conv2d_params zero_stride = conv2d_params::same();
  zero_stride.stride_w = 0;
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, scales, {}, zero_stride)), "stride");
  conv2d_params zero_dilation = conv2d_params::same();
  zero_dilation.dilation_h = 0;
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, scales, {}, zero_dilation)), "dilation");
  conv2d_params negative_pad;
  negative_pad.padding.left = -1;
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, scales, {}, negative_pad)), "padding");
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, scales, {}, conv2d_params::same(1, 3))),
                       "not divisible by params.groups");
  // Kernel larger than the padded input: 3x3 on 5x5 with dilation 3 (extent 7) and no padding.
  conv2d_params dilated;
  dilated.dilation_h = dilated.dilation_w = 3;
  const conv2d_qc8w_weights<test_arch> wd(wv, scales, {}, dilated);
  CHECK_ERROR_MENTIONS(conv2d(xv, q, wd, yv, q), "larger than the padded input");
  // Channels: input C_in not divisible by groups, weights C_in/groups mismatch.
  const conv2d_qc8w_weights<test_arch> w_ok(wv, scales, {}, conv2d_params::same());
  std::vector<std::int8_t> x6(1 * 5 * 5 * 6, 0);
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const std::int8_t, 4>(x6.data(), {1, 5, 5, 6}), q, w_ok, yv, q),
                       "does not match input channels");
  std::vector<std::int8_t> w3(8 * 3 * 3 * 2, 1);
  const conv2d_qc8w_weights<test_arch> wg(tensor_view<const std::int8_t, 4>(w3.data(), {8, 3, 3, 2}), scales, {},
                                          conv2d_params::same(1, 2));
  std::vector<std::int8_t> x5(1 * 5 * 5 * 5, 0);
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const std::int8_t, 4>(x5.data(), {1, 5, 5, 5}), q, wg, yv, q),
                       "not divisible by params.groups");
  // Output shape.
  CHECK_ERROR_MENTIONS(conv2d(xv, q, w_ok, tensor_view<std::int8_t, 4>(y.data(), {1, 5, 4, 8}), q), "output extents");
  // Scales, zero points, bias, weight range.
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, std::vector<float>(7, 0.01f), {}, conv2d_params{})),
                       "scales.size()");
  std::vector<float> bad_scales(scales);
  bad_scales[3] = 0.0f;
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, bad_scales, {}, conv2d_params{})), "scales[3]");
  bad_scales[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, bad_scales, {}, conv2d_params{})), "scales[3]");
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(wv, scales, std::vector<std::int32_t>(3, 0), conv2d_params{})),
                       "bias");
  CHECK_ERROR_MENTIONS(conv2d(xv, conv2d_quantization{-1.0f, 0}, w_ok, yv, q), "input scale");
  CHECK_ERROR_MENTIONS(conv2d(xv, q, w_ok, yv, conv2d_quantization{std::numeric_limits<float>::infinity(), 0}),
                       "output scale");
  CHECK_ERROR_MENTIONS(conv2d(xv, conv2d_quantization{0.1f, 128}, w_ok, yv, q), "input zero_point");
  std::vector<std::uint8_t> xu(x.size(), 0), yu(y.size(), 0);
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const std::uint8_t, 4>(xu.data(), {1, 5, 5, 4}), q, w_ok,
                              tensor_view<std::uint8_t, 4>(yu.data(), {1, 5, 5, 8}), conv2d_quantization{0.1f, -1}),
                       "output zero_point");
  std::vector<std::int8_t> w128(w);
  w128[5] = -128;
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(tensor_view<const std::int8_t, 4>(w128.data(), {8, 3, 3, 4}), scales,
                                                       {}, conv2d_params{})),
                       "[-127, 127]");
  CHECK_ERROR_MENTIONS(conv2d(xv, q, w_ok, yv, q, conv2d_activation::clamp(1.0f, -1.0f)), "activation");
  // Output aliasing the input.
  std::vector<std::int8_t> both(1 * 5 * 5 * 8, 0);
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const std::int8_t, 4>(both.data(), {1, 5, 5, 4}), q, w_ok,
                              tensor_view<std::int8_t, 4>(both.data(), {1, 5, 5, 8}), q),
                       "must not overlap");
  // K beyond the exact int32 bound: 3x3 x 7400 channels = 66600 > 66311.
  std::vector<std::int8_t> deep(static_cast<std::size_t>(1 * 3 * 3 * 7400), 1);
  CHECK_ERROR_MENTIONS((conv2d_qc8w_weights<test_arch>(tensor_view<const std::int8_t, 4>(deep.data(), {1, 3, 3, 7400}),
                                                       std::vector<float>(1, 0.1f), {}, conv2d_params{})),
                       "exceeds the largest K");
  // Non-unit channel stride.
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const std::int8_t, 4>(x.data(), {1, 5, 5, 2}, {100, 20, 4, 2}), q,
                              conv2d_qc8w_weights<test_arch>(tensor_view<const std::int8_t, 4>(w.data(), {8, 1, 1, 2}),
                                                             scales, {}, conv2d_params{}),
                              yv, q),
                       "unit stride");
  // The float paths and the reference check the same things.
  std::vector<float> wf(8 * 3 * 3 * 4, 0.0f), xf(100, 0.0f), yf(200, 0.0f);
  const conv2d_f32_weights<test_arch> pf(tensor_view<const float, 4>(wf.data(), {8, 3, 3, 4}), {}, dilated);
  CHECK_ERROR_MENTIONS(conv2d(tensor_view<const float, 4>(xf.data(), {1, 5, 5, 4}), pf,
                              tensor_view<float, 4>(yf.data(), {1, 5, 5, 8})),
                       "larger than the padded input");
  CHECK_ERROR_MENTIONS(reference::conv2d_q8<std::int8_t>(xv, q, wv, vector_view<const float>(scales.data(), {8}),
                                                         vector_view<const std::int32_t>(), yv, q, zero_stride),
                       "stride");
}

}  // namespace
}  // namespace test
}  // namespace lightq
