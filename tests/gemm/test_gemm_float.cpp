// fp32 and fp16-weight GEMM: every backend and the scalar twin stay within the documented
// error bound of a double reference: |y - ref| <= 8 * eps * sqrt(K) * sum_k |x * w| (+ ulp of y).
#include <cmath>

#include "gemm/gemm_test_util.hpp"
#include "lightq/gemm/detail/half_bits.hpp"

namespace lt = lightq::test;
using lightq::index_t;

namespace {

using backend = lt::test_arch;

/// Element (i, j) of clamp(x * w^T + bias) in double; `mag` gets |bias| + sum_k |x w|.
double reference_element(const lt::test_matrix<float>& x, const lt::test_matrix<float>& w, index_t i, index_t j, double bias,
                         const lightq::output_clamp& clamp, double& mag) {
  double ref = bias;
  mag = std::abs(bias);
  for (index_t kk = 0; kk < x.cols; ++kk) {
    const double p = double(x.view(i, kk)) * double(w.view(j, kk));
    ref += p;
    mag += std::abs(p);
  }
  return std::min(std::max(ref, double(clamp.min)), double(clamp.max));
}

template <class W>
void check_float_case(const lt::gemm_shape& s, std::uint64_t salt, lightq::context* ctx = nullptr, bool plain = false) {
  CAPTURE(s.to_string());
  CAPTURE(salt);
  auto rng = lt::make_rng(salt);
  const index_t m = s.m, n = s.n, k = s.k;
  lt::test_matrix<float> x(m, k, s.strided);
  x.fill(lt::random_floats(rng, static_cast<std::size_t>(m * k)));
  lt::test_matrix<float> w(n, k, s.strided, s.strided && salt % 2);
  std::vector<float> wv = lt::random_floats(rng, static_cast<std::size_t>(n * k));
  if constexpr (std::is_same_v<W, lightq::gemm_dtype::f16>)  // the reference sees the rounded weights
    for (float& v : wv) v = lightq::detail::half_bits_to_float(lightq::detail::float_to_half_bits(v));
  w.fill(wv);
  const std::vector<float> bias = lt::random_floats(rng, static_cast<std::size_t>(n));
  const bool with_bias = salt % 3 != 0;
  const lightq::output_clamp clamp = salt % 4 == 1 ? lightq::output_clamp::relu() : salt % 4 == 2 ? lightq::output_clamp::range(-0.5f, 0.75f)
                                                                                                  : lightq::output_clamp::none();
  const lightq::vector_view<const float> b(with_bias ? bias.data() : nullptr, {with_bias ? n : 0});
  lt::guarded_matrix<float> y(m, n, s.strided), y_twin(m, n, s.strided);
  if constexpr (std::is_same_v<W, lightq::gemm_dtype::f32>) {
    if (plain) {
      lightq::gemm<backend>(x.cview(), w.cview().transpose(), y.view(), b, clamp, ctx);
    } else {
      lightq::linear(x.cview(), lightq::pack_weights<backend>(w.cview()), b, y.view(), clamp, ctx);
    }
    lightq::linear(x.cview(), lightq::pack_weights<lightq::arch::scalar>(w.cview()), b, y_twin.view(), clamp);
  } else {
    lightq::linear(x.cview(), lightq::pack_weights_f16<backend>(w.cview()), b, y.view(), clamp, ctx);
    lightq::linear(x.cview(), lightq::pack_weights_f16<lightq::arch::scalar>(w.cview()), b, y_twin.view(), clamp);
  }
  REQUIRE(y.buffer.intact());
  REQUIRE(y_twin.buffer.intact());
  const double eps = std::numeric_limits<float>::epsilon();
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      double mag = 0.0;
      const double ref = reference_element(x, w, i, j, with_bias ? bias[std::size_t(j)] : 0.0, clamp, mag);
      const double bound = 8.0 * eps * std::sqrt(double(std::max<index_t>(k, 1))) * mag + eps * std::abs(ref);
      const double e1 = std::abs(double(y.at(i, j)) - ref), e2 = std::abs(double(y_twin.at(i, j)) - ref);
      if (!(e1 <= bound && e2 <= bound)) {
        CAPTURE(i);
        CAPTURE(j);
        CAPTURE(ref);
        CAPTURE(bound);
        CHECK(e2 <= bound);
        REQUIRE(e1 <= bound);
      }
    }
}

template <class W>
std::vector<lt::gemm_shape> float_shapes() {
  using K = lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, W>;
  return lt::gemm_shapes(K::mr, K::nr, K::kr);
}

}  // namespace

TEST_CASE("gemm f32: kernels selected for this backend") {
  MESSAGE("backend " << std::string(backend::name) << " runs "
                     << std::string(lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, lightq::gemm_dtype::f32>::name) << " and "
                     << std::string(lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, lightq::gemm_dtype::f16>::name));
}

TEST_CASE("gemm f32 x f32 within the bound (linear and plain strided forms)") {
  std::uint64_t salt = 7000;
  for (const auto& s : float_shapes<lightq::gemm_dtype::f32>()) {
    check_float_case<lightq::gemm_dtype::f32>(s, salt++);
    check_float_case<lightq::gemm_dtype::f32>(s, salt++, nullptr, true);
  }
}

TEST_CASE("gemm f32 x f16 weights within the bound") {
  std::uint64_t salt = 9000;
  for (const auto& s : float_shapes<lightq::gemm_dtype::f16>()) check_float_case<lightq::gemm_dtype::f16>(s, salt++);
}

TEST_CASE("gemm float: deep K crosses the K blocks; thread counts agree bit for bit") {
  const lt::gemm_shape s{13, 70, 1000, true};
  check_float_case<lightq::gemm_dtype::f32>(s, 1);
  check_float_case<lightq::gemm_dtype::f16>(s, 2);
  // Several row blocks, each packed by the task that multiplies it.
  using K = lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f32, lightq::gemm_dtype::f32>;
  const lt::gemm_shape tall{2 * K::mc_block + K::mr + 1, 2 * K::nr + 3, 67, true};
  lightq::context two(2);
  check_float_case<lightq::gemm_dtype::f32>(tall, 3);
  check_float_case<lightq::gemm_dtype::f32>(tall, 4, &two);
  // Thread invariance: identical bits for 1, 2, 3 tasks.
  auto rng = lt::make_rng(3);
  const index_t m = 37, n = 300, k = 513;
  std::vector<float> xv = lt::random_floats(rng, std::size_t(m * k)), wv = lt::random_floats(rng, std::size_t(n * k));
  const auto w = lightq::pack_weights<backend>(lightq::matrix_view<const float>(wv.data(), {n, k}));
  const auto w16 = lightq::pack_weights_f16<backend>(lightq::matrix_view<const float>(wv.data(), {n, k}));
  std::vector<float> y1(std::size_t(m * n)), y2(std::size_t(m * n)), h1(std::size_t(m * n)), h2(std::size_t(m * n));
  lightq::matrix_view<const float> x(xv.data(), {m, k});
  lightq::linear(x, w, {}, lightq::matrix_view<float>(y1.data(), {m, n}));
  lightq::linear(x, w16, {}, lightq::matrix_view<float>(h1.data(), {m, n}));
  for (index_t t : {2, 3}) {
    lightq::context ctx(t);
    lightq::linear(x, w, {}, lightq::matrix_view<float>(y2.data(), {m, n}), {}, &ctx);
    lightq::linear(x, w16, {}, lightq::matrix_view<float>(h2.data(), {m, n}), {}, &ctx);
    CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(h1.data(), h2.data(), h1.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("gemm float: bad input and zero sizes") {
  std::vector<float> xs(12, 1.0f), ws(20, 1.0f), ys(15);
  const auto w = lightq::pack_weights<backend>(lightq::matrix_view<const float>(ws.data(), {5, 4}));
  CHECK_THROWS_AS(lightq::linear(lightq::matrix_view<const float>(xs.data(), {4, 3}), w, {},
                                 lightq::matrix_view<float>(ys.data(), {4, 5})),
                  lightq::error);
  CHECK_THROWS_AS(lightq::linear(lightq::matrix_view<const float>(xs.data(), {3, 4}), w, {},
                                 lightq::matrix_view<float>(xs.data(), {3, 5})),
                  lightq::error);
  CHECK_THROWS_AS(lightq::gemm<backend>(lightq::matrix_view<const float>(xs.data(), {3, 4}),
                                        lightq::matrix_view<const float>(ws.data(), {5, 4}), lightq::matrix_view<float>(ys.data(), {3, 4})),
                  lightq::error);
  for (const auto& s : {lt::gemm_shape{0, 5, 7, false}, lt::gemm_shape{4, 0, 7, false}, lt::gemm_shape{4, 5, 0, false}}) {
    check_float_case<lightq::gemm_dtype::f32>(s, 11);
    check_float_case<lightq::gemm_dtype::f16>(s, 12);
  }
}

TEST_CASE("half bits: exhaustive round trip and rounding") {
  for (std::uint32_t h = 0; h < 0x10000u; ++h) {
    const float f = lightq::detail::half_bits_to_float(static_cast<std::uint16_t>(h));
    const std::uint16_t back = lightq::detail::float_to_half_bits(f);
    if (std::isnan(f)) {
      REQUIRE((back & 0x7c00u) == 0x7c00u);
      REQUIRE((back & 0x3ffu) != 0u);
    } else {
      REQUIRE(back == h);
    }
  }
  CHECK(lightq::detail::float_to_half_bits(65520.0f) == 0x7c00u);
  CHECK(lightq::detail::float_to_half_bits(65519.0f) == 0x7bffu);
  CHECK(lightq::detail::float_to_half_bits(std::ldexp(1.0f, -25)) == 0u);
  CHECK(lightq::detail::float_to_half_bits(std::ldexp(1.5f, -25)) == 1u);
}

namespace {

// fp16 activations x fp16 weights through the public linear: every backend within the bound of
// its arithmetic (fp16 blocks of 16 on neon_dotprod, documented in gemm/neon/f16_8x24_dotprod.hpp;
// fp32 elsewhere, where it must also equal the fp32 x fp16-weight path on the widened input).
void check_f16_f16_case(const lt::gemm_shape& s, std::uint64_t salt, lightq::context* ctx = nullptr) {
  using K = lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f16, lightq::gemm_dtype::f16>;
  constexpr bool fp16_arithmetic = std::is_same_v<typename K::a_type, std::uint16_t>;
  CAPTURE(s.to_string());
  CAPTURE(salt);
  auto rng = lt::make_rng(salt);
  const index_t m = s.m, n = s.n, k = s.k;
  const auto round_half = [](float v) { return lightq::detail::half_bits_to_float(lightq::detail::float_to_half_bits(v)); };
  std::vector<float> xv = lt::random_floats(rng, static_cast<std::size_t>(m * k));
  for (float& v : xv) v = round_half(v);
  lt::test_matrix<float> xf(m, k, s.strided);
  xf.fill(xv);
  lt::test_matrix<lightq::half> xh(m, k, s.strided);
  std::vector<lightq::half> xhv(xv.size());
  for (std::size_t i = 0; i < xv.size(); ++i) xhv[i] = lightq::half(xv[i]);
  xh.fill(xhv);
  std::vector<float> wv = lt::random_floats(rng, static_cast<std::size_t>(n * k));
  for (float& v : wv) v = round_half(v);
  lt::test_matrix<float> w(n, k, s.strided, s.strided && salt % 2);
  w.fill(wv);
  const std::vector<float> bias = lt::random_floats(rng, static_cast<std::size_t>(n));
  const bool with_bias = salt % 3 != 0;
  const lightq::output_clamp clamp = salt % 4 == 1 ? lightq::output_clamp::relu() : lightq::output_clamp::none();
  const lightq::vector_view<const float> b(with_bias ? bias.data() : nullptr, {with_bias ? n : 0});
  lt::guarded_matrix<float> y(m, n, s.strided), y_twin(m, n, s.strided), y_f32(m, n, s.strided);
  lightq::linear(xh.cview(), lightq::pack_weights_f16<backend, lightq::gemm_dtype::f16>(w.cview()), b, y.view(), clamp, ctx);
  lightq::linear(xh.cview(), lightq::pack_weights_f16<lightq::arch::scalar, lightq::gemm_dtype::f16>(w.cview()), b,
                 y_twin.view(), clamp);
  lightq::linear(xf.cview(), lightq::pack_weights_f16<backend>(w.cview()), b, y_f32.view(), clamp, ctx);
  REQUIRE(y.buffer.intact());
  REQUIRE(y_twin.buffer.intact());
  const double eps32 = std::numeric_limits<float>::epsilon(), u16 = std::ldexp(1.0, -11);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      double mag = 0.0;
      const double ref = reference_element(xf, w, i, j, with_bias ? bias[std::size_t(j)] : 0.0, clamp, mag);
      const double bound32 = 8.0 * eps32 * std::sqrt(double(std::max<index_t>(k, 1))) * mag + eps32 * std::abs(ref);
      const double bound16 = (16.0 * u16 + std::ceil(double(k) / 16.0) * eps32) * mag + std::ldexp(double(k), -25) +
                             eps32 * std::abs(ref);
      const double e = std::abs(double(y.at(i, j)) - ref), e_twin = std::abs(double(y_twin.at(i, j)) - ref);
      const bool same_as_f32 = fp16_arithmetic || y.at(i, j) == y_f32.at(i, j);
      if (!(e <= (fp16_arithmetic ? bound16 : bound32) && e_twin <= bound32 && same_as_f32)) {
        CAPTURE(i);
        CAPTURE(j);
        CAPTURE(ref);
        CHECK(e_twin <= bound32);
        CHECK(same_as_f32);
        REQUIRE(e <= (fp16_arithmetic ? bound16 : bound32));
      }
    }
}

}  // namespace

TEST_CASE("gemm f16 x f16: lightq::half activations through the public linear, within the bound of the backend's arithmetic") {
  using K = lightq::gemm_kernel_for<backend, lightq::gemm_dtype::f16, lightq::gemm_dtype::f16>;
  MESSAGE("backend " << std::string(backend::name) << " runs " << std::string(K::name));
  std::uint64_t salt = 11000;
  for (const auto& s : lt::gemm_shapes(K::mr, K::nr, K::kr, false)) check_f16_f16_case(s, salt++);
  lightq::context two(2);
  check_f16_f16_case(lt::gemm_shape{2 * K::mr + 1, 3 * K::nr + 2, K::kc_block + 17, true}, salt++, &two);
  // Shape errors name the argument.
  std::vector<lightq::half> x(6);
  std::vector<float> wf(8), yv(8);
  const auto packed = lightq::pack_weights_f16<backend, lightq::gemm_dtype::f16>(lightq::matrix_view<const float>(wf.data(), {4, 2}));
  CHECK_THROWS_WITH_AS(lightq::linear(lightq::matrix_view<const lightq::half>(x.data(), {2, 3}), packed, {},
                                      lightq::matrix_view<float>(yv.data(), {2, 4})),
                       doctest::Contains("x.extent(1) (K)"), lightq::error);
}
