// conv2d int8 (qs8 / qu8 x qc8w): every path of the backend under test equals the reference bit
// for bit (int8 and dequantized fp32 outputs) over a bounded sweep of shapes, strides, padding,
// dilation and groups; nothing is written outside the output; thread count does not matter.
#include <cstring>

#include "conv/conv_test_util.hpp"

namespace lightq {
namespace test {
namespace {

template <class T>
void check_case(const conv_case& c, std::uint64_t salt, const conv2d_activation& act, bool with_bias,
                float out_scale_factor = 1.0f) {
  auto rng = make_rng(salt);
  q8_problem prob = make_q8_problem<T>(rng, c, with_bias);
  prob.out_q.scale *= out_scale_factor;
  const index_t cg = c.c_in / c.p.groups;
  const int lo = std::is_same_v<T, std::int8_t> ? -128 : 0;
  const auto x = random_ints<T>(rng, static_cast<std::size_t>(c.n * c.h * c.w * c.c_in), lo, lo + 255);
  const tensor_view<const T, 4> in(x.data(), {c.n, c.h, c.w, c.c_in});
  const tensor_view<const std::int8_t, 4> wv(prob.weights.data(), {c.c_out, c.kh, c.kw, cg});
  const conv2d_qc8w_weights<test_arch> packed(wv, prob.scales, prob.bias, c.p);
  const extents_t<4> oe = conv2d_output_extents(in.extents(), packed);
  const auto count = static_cast<std::size_t>(element_count<4>(oe));
  const vector_view<const float> sv(prob.scales.data(), {static_cast<index_t>(prob.scales.size())});
  const vector_view<const std::int32_t> bv(prob.bias.data(), {static_cast<index_t>(prob.bias.size())});

  std::vector<T> want(count);
  reference::conv2d_q8<T>(in, prob.in_q, wv, sv, bv, tensor_view<T, 4>(want.data(), oe), prob.out_q, c.p, act);
  guarded_buffer<T> got(count);
  conv2d(in, prob.in_q, packed, tensor_view<T, 4>(got.data(), oe), prob.out_q, act);
  REQUIRE(got.intact());
  index_t mismatches = 0;
  for (std::size_t i = 0; i < count; ++i) mismatches += got.data()[i] != want[i];
  CHECK_MESSAGE(mismatches == 0, "int8 output differs on ", mismatches, " of ", count, " values");

  // Dequantized fp32 output: also bit-exact (float(acc) * scale, clamp).
  std::vector<float> fwant(count);
  reference::conv2d_q8<T>(in, prob.in_q, wv, sv, bv, tensor_view<float, 4>(fwant.data(), oe), c.p, act);
  guarded_buffer<float> fgot(count);
  conv2d(in, prob.in_q, packed, tensor_view<float, 4>(fgot.data(), oe), act);
  REQUIRE(fgot.intact());
  index_t fmismatches = 0;
  for (std::size_t i = 0; i < count; ++i) fmismatches += std::memcmp(&fgot.data()[i], &fwant[i], sizeof(float)) != 0;
  CHECK_MESSAGE(fmismatches == 0, "fp32 (dequantized) output differs on ", fmismatches, " of ", count, " values");
}

TEST_CASE_TEMPLATE("conv2d q8 equals the reference bit for bit over the sweep", T, std::int8_t, std::uint8_t) {
  const auto cases = conv_sweep();
  std::uint64_t salt = std::is_same_v<T, std::int8_t> ? 1000 : 2000;
  const conv2d_activation acts[] = {conv2d_activation::none(), conv2d_activation::relu(), conv2d_activation::relu6(),
                                    conv2d_activation::clamp(-0.7f, 1.3f)};
  std::size_t i = 0;
  for (const auto& c : cases) {
    CAPTURE(c.to_string());
    CAPTURE(salt);
    check_case<T>(c, salt++, acts[i % 4], i % 3 != 2);
    ++i;
  }
  MESSAGE(cases.size(), " cases on backend ", std::string(test_arch::name), ", int8 kernel ",
          std::string(gemm_kernel_for<test_arch, gemm_dtype::qs8, gemm_dtype::qc8w>::name));
}

TEST_CASE_TEMPLATE("conv2d q8 depthwise saturates like the reference", T, std::int8_t, std::uint8_t) {
  // Small output scales: most outputs saturate, and with 1e-9 acc * multiplier passes 2^31.
  const conv_case cases[] = {{1, 5, 9, 70, 70, 3, 3, conv2d_params::same(1, 70)},
                             {1, 5, 9, 70, 70, 3, 3, conv2d_params::same(2, 70)},
                             {1, 5, 9, 70, 70, 5, 5, conv2d_params::same(1, 70)}};
  std::uint64_t salt = 3000;
  for (const auto& c : cases)
    for (float factor : {1e-9f, 1e-2f})
      for (const auto& act : {conv2d_activation::none(), conv2d_activation::relu6()}) {
        CAPTURE(c.to_string());
        CAPTURE(factor);
        check_case<T>(c, salt++, act, true, factor);
      }
}

TEST_CASE("conv2d q8 strided (non-contiguous) views and threads") {
  auto rng = make_rng(77);
  // Depthwise, implicit GEMM, and 1x1 stride 1 (the GEMM path) with strided and with dense input.
  const conv_case cases[] = {{2, 9, 7, 20, 20, 3, 3, conv2d_params::same(2, 20)},
                             {2, 9, 7, 12, 20, 3, 3, conv2d_params::padded(1, 1)},
                             {2, 9, 7, 12, 40, 1, 1, conv2d_params::padded(0, 1)},
                             {2, 9, 7, 12, 40, 1, 1, conv2d_params::padded(0, 1)},
                             {1, 6, 9, 70, 70, 3, 3, conv2d_params::same(1, 70)},
                             {2, 9, 7, 64, 20, 3, 3, conv2d_params::same(1)}};  // windows read in place
  for (int which = 0; which < 6; ++which) {
    const conv_case& c = cases[which];
    const bool dense_input = which == 3;
    CAPTURE(c.to_string());
    CAPTURE(dense_input);
    const q8_problem prob = make_q8_problem<std::int8_t>(rng, c);
    const index_t cg = c.c_in / c.p.groups;
    // Input embedded in a larger buffer (padded rows and pixels) unless dense_input.
    const extents_t<4> ie{c.n, c.h, c.w, c.c_in};
    const extents_t<4> is = dense_input ? extents_t<4>{c.h * c.w * c.c_in, c.w * c.c_in, c.c_in, 1}
                                        : extents_t<4>{(c.h + 1) * (c.w + 2) * (c.c_in + 3), (c.w + 2) * (c.c_in + 3), c.c_in + 3, 1};
    const auto xb = random_ints<std::int8_t>(rng, static_cast<std::size_t>(c.n * is[0]), -128, 127);
    const tensor_view<const std::int8_t, 4> in(xb.data(), ie, is);
    const tensor_view<const std::int8_t, 4> wv(prob.weights.data(), {c.c_out, c.kh, c.kw, cg});
    const conv2d_qc8w_weights<test_arch> packed(wv, prob.scales, prob.bias, c.p);
    const extents_t<4> oe = conv2d_output_extents(ie, packed);
    const extents_t<4> os{oe[1] * oe[2] * (oe[3] + 5), oe[2] * (oe[3] + 5), oe[3] + 5, 1};
    std::vector<std::int8_t> want(static_cast<std::size_t>(oe[0] * os[0]), 0), got1(want), got2(want);
    const vector_view<const float> sv(prob.scales.data(), {c.c_out});
    const vector_view<const std::int32_t> bv(prob.bias.data(), {c.c_out});
    reference::conv2d_q8<std::int8_t>(in, prob.in_q, wv, sv, bv, tensor_view<std::int8_t, 4>(want.data(), oe, os),
                                      prob.out_q, c.p, conv2d_activation::relu6());
    conv2d(in, prob.in_q, packed, tensor_view<std::int8_t, 4>(got1.data(), oe, os), prob.out_q, conv2d_activation::relu6());
    context two(2);
    conv2d(in, prob.in_q, packed, tensor_view<std::int8_t, 4>(got2.data(), oe, os), prob.out_q, conv2d_activation::relu6(),
           &two);
    CHECK(got1 == want);  // includes the gaps between rows: untouched
    CHECK(got2 == want);
  }
}

TEST_CASE("conv2d qu8 1x1 reads evenly spaced pixel rows in place") {
  // uint8 activations with K a multiple of 4 are read by the VNNI kernel where they lie (no
  // packing); pixels spaced wider than C_in (a channel slice of a wider tensor), full tiles and
  // a tail, K over one K slice, one and three threads. The other backends pack: same results.
  auto rng = make_rng(91);
  struct shape {
    index_t n, h, w, c_in, c_out, pixel_stride;
  };
  const shape shapes[] = {{1, 5, 7, 40, 40, 45}, {2, 3, 5, 8, 17, 8}, {1, 5, 7, 1100, 20, 1103}, {1, 6, 6, 64, 48, 64},
                          {1, 1, 13, 12, 33, 15}};
  for (const shape& sh : shapes) {
    const conv_case c{sh.n, sh.h, sh.w, sh.c_in, sh.c_out, 1, 1, conv2d_params{}};
    CAPTURE(c.to_string());
    CAPTURE(sh.pixel_stride);
    const q8_problem prob = make_q8_problem<std::uint8_t>(rng, c);
    const extents_t<4> ie{c.n, c.h, c.w, c.c_in};
    const index_t ps = sh.pixel_stride;
    const extents_t<4> is{c.h * c.w * ps, c.w * ps, ps, 1};
    const auto xb = random_ints<std::uint8_t>(rng, static_cast<std::size_t>(c.n * is[0]), 0, 255);
    const tensor_view<const std::uint8_t, 4> in(xb.data(), ie, is);
    const tensor_view<const std::int8_t, 4> wv(prob.weights.data(), {c.c_out, 1, 1, c.c_in});
    const conv2d_qc8w_weights<test_arch> packed(wv, prob.scales, prob.bias, c.p);
    const extents_t<4> oe = conv2d_output_extents(ie, packed);
    const auto count = static_cast<std::size_t>(element_count<4>(oe));
    const vector_view<const float> sv(prob.scales.data(), {c.c_out});
    const vector_view<const std::int32_t> bv(prob.bias.data(), {c.c_out});
    std::vector<std::uint8_t> want(count);
    reference::conv2d_q8<std::uint8_t>(in, prob.in_q, wv, sv, bv, tensor_view<std::uint8_t, 4>(want.data(), oe), prob.out_q,
                                       c.p, conv2d_activation::relu());
    std::vector<float> fwant(count);
    reference::conv2d_q8<std::uint8_t>(in, prob.in_q, wv, sv, bv, tensor_view<float, 4>(fwant.data(), oe), c.p,
                                       conv2d_activation::none());
    for (index_t threads : {1, 3}) {
      CAPTURE(threads);
      context ctx(threads);
      guarded_buffer<std::uint8_t> got(count);
      conv2d(in, prob.in_q, packed, tensor_view<std::uint8_t, 4>(got.data(), oe), prob.out_q, conv2d_activation::relu(), &ctx);
      REQUIRE(got.intact());
      CHECK(std::memcmp(got.data(), want.data(), count) == 0);
      guarded_buffer<float> fgot(count);
      conv2d(in, prob.in_q, packed, tensor_view<float, 4>(fgot.data(), oe), conv2d_activation::none(), &ctx);
      REQUIRE(fgot.intact());
      CHECK(std::memcmp(fgot.data(), fwant.data(), count * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("conv2d q8 zero-sized batch is a no-op") {
  const std::vector<std::int8_t> wt(3 * 3 * 3 * 4, 1);
  const conv2d_qc8w_weights<test_arch> packed(tensor_view<const std::int8_t, 4>(wt.data(), {4, 3, 3, 3}),
                                              std::vector<float>(4, 0.01f), {}, conv2d_params::same());
  std::int8_t dummy = 0;
  conv2d(tensor_view<const std::int8_t, 4>(&dummy, {0, 5, 5, 3}), {0.1f, 0}, packed,
         tensor_view<std::int8_t, 4>(&dummy, {0, 5, 5, 4}), {0.1f, 0});
  CHECK(dummy == 0);
}

}  // namespace
}  // namespace test
}  // namespace lightq
