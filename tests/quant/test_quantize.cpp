// Tests of quantize / dequantize / qd8: SIMD equals the scalar twin bit for bit on random data and
// hard cases, lengths 0..67, unaligned and strided views, guard bytes; rounding rules by hand.
#include "quant_test_data.hpp"

#include <limits>

#include "lightq/quant/quantize.hpp"

using namespace lightq;
using namespace lightq::test;

namespace {

template <class DType>
std::vector<std::int32_t> zero_points_of() {
  if constexpr (DType::symmetric) return {0};
  else return {DType::qmin, 0 > DType::qmin ? 0 : DType::qmin + 1, DType::qmin + 100, DType::qmax};
}

template <class DType>
void check_quantize_matches_scalar(std::uint64_t salt) {
  using Q = storage_t<DType>;
  auto rng = make_rng(salt);
  for (float scale : test_scales()) {
    for (std::int32_t zp : zero_points_of<DType>()) {
      const per_tensor_params<DType> p(scale, zp);
      for (index_t n = 0; n <= 67; ++n) {
        for (index_t offset : {index_t{0}, index_t{1}, index_t{3}}) {
          CAPTURE(scale);
          CAPTURE(zp);
          CAPTURE(n);
          CAPTURE(offset);
          std::vector<float> src = hard_floats(rng, static_cast<std::size_t>(n + offset), scale);
          guarded_buffer<Q> got(static_cast<std::size_t>(n + offset)), want(static_cast<std::size_t>(n + offset));
          tensor_view<const float, 1> x(src.data() + offset, {n});
          quantize<test_arch>(x, tensor_view<Q, 1>(got.data() + offset, {n}), p);
          quantize<arch::scalar>(x, tensor_view<Q, 1>(want.data() + offset, {n}), p);
          REQUIRE(got.intact());
          REQUIRE(std::memcmp(got.data() + offset, want.data() + offset, static_cast<std::size_t>(n)) == 0);
          // dequantize back
          guarded_buffer<float> yg(static_cast<std::size_t>(n)), yw(static_cast<std::size_t>(n));
          tensor_view<const Q, 1> qv(want.data() + offset, {n});
          dequantize<test_arch>(qv, tensor_view<float, 1>(yg.data(), {n}), p);
          dequantize<arch::scalar>(qv, tensor_view<float, 1>(yw.data(), {n}), p);
          REQUIRE(yg.intact());
          REQUIRE(same_bits(yg.data(), yw.data(), static_cast<std::size_t>(n)));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("quantize: the rounding rules by hand (ties to even, NaN, Inf, saturation, -0)") {
  const per_tensor_params<qs8> p(1.0f, 0);
  const requantize_bounds b = p.bounds();
  CHECK(quantize_fp32(0.5f, 1.0f, b) == 0);
  CHECK(quantize_fp32(1.5f, 1.0f, b) == 2);
  CHECK(quantize_fp32(2.5f, 1.0f, b) == 2);
  CHECK(quantize_fp32(-0.5f, 1.0f, b) == 0);
  CHECK(quantize_fp32(-1.5f, 1.0f, b) == -2);
  CHECK(quantize_fp32(-2.5f, 1.0f, b) == -2);
  CHECK(quantize_fp32(-0.0f, 1.0f, b) == 0);
  CHECK(quantize_fp32(127.5f, 1.0f, b) == 127);
  CHECK(quantize_fp32(-128.5f, 1.0f, b) == -128);
  CHECK(quantize_fp32(1e30f, 1.0f, b) == 127);
  CHECK(quantize_fp32(kInf, 1.0f, b) == 127);
  CHECK(quantize_fp32(-kInf, 1.0f, b) == -128);
  CHECK(quantize_fp32(kNaN, 1.0f, b) == 0);
  const per_tensor_params<qu8> u(0.5f, 77);
  CHECK(quantize_fp32(kNaN, u.inv_scale(), u.bounds()) == 77);
  CHECK(quantize_fp32(0.25f, u.inv_scale(), u.bounds()) == 77);  // 0.5 -> even 0
  CHECK(quantize_fp32(0.75f, u.inv_scale(), u.bounds()) == 79);  // 1.5 -> 2
  CHECK(quantize_fp32(-kInf, u.inv_scale(), u.bounds()) == 0);
  CHECK(quantize_fp32(kInf, u.inv_scale(), u.bounds()) == 255);
  // A subnormal scale has an infinite reciprocal: everything saturates, 0 stays at the zero point.
  const per_tensor_params<qs8> tiny(std::numeric_limits<float>::denorm_min(), 5);
  CHECK(tiny.inv_scale() == kInf);
  CHECK(quantize_fp32(1e-40f, tiny.inv_scale(), tiny.bounds()) == 127);
  CHECK(quantize_fp32(-1e-40f, tiny.inv_scale(), tiny.bounds()) == -128);
  CHECK(quantize_fp32(0.0f, tiny.inv_scale(), tiny.bounds()) == 5);
  CHECK(quantize_fp32(-0.0f, tiny.inv_scale(), tiny.bounds()) == 5);
  // A huge scale: everything finite rounds to the zero point.
  const per_tensor_params<qs8> huge(std::numeric_limits<float>::max(), -3);
  CHECK(quantize_fp32(std::numeric_limits<float>::max(), huge.inv_scale(), huge.bounds()) == -2);
  CHECK(quantize_fp32(1e30f, huge.inv_scale(), huge.bounds()) == -3);
  CHECK(dequantize_fp32(-2, -3, std::numeric_limits<float>::max()) == std::numeric_limits<float>::max());
}

TEST_CASE("quantize/dequantize: SIMD equals the scalar twin bit for bit (qs8, qu8, qc8w, qd8)") {
  check_quantize_matches_scalar<qs8>(101);
  check_quantize_matches_scalar<qu8>(102);
  check_quantize_matches_scalar<qc8w>(103);
  check_quantize_matches_scalar<qd8>(104);
}

TEST_CASE("quantize: strided and rank-3 views equal the scalar twin; nothing outside the view is written") {
  auto rng = make_rng(110);
  const per_tensor_params<qs8> p(0.03125f, 3);
  for (index_t rows : {index_t{1}, index_t{3}, index_t{5}}) {
    for (index_t cols : {index_t{1}, index_t{7}, index_t{17}, index_t{33}, index_t{67}}) {
      for (index_t step : {index_t{1}, index_t{2}, index_t{3}}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(step);
        const index_t ld = cols * step + 5;
        std::vector<float> src = hard_floats(rng, static_cast<std::size_t>(rows * ld), 0.03125f);
        tensor_view<const float, 2> x(src.data() + 1, {rows, cols}, {ld, step});
        const index_t qld = cols * step + 3;
        guarded_buffer<std::int8_t> got(static_cast<std::size_t>(rows * qld)), want(static_cast<std::size_t>(rows * qld));
        quantize<test_arch>(x, tensor_view<std::int8_t, 2>(got.data(), {rows, cols}, {qld, step}), p);
        quantize<arch::scalar>(x, tensor_view<std::int8_t, 2>(want.data(), {rows, cols}, {qld, step}), p);
        REQUIRE(got.intact());
        REQUIRE(std::memcmp(got.data(), want.data(), static_cast<std::size_t>(rows * qld)) == 0);  // gaps untouched too
        for (index_t r = 0; r < rows; ++r)
          for (index_t c = 0; c < cols; ++c)
            REQUIRE(got.data()[r * qld + c * step] ==
                    static_cast<std::int8_t>(quantize_fp32(x(r, c), p.inv_scale(), p.bounds())));
        // dequantize through a transposed (non-unit inner stride) view
        std::vector<float> yg(static_cast<std::size_t>(rows * cols)), yw(yg.size());
        tensor_view<const std::int8_t, 2> qt(got.data(), {cols, rows}, {step, qld});
        dequantize<test_arch>(qt, tensor_view<float, 2>(yg.data(), {cols, rows}), p);
        dequantize<arch::scalar>(qt, tensor_view<float, 2>(yw.data(), {cols, rows}), p);
        REQUIRE(same_bits(yg.data(), yw.data(), yg.size()));
      }
    }
  }
  // rank 3, padded middle dimension
  std::vector<float> src = hard_floats(rng, 2 * 4 * 9, 0.5f);
  tensor_view<const float, 3> x3(src.data(), {2, 3, 7}, {36, 9, 1});
  std::vector<std::uint8_t> a(2 * 3 * 7), b(a.size());
  const per_tensor_params<qu8> pu(0.5f, 128);
  quantize<test_arch>(x3, tensor_view<std::uint8_t, 3>(a.data(), {2, 3, 7}), pu);
  quantize<arch::scalar>(x3, tensor_view<std::uint8_t, 3>(b.data(), {2, 3, 7}), pu);
  CHECK(a == b);
  CHECK(a[1 * 21 + 2 * 7 + 4] == static_cast<std::uint8_t>(quantize_fp32(src[36 + 18 + 4], pu.inv_scale(), pu.bounds())));
}

TEST_CASE("quantize/dequantize per channel: every axis, SIMD equals scalar, scales applied per channel") {
  auto rng = make_rng(120);
  for (index_t axis : {index_t{0}, index_t{1}, index_t{2}}) {
    for (index_t c : {index_t{1}, index_t{5}, index_t{19}, index_t{37}}) {
      extents_t<3> ext{3, 4, 6};
      ext[static_cast<std::size_t>(axis)] = c;
      std::vector<float> scales(static_cast<std::size_t>(c));
      for (index_t i = 0; i < c; ++i) scales[static_cast<std::size_t>(i)] = std::ldexp(1.0f, static_cast<int>(i % 7) - 6) * (i % 3 == 2 ? 0.3f : 1.0f);
      const per_channel_params<qc8w> p(scales, axis, c);
      const std::size_t n = static_cast<std::size_t>(element_count<3>(ext));
      std::vector<float> src = hard_floats(rng, n, 0.125f);
      guarded_buffer<std::int8_t> got(n), want(n);
      tensor_view<const float, 3> x(src.data(), ext);
      quantize<test_arch>(x, tensor_view<std::int8_t, 3>(got.data(), ext), p);
      quantize<arch::scalar>(x, tensor_view<std::int8_t, 3>(want.data(), ext), p);
      REQUIRE(got.intact());
      REQUIRE(std::memcmp(got.data(), want.data(), n) == 0);
      tensor_view<std::int8_t, 3> qv(got.data(), ext);
      for (index_t i0 = 0; i0 < ext[0]; ++i0)
        for (index_t i1 = 0; i1 < ext[1]; ++i1)
          for (index_t i2 = 0; i2 < ext[2]; ++i2) {
            const index_t idx[3] = {i0, i1, i2};
            const float inv = p.inv_scale(idx[axis]);
            REQUIRE(qv(i0, i1, i2) == quantize_fp32(x(i0, i1, i2), inv, p.bounds()));
          }
      std::vector<float> yg(n), yw(n);
      dequantize<test_arch>(tensor_view<const std::int8_t, 3>(got.data(), ext), tensor_view<float, 3>(yg.data(), ext), p);
      dequantize<arch::scalar>(tensor_view<const std::int8_t, 3>(got.data(), ext), tensor_view<float, 3>(yw.data(), ext), p);
      REQUIRE(same_bits(yg.data(), yw.data(), n));
      tensor_view<float, 3> yv(yg.data(), ext);
      CHECK(yv(ext[0] - 1, ext[1] - 1, ext[2] - 1) ==
            static_cast<float>(qv(ext[0] - 1, ext[1] - 1, ext[2] - 1)) * p.scale(ext[static_cast<std::size_t>(axis)] - 1));
    }
  }
}

TEST_CASE("quantize_dynamic_rows (qd8): SIMD equals scalar, per-row params, row sums, non-finite values") {
  auto rng = make_rng(130);
  for (index_t k = 0; k <= 67; ++k) {
    for (index_t m : {index_t{1}, index_t{3}}) {
      CAPTURE(k);
      CAPTURE(m);
      const index_t ld = k + 3;
      std::vector<float> src = hard_floats(rng, static_cast<std::size_t>(m * ld + 1), 0.01f);
      if (k % 5 == 0) for (float& v : src) v = std::fabs(v) <= 1e30f ? v : 0.5f;  // some rows all finite
      tensor_view<const float, 2> x(src.data() + 1, {m, k}, {ld, 1});
      guarded_buffer<std::int8_t> qg(static_cast<std::size_t>(m * k)), qw(static_cast<std::size_t>(m * k));
      std::vector<qd8_row_params> rg(static_cast<std::size_t>(m)), rw(rg.size());
      quantize_dynamic_rows<test_arch>(x, tensor_view<std::int8_t, 2>(qg.data(), {m, k}), vector_view<qd8_row_params>(rg.data(), {m}));
      quantize_dynamic_rows<arch::scalar>(x, tensor_view<std::int8_t, 2>(qw.data(), {m, k}), vector_view<qd8_row_params>(rw.data(), {m}));
      REQUIRE(qg.intact());
      REQUIRE(std::memcmp(qg.data(), qw.data(), static_cast<std::size_t>(m * k)) == 0);
      for (index_t r = 0; r < m; ++r) {
        const auto& g = rg[static_cast<std::size_t>(r)];
        const auto& w = rw[static_cast<std::size_t>(r)];
        REQUIRE(std::memcmp(&g.scale, &w.scale, sizeof(float)) == 0);
        REQUIRE(g.zero_point == w.zero_point);
        REQUIRE(g.row_sum == w.row_sum);
        float lo = 0, hi = 0;
        std::int32_t sum = 0;
        for (index_t c = 0; c < k; ++c) {
          const float v = x(r, c);
          if (std::isfinite(v)) { lo = std::min(lo, v); hi = std::max(hi, v); }
          sum += qg.data()[r * k + c];
        }
        const per_tensor_params<qd8> expect = asymmetric_params_from_range<qd8>(lo, hi);
        CHECK(g.scale == expect.scale());
        CHECK(g.zero_point == expect.zero_point());
        CHECK(g.row_sum == sum);
        for (index_t c = 0; c < k; ++c)
          REQUIRE(qg.data()[r * k + c] == quantize_fp32(x(r, c), expect.inv_scale(), expect.bounds()));
      }
    }
  }
  // a strided (column) view of the same data gives the same numbers as a copy of it
  std::vector<float> src = gaussian_floats(rng, 40 * 3);
  tensor_view<const float, 2> xt(src.data(), {3, 40}, {1, 3});
  std::vector<float> copy(3 * 40);
  for (index_t r = 0; r < 3; ++r) for (index_t c = 0; c < 40; ++c) copy[static_cast<std::size_t>(r * 40 + c)] = xt(r, c);
  std::vector<std::int8_t> qa(120), qb(120);
  std::vector<qd8_row_params> ra(3), rb(3);
  quantize_dynamic_rows<test_arch>(xt, tensor_view<std::int8_t, 2>(qa.data(), {3, 40}), vector_view<qd8_row_params>(ra.data(), {3}));
  quantize_dynamic_rows<arch::scalar>(tensor_view<const float, 2>(copy.data(), {3, 40}), tensor_view<std::int8_t, 2>(qb.data(), {3, 40}),
                                      vector_view<qd8_row_params>(rb.data(), {3}));
  CHECK(qa == qb);
  CHECK(ra[2].row_sum == rb[2].row_sum);
  CHECK(ra[2].zero_point == rb[2].zero_point);
}

TEST_CASE("quantize: zero-sized views are a no-op") {
  const per_tensor_params<qs8> p(1.0f, 0);
  float x = 1.0f;
  std::int8_t q = 42;
  quantize<test_arch>(tensor_view<const float, 2>(&x, {0, 5}), tensor_view<std::int8_t, 2>(&q, {0, 5}), p);
  quantize<test_arch>(tensor_view<const float, 2>(&x, {4, 0}), tensor_view<std::int8_t, 2>(&q, {4, 0}), p);
  CHECK(q == 42);
}
