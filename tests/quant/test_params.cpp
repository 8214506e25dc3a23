// Tests of the quantization parameters: validation errors that name the argument, parameters from
// a range (zero exactly representable), the exact-K bounds, and observers' bookkeeping.
#include "quant_test_data.hpp"

#include <limits>

#include "lightq/quant/observers.hpp"
#include "lightq/quant/output_stage.hpp"
#include "lightq/quant/params.hpp"
#include "lightq/quant/quantize.hpp"

using namespace lightq;
using namespace lightq::test;

TEST_CASE("dtype tokens: storage, range, names") {
  static_assert(std::is_same_v<storage_t<qs8>, std::int8_t> && qs8::qmin == -128 && qs8::qmax == 127);
  static_assert(std::is_same_v<storage_t<qu8>, std::uint8_t> && qu8::qmin == 0 && qu8::qmax == 255);
  static_assert(std::is_same_v<storage_t<qc8w>, std::int8_t> && qc8w::qmin == -127 && qc8w::qmax == 127 && qc8w::symmetric);
  static_assert(std::is_same_v<storage_t<qd8>, std::int8_t> && qd8::qmin == -128 && !qd8::symmetric);
  CHECK(std::string(quant_traits<qc8w>::name) == "qc8w");
  CHECK(std::string(qd8::name) == "qd8");
}

TEST_CASE("per_tensor_params / per_channel_params: bad arguments are errors that name them") {
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(0.0f, 0), doctest::Contains("scale"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(-1.0f, 0), doctest::Contains("scale"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(kNaN, 0), doctest::Contains("scale"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(kInf, 0), doctest::Contains("scale"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(1.0f, 128), doctest::Contains("zero_point"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qs8>(1.0f, -129), doctest::Contains("zero_point"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qu8>(1.0f, -1), doctest::Contains("zero_point"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qu8>(1.0f, 256), doctest::Contains("zero_point"), lightq::error);
  CHECK_THROWS_WITH_AS(per_tensor_params<qc8w>(1.0f, 1), doctest::Contains("zero_point"), lightq::error);
  CHECK_NOTHROW(per_tensor_params<qu8>(std::numeric_limits<float>::denorm_min(), 255));
  CHECK_THROWS_WITH_AS((per_channel_params<qc8w>({}, 0)), doctest::Contains("scales"), lightq::error);
  CHECK_THROWS_WITH_AS((per_channel_params<qc8w>({1.0f, 2.0f, 0.0f}, 0)), doctest::Contains("scales[2]"), lightq::error);
  CHECK_THROWS_WITH_AS((per_channel_params<qc8w>({1.0f, kNaN}, 0)), doctest::Contains("scales[1]"), lightq::error);
  CHECK_THROWS_WITH_AS((per_channel_params<qc8w>({1.0f}, -1)), doctest::Contains("axis"), lightq::error);
  CHECK_THROWS_WITH_AS((per_channel_params<qc8w>({1.0f, 2.0f}, 0, 3)), doctest::Contains("channels"), lightq::error);
  const per_channel_params<qc8w> pc({1.0f, 2.0f, 4.0f}, 1, 3);
  CHECK(pc.channels() == 3);
  CHECK(pc.inv_scale(2) == 0.25f);
}

TEST_CASE("quantize / dequantize / qd8: shape, axis and aliasing errors name the argument") {
  std::vector<float> x(12);
  std::vector<std::int8_t> q(12);
  const per_tensor_params<qs8> p(1.0f, 0);
  tensor_view<const float, 2> xv(x.data(), {3, 4});
  CHECK_THROWS_WITH_AS(quantize(xv, tensor_view<std::int8_t, 2>(q.data(), {4, 3}), p), doctest::Contains("q extents"), lightq::error);
  CHECK_THROWS_WITH_AS(dequantize(tensor_view<const std::int8_t, 2>(q.data(), {4, 3}), tensor_view<float, 2>(x.data(), {3, 4}), p),
                       doctest::Contains("y extents"), lightq::error);
  const per_channel_params<qc8w> pc({1.0f, 2.0f, 3.0f}, 1);
  CHECK_THROWS_WITH_AS(quantize(xv, tensor_view<std::int8_t, 2>(q.data(), {3, 4}), pc), doctest::Contains("params.channels()"),
                       lightq::error);
  const per_channel_params<qc8w> pa({1.0f, 2.0f, 3.0f}, 2);
  CHECK_THROWS_WITH_AS(quantize(xv, tensor_view<std::int8_t, 2>(q.data(), {3, 4}), pa), doctest::Contains("axis"), lightq::error);
  CHECK_THROWS_WITH_AS(dequantize(tensor_view<const std::int8_t, 2>(q.data(), {3, 4}), tensor_view<float, 2>(x.data(), {3, 4}), pa),
                       doctest::Contains("axis"), lightq::error);
  // q overlapping x
  CHECK_THROWS_WITH_AS(quantize(xv, tensor_view<std::int8_t, 2>(reinterpret_cast<std::int8_t*>(x.data()), {3, 4}), p),
                       doctest::Contains("q must not overlap x"), lightq::error);
  std::vector<qd8_row_params> rows(2);
  CHECK_THROWS_WITH_AS(quantize_dynamic_rows(xv, tensor_view<std::int8_t, 2>(q.data(), {3, 4}), vector_view<qd8_row_params>(rows.data(), {2})),
                       doctest::Contains("rows.extent(0)"), lightq::error);
}

TEST_CASE("params from a range: zero exactly representable, range widened to include 0, errors") {
  auto rng = make_rng(301);
  std::uniform_real_distribution<float> d(-50.0f, 50.0f);
  for (int i = 0; i < 2000; ++i) {
    float a = d(rng), b = d(rng);
    if (i % 7 == 0) a = std::ldexp(a, -120);
    if (i % 11 == 0) b = std::ldexp(b, 100);
    if (a > b) std::swap(a, b);
    auto check_zero = [&](auto params) {
      const requantize_bounds bb = params.bounds();
      REQUIRE(quantize_fp32(0.0f, params.inv_scale(), bb) == params.zero_point());
      REQUIRE(params.dequantize(params.zero_point()) == 0.0f);
      REQUIRE(std::isfinite(params.inv_scale()));
    };
    check_zero(params_from_range<qs8>(a, b));
    check_zero(params_from_range<qu8>(a, b));
    check_zero(params_from_range<qc8w>(a, b));
    check_zero(params_from_range<qd8>(a, b));
    check_zero(symmetric_params_from_range<qs8>(a, b));
    check_zero(symmetric_params_from_range<qu8>(a, b));
  }
  // widened to include 0: [1, 5] covers [0, 5]
  const auto p = params_from_range<qu8>(1.0f, 5.0f);
  CHECK(p.zero_point() == 0);
  CHECK(p.scale() == doctest::Approx(5.0 / 255.0));
  const auto n = params_from_range<qs8>(-6.0f, -2.0f);
  CHECK(n.zero_point() == 127);
  const auto s = params_from_range<qc8w>(-3.0f, 1.0f);
  CHECK(s.zero_point() == 0);
  CHECK(s.scale() == doctest::Approx(3.0 / 127.0));
  CHECK(symmetric_params_from_range<qu8>(-1.0f, 2.0f).zero_point() == 128);
  CHECK(params_from_range<qs8>(0.0f, 0.0f).scale() == 1.0f);
  CHECK(params_from_range<qs8>(-1e-45f, 0.0f).scale() == std::numeric_limits<float>::min());
  const float big = std::numeric_limits<float>::max();
  const auto wide = params_from_range<qs8>(-big, big);
  CHECK(std::isfinite(wide.scale()));
  CHECK_THROWS_WITH_AS(params_from_range<qs8>(kNaN, 1.0f), doctest::Contains("min"), lightq::error);
  CHECK_THROWS_WITH_AS(params_from_range<qs8>(0.0f, kInf), doctest::Contains("max"), lightq::error);
  CHECK_THROWS_WITH_AS(params_from_range<qs8>(2.0f, 1.0f), doctest::Contains("min (2) must be <= max (1)"), lightq::error);
}

TEST_CASE("max_exact_k: derived bounds and the check the GEMM uses") {
  static_assert(max_exact_k<qu8, qc8w>() == 66311);
  static_assert(max_exact_k<qs8, qc8w>() == 66311);
  static_assert(max_exact_k<qd8, qc8w>() == 66311);
  static_assert(max_exact_k_raw<qs8, qc8w>() == 132104);
  static_assert(max_exact_k_raw<qu8, qc8w>() == 66311);
  static_assert(max_exact_k<qs8, qs8>() == 33025);
  static_assert(max_exact_k<qu8, qu8>() == 33025);
  // K_max terms really fit and K_max + 1 would not
  const std::int64_t t = 255 * 127;
  CHECK(t * max_exact_k<qu8, qc8w>() <= std::numeric_limits<std::int32_t>::max());
  CHECK(t * (max_exact_k<qu8, qc8w>() + 1) > std::numeric_limits<std::int32_t>::max());
  CHECK_NOTHROW((check_exact_k<qs8, qc8w>(66311, "gemm")));
  CHECK_THROWS_WITH_AS((check_exact_k<qs8, qc8w>(66312, "gemm")), doctest::Contains("K = 66312 exceeds"), lightq::error);
}

TEST_CASE("observers: bookkeeping, non-finite values ignored, errors") {
  const float a[] = {1.0f, -2.0f, kNaN, 3.0f};
  const float b[] = {-4.0f, kInf, 0.5f};
  minmax_observer mm;
  CHECK_THROWS_WITH_AS((mm.params<qs8>()), doctest::Contains("observed"), lightq::error);
  mm.observe(a, 4);
  mm.observe(tensor_view<const float, 1>(b, {3}));
  CHECK(mm.min() == -4.0f);
  CHECK(mm.max() == 3.0f);
  CHECK(mm.params<qu8>().scale() == doctest::Approx(7.0 / 255.0));

  moving_average_minmax_observer ema(0.5f);
  ema.observe(a, 4);
  ema.observe(b, 3);
  CHECK(ema.min() == -3.0f);   // -2 + 0.5 * (-4 + 2)
  CHECK(ema.max() == 1.75f);   // 3 + 0.5 * (0.5 - 3)
  // a strided 2-D view is one batch
  const float grid[] = {1, 100, 2, 100, -8, 100};
  ema.observe(tensor_view<const float, 2>(grid, {3, 1}, {2, 2}));
  CHECK(ema.min() == -5.5f);
  CHECK(ema.max() == 1.875f);
  CHECK_THROWS_WITH_AS(moving_average_minmax_observer(0.0f), doctest::Contains("averaging_constant"), lightq::error);
  CHECK_THROWS_WITH_AS(moving_average_minmax_observer(1.5f), doctest::Contains("averaging_constant"), lightq::error);
  CHECK_THROWS_WITH_AS(percentile_observer(40.0), doctest::Contains("percentile"), lightq::error);
  CHECK_THROWS_WITH_AS(percentile_observer(99.0, 4), doctest::Contains("bins"), lightq::error);
  CHECK_THROWS_WITH_AS(mse_observer(2048, 2), doctest::Contains("steps"), lightq::error);
  CHECK_THROWS_WITH_AS((mse_observer().params<qs8>()), doctest::Contains("observed"), lightq::error);
  CHECK_THROWS_WITH_AS(mm.observe(a, -1), doctest::Contains("count"), lightq::error);

  // percentile of a uniform ramp, fed in two batches that grow the histogram's range
  percentile_observer pct(99.0);
  std::vector<float> ramp(10000);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i) / 100.0f;  // 0 .. 99.99
  pct.observe(ramp.data(), 5000);
  pct.observe(ramp.data() + 5000, 5000);
  CHECK(pct.max() == doctest::Approx(99.0).epsilon(0.02));
  CHECK(pct.min() == doctest::Approx(1.0).epsilon(0.1));
  // a constant batch
  mse_observer constant;
  const float sevens[] = {7.0f, 7.0f, 7.0f};
  constant.observe(sevens, 3);
  const auto cp = constant.params<qu8>();
  CHECK(cp.dequantize(quantize_fp32(7.0f, cp.inv_scale(), cp.bounds())) == doctest::Approx(7.0).epsilon(0.01));
}
