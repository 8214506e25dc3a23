// conv2d fp32 and fp16-weight paths against the reference (summed in double) over the shared
// sweep: |got - want| <= (K + 2) * eps_fp32 * sum |x * w| (+ |bias|) per output, the classic
// bound of a K-term fp32 dot product in any order with or without FMA.
#include <cmath>
#include <limits>

#include "conv/conv_test_util.hpp"

namespace lightq {
namespace test {
namespace {

template <class W>
void check_float_case(const conv_case& c, std::uint64_t salt, const conv2d_activation& act) {
  auto rng = make_rng(salt);
  const index_t cg = c.c_in / c.p.groups;
  const index_t k = c.kh * c.kw * cg;
  const auto x = random_floats(rng, static_cast<std::size_t>(c.n * c.h * c.w * c.c_in), -2.0f, 2.0f);
  const auto wf = random_floats(rng, static_cast<std::size_t>(c.c_out * k), -1.0f, 1.0f);
  const auto bias = random_floats(rng, static_cast<std::size_t>(c.c_out), -0.5f, 0.5f);
  std::vector<W> wt(wf.size());
  for (std::size_t i = 0; i < wf.size(); ++i) wt[i] = W(wf[i]);
  const tensor_view<const float, 4> in(x.data(), {c.n, c.h, c.w, c.c_in});
  const tensor_view<const W, 4> wv(wt.data(), {c.c_out, c.kh, c.kw, cg});
  const vector_view<const float> bv(bias.data(), {c.c_out});
  using packed_t = std::conditional_t<std::is_same_v<W, float>, conv2d_f32_weights<test_arch>, conv2d_f16_weights<test_arch>>;
  const packed_t packed(wv, bias, c.p);
  const extents_t<4> oe = conv2d_output_extents(in.extents(), packed);
  const auto count = static_cast<std::size_t>(element_count<4>(oe));
  std::vector<float> want(count);
  const tensor_view<float, 4> wantv(want.data(), oe);
  reference::conv2d_float<W>(in, wv, bv, wantv, c.p, act);
  guarded_buffer<float> got(count);
  const tensor_view<float, 4> gotv(got.data(), oe);
  conv2d(in, packed, gotv, act);
  REQUIRE(got.intact());
  const double eps = std::numeric_limits<float>::epsilon();
  index_t bad = 0;
  double worst = 0;
  for (index_t n = 0; n < oe[0]; ++n)
    for (index_t oy = 0; oy < oe[1]; ++oy)
      for (index_t ox = 0; ox < oe[2]; ++ox)
        for (index_t co = 0; co < oe[3]; ++co) {
          const double bound = static_cast<double>(k + 2) * eps *
                               reference::conv2d_float_abs_sum<W>(in, wv, bv, c.p, n, oy, ox, co) + 1e-30;
          const double err = std::abs(static_cast<double>(gotv(n, oy, ox, co)) - wantv(n, oy, ox, co));
          worst = std::max(worst, err / bound);
          bad += !(err <= bound);
        }
  CHECK_MESSAGE(bad == 0, bad, " outputs beyond the bound; worst error / bound = ", worst);
}

TEST_CASE_TEMPLATE("conv2d fp32 / fp16 weights within the bound over the sweep", W, float, half) {
  const auto cases = conv_sweep();
  std::uint64_t salt = std::is_same_v<W, float> ? 3000 : 4000;
  const conv2d_activation acts[] = {conv2d_activation::none(), conv2d_activation::relu(), conv2d_activation::relu6(),
                                    conv2d_activation::clamp(-0.7f, 1.3f)};
  std::size_t i = 0;
  for (const auto& c : cases) {
    CAPTURE(c.to_string());
    CAPTURE(salt);
    check_float_case<W>(c, salt++, acts[i++ % 4]);
  }
}

TEST_CASE("conv2d fp32 1x1 on a strided input view reads the input rows directly") {
  auto rng = make_rng(99);
  const extents_t<4> ie{2, 5, 3, 24};
  const extents_t<4> is{5 * 4 * 30, 4 * 30, 30, 1};
  const auto x = random_floats(rng, static_cast<std::size_t>(2 * is[0]));
  const auto wf = random_floats(rng, 40 * 24);
  const tensor_view<const float, 4> in(x.data(), ie, is);
  const tensor_view<const float, 4> wv(wf.data(), {40, 1, 1, 24});
  const conv2d_f32_weights<test_arch> packed(wv, {}, conv2d_params{});
  std::vector<float> want(2 * 5 * 3 * 40), got(want.size());
  reference::conv2d_float<float>(in, wv, vector_view<const float>(), tensor_view<float, 4>(want.data(), {2, 5, 3, 40}),
                                 conv2d_params{});
  context two(2);
  conv2d(in, packed, tensor_view<float, 4>(got.data(), {2, 5, 3, 40}), conv2d_activation::none(), &two);
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= 1e-5f);
}

}  // namespace
}  // namespace test
}  // namespace lightq
