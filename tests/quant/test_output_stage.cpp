// Tests of the output stages: requantize (int32 -> int8/uint8, bias, per-channel multipliers, fused
// activations) and dequantize-with-bias equal their scalar twins bit for bit; bounds by hand.
#include "quant_test_data.hpp"

#include <limits>

#include "lightq/quant/output_stage.hpp"

using namespace lightq;
using namespace lightq::test;

namespace {

/// Accumulators with every hard case: ties after a power-of-two multiplier, int32 extremes, values
/// that land at and beyond the clamp limits, random values of GEMM size.
std::vector<std::int32_t> hard_accumulators(std::mt19937_64& rng, std::size_t n) {
  const std::int32_t special[] = {0, 1, -1, 2, -2, 3, -3, 255, 256, 257, -255, -256, -257, 254, 510, -510,
                                  std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::int32_t>::min(),
                                  16777217, -16777217, 1 << 30, -(1 << 30)};
  std::uniform_int_distribution<int> pick(0, 5);
  std::uniform_int_distribution<std::size_t> sp(0, sizeof(special) / sizeof(special[0]) - 1);
  std::uniform_int_distribution<std::int32_t> small(-1024, 1024);
  std::uniform_int_distribution<std::int32_t> big(-(1 << 24), 1 << 24);
  std::uniform_int_distribution<std::int32_t> any(std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
  std::vector<std::int32_t> v(n);
  for (auto& x : v) {
    switch (pick(rng)) {
      case 0: x = special[sp(rng)]; break;
      case 1: x = small(rng) * 2 + 1; break;  // odd: ties for multiplier 0.5
      case 2: x = any(rng); break;
      case 3: x = big(rng); break;
      default: x = small(rng); break;
    }
  }
  return v;
}

std::vector<float> multiplier_set() {
  return {0.5f, 0.25f, 1.0f / 3.0f, 0.0123f, 1.0f, 3.0f, 1e-10f, std::numeric_limits<float>::denorm_min(), 1e30f,
          std::numeric_limits<float>::max()};
}

template <class Out>
void check_requantize(std::uint64_t salt) {
  auto rng = make_rng(salt);
  const std::vector<float> mset = multiplier_set();
  constexpr std::int32_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
  const requantize_bounds bounds_set[] = {make_requantize_bounds(0, lo, hi), make_requantize_bounds(lo + 7, lo, hi),
                                          make_requantize_bounds(hi, lo, hi), make_requantize_bounds(lo + 10, lo + 10, hi - 20)};
  for (index_t rows : {index_t{1}, index_t{3}}) {
    for (index_t c = 0; c <= 67; ++c) {
      for (int variant = 0; variant < 4; ++variant) {
        CAPTURE(rows);
        CAPTURE(c);
        CAPTURE(variant);
        const bool per_channel = variant & 1, with_bias = variant & 2;
        const bool strided = (c % 3) == 1;
        const index_t ld = strided ? c + 5 : c;
        const std::size_t n_acc = static_cast<std::size_t>(rows * ld + 1);
        std::vector<std::int32_t> accs = hard_accumulators(rng, n_acc);
        std::vector<float> mults(per_channel ? static_cast<std::size_t>(c) : 1);
        std::uniform_int_distribution<std::size_t> mpick(0, mset.size() - 1);
        for (auto& m : mults) m = mset[mpick(rng)];
        std::vector<std::int32_t> bias = with_bias ? hard_accumulators(rng, static_cast<std::size_t>(c)) : std::vector<std::int32_t>{};
        const requantize_bounds b = bounds_set[static_cast<std::size_t>(c + variant) % 4];
        tensor_view<const std::int32_t, 2> acc(accs.data() + 1, {rows, c}, {ld, 1});
        const std::size_t n_out = static_cast<std::size_t>(rows * c);
        guarded_buffer<Out> got(n_out), want(n_out);
        vector_view<const float> mv(mults.data(), {static_cast<index_t>(mults.size())});
        vector_view<const std::int32_t> bv(bias.data(), {static_cast<index_t>(bias.size())});
        requantize<test_arch>(acc, tensor_view<Out, 2>(got.data(), {rows, c}), mv, b, bv);
        requantize<arch::scalar>(acc, tensor_view<Out, 2>(want.data(), {rows, c}), mv, b, bv);
        REQUIRE(got.intact());
        REQUIRE(std::memcmp(got.data(), want.data(), n_out) == 0);
        for (index_t r = 0; r < rows; ++r)
          for (index_t j = 0; j < c; ++j) {
            const std::int32_t e = requantize_fp32(acc(r, j), with_bias ? bias[static_cast<std::size_t>(j)] : 0,
                                                   mults[per_channel ? static_cast<std::size_t>(j) : 0], b);
            REQUIRE(static_cast<std::int32_t>(got.data()[r * c + j]) == e);
          }
        // dequantize-with-bias through the same views (float bias, float scales)
        std::vector<float> fbias(static_cast<std::size_t>(c));
        for (std::size_t j = 0; j < fbias.size(); ++j) fbias[j] = static_cast<float>(bias.empty() ? 0 : bias[j]) * 1e-3f;
        vector_view<const float> fbv(fbias.data(), {with_bias ? c : 0});
        guarded_buffer<float> yg(n_out), yw(n_out);
        dequantize_with_bias<test_arch>(acc, tensor_view<float, 2>(yg.data(), {rows, c}), mv, fbv);
        dequantize_with_bias<arch::scalar>(acc, tensor_view<float, 2>(yw.data(), {rows, c}), mv, fbv);
        REQUIRE(yg.intact());
        REQUIRE(same_bits(yg.data(), yw.data(), n_out));
      }
    }
  }
}

}  // namespace

TEST_CASE("requantize: rules by hand (ties to even, clamp, zero point, bias wraps, huge multipliers)") {
  const requantize_bounds b = make_requantize_bounds(10, -128, 127);
  CHECK(requantize_fp32(1, 0.5f, b) == 10);    // 0.5 -> 0
  CHECK(requantize_fp32(3, 0.5f, b) == 12);    // 1.5 -> 2
  CHECK(requantize_fp32(5, 0.5f, b) == 12);    // 2.5 -> 2
  CHECK(requantize_fp32(-5, 0.5f, b) == 8);    // -2.5 -> -2
  CHECK(requantize_fp32(1000, 1.0f, b) == 127);
  CHECK(requantize_fp32(-1000, 1.0f, b) == -128);
  CHECK(requantize_fp32(1, std::numeric_limits<float>::max(), b) == 127);
  CHECK(requantize_fp32(std::numeric_limits<std::int32_t>::min(), std::numeric_limits<float>::max(), b) == -128);
  CHECK(requantize_fp32(0, std::numeric_limits<float>::max(), b) == 10);
  CHECK(requantize_fp32(std::numeric_limits<std::int32_t>::max(), 1, 1.0f, b) == -128);  // wraps to INT32_MIN
  CHECK(add_wrapping(std::numeric_limits<std::int32_t>::max(), 1) == std::numeric_limits<std::int32_t>::min());
  CHECK(dequantize_bias_fp32(3, 0.5f, 0.25f) == 1.75f);
  // fused: 16777217 * (1 + 2^-23) + (-16777219) is exact only with a single rounding
  const float s = 1.0f + std::ldexp(1.0f, -23);
  CHECK(dequantize_bias_fp32(16777216, s, -16777216.0f) == std::fma(16777216.0f, s, -16777216.0f));
  CHECK(dequantize_bias_fp32(16777216, s, -16777216.0f) == 2.0f);
}

TEST_CASE("output_bounds: ReLU, ReLU6 and min-max clamps become quantized bounds") {
  const per_tensor_params<qu8> out(0.05f, 20);
  const requantize_bounds none = output_bounds(out);
  CHECK(none.zero_point == 20);
  CHECK(none.min_less_zero_point == -20.0f);
  CHECK(none.max_less_zero_point == 235.0f);
  const requantize_bounds relu = output_bounds(out, activation::relu);
  CHECK(relu.min_less_zero_point == 0.0f);
  CHECK(relu.max_less_zero_point == 235.0f);
  const requantize_bounds relu6 = output_bounds(out, activation::relu6);
  CHECK(relu6.min_less_zero_point == 0.0f);
  CHECK(relu6.max_less_zero_point == 120.0f);  // 6 / 0.05 = 120
  const requantize_bounds mm = output_bounds(out, -0.5f, 1.0f);
  CHECK(mm.min_less_zero_point == -10.0f);
  CHECK(mm.max_less_zero_point == 20.0f);
  const per_tensor_params<qs8> big(1.0f, -100);
  CHECK(output_bounds(big, activation::relu6).max_less_zero_point == 6.0f);
  CHECK(output_bounds(big, -1e30f, 1e30f).max_less_zero_point == 227.0f);  // saturates into the range
  CHECK_THROWS_WITH_AS(output_bounds(out, 1.0f, -1.0f), doctest::Contains("min"), lightq::error);
  CHECK_THROWS_WITH_AS(output_bounds(out, std::numeric_limits<float>::quiet_NaN(), 1.0f), doctest::Contains("min"), lightq::error);
}

TEST_CASE("requantize / dequantize_with_bias: SIMD equals the scalar twin bit for bit (int8, uint8)") {
  check_requantize<std::int8_t>(201);
  check_requantize<std::uint8_t>(202);
}

TEST_CASE("requantize: rank 3 contiguous per-tensor (one flat row) and per-channel agree with the twin") {
  auto rng = make_rng(210);
  std::vector<std::int32_t> accs = hard_accumulators(rng, 2 * 5 * 19);
  tensor_view<const std::int32_t, 3> acc(accs.data(), {2, 5, 19});
  std::vector<std::int8_t> a(accs.size()), b(accs.size());
  const float m = 0.007f;
  const requantize_bounds bounds = make_requantize_bounds(-3, -128, 127);
  requantize<test_arch>(acc, tensor_view<std::int8_t, 3>(a.data(), {2, 5, 19}), vector_view<const float>(&m, {1}), bounds);
  requantize<arch::scalar>(acc, tensor_view<std::int8_t, 3>(b.data(), {2, 5, 19}), vector_view<const float>(&m, {1}), bounds);
  CHECK(a == b);
  CHECK(a[77] == requantize_fp32(accs[77], m, bounds));
  std::vector<float> y1(accs.size()), y2(accs.size());
  dequantize_with_bias<test_arch>(acc, tensor_view<float, 3>(y1.data(), {2, 5, 19}), vector_view<const float>(&m, {1}));
  dequantize_with_bias<arch::scalar>(acc, tensor_view<float, 3>(y2.data(), {2, 5, 19}), vector_view<const float>(&m, {1}));
  CHECK(same_bits(y1.data(), y2.data(), y1.size()));
}

#if LIGHTQ_QUANT_XSIMD
namespace {
template <class Arch>
void check_register_blocks() {
  if constexpr (detail::is_simd_arch_v<Arch>) {
    using A = detail::xsimd_arch_t<Arch>;
    using fb = xsimd::batch<float, A>;
    using ib = xsimd::batch<std::int32_t, A>;
    constexpr std::size_t L = fb::size;
    auto rng = make_rng(220);
    for (int iter = 0; iter < 200; ++iter) {
      std::vector<std::int32_t> acc = hard_accumulators(rng, L), bias = hard_accumulators(rng, L);
      std::vector<float> x = hard_floats(rng, L, 0.125f), s(L);
      for (auto& v : s) v = multiplier_set()[static_cast<std::size_t>(rng() % 10)];
      const requantize_bounds b = make_requantize_bounds(static_cast<std::int32_t>(rng() % 200) - 100, -128, 127);
      alignas(64) std::int32_t r1[L], r2[L], r3[L];
      alignas(64) float f1[L];
      alignas(64) std::int8_t o1[L];
      requantize_fp32(ib::load_unaligned(acc.data()), ib::load_unaligned(bias.data()), fb::load_unaligned(s.data()), b)
          .store_aligned(r1);
      quantize_fp32(fb::load_unaligned(x.data()), fb::load_unaligned(s.data()), b).store_aligned(r2);
      dequantize_bias_fp32(ib::load_unaligned(acc.data()), fb::load_unaligned(s.data()), fb::load_unaligned(x.data()))
          .store_aligned(f1);
      requantize_store(o1, ib::load_unaligned(acc.data()), fb::load_unaligned(s.data()), b);
      detail::load_widen<A>(o1).store_aligned(r3);
      for (std::size_t i = 0; i < L; ++i) {
        REQUIRE(r1[i] == requantize_fp32(acc[i], bias[i], s[i], b));
        REQUIRE(r2[i] == quantize_fp32(x[i], s[i], b));
        const float e = dequantize_bias_fp32(acc[i], s[i], x[i]);
        REQUIRE(std::memcmp(&f1[i], &e, sizeof(float)) == 0);
        REQUIRE(r3[i] == requantize_fp32(acc[i], s[i], b));
      }
    }
  }
}
}  // namespace

TEST_CASE("one-register blocks equal the scalar twins lane by lane") { check_register_blocks<test_arch>(); }
#endif

TEST_CASE("output stages: bad arguments name the argument") {
  std::vector<std::int32_t> accs(6);
  std::vector<std::int8_t> out(6);
  tensor_view<const std::int32_t, 2> acc(accs.data(), {2, 3});
  tensor_view<std::int8_t, 2> o(out.data(), {2, 3});
  const std::vector<float> two = {1.0f, 2.0f}, bad = {1.0f, -1.0f, 1.0f}, three = {1.0f, 1.0f, 1.0f};
  const std::vector<std::int32_t> bias2 = {1, 2};
  const requantize_bounds ok = make_requantize_bounds(0, -128, 127);
  auto fv = [](const std::vector<float>& v) { return vector_view<const float>(v.data(), {static_cast<index_t>(v.size())}); };
  CHECK_THROWS_WITH_AS(requantize(acc, o, fv(two), ok), doctest::Contains("multipliers"), lightq::error);
  CHECK_THROWS_WITH_AS(requantize(acc, o, fv(bad), ok), doctest::Contains("multipliers[1]"), lightq::error);
  CHECK_THROWS_WITH_AS(requantize(acc, o, fv(three), ok, vector_view<const std::int32_t>(bias2.data(), {2})),
                       doctest::Contains("bias"), lightq::error);
  CHECK_THROWS_WITH_AS(requantize(acc, o, fv(three), make_requantize_bounds(0, 0, 255)), doctest::Contains("bounds"), lightq::error);
  CHECK_THROWS_WITH_AS(requantize(acc, o, fv(three), make_requantize_bounds(200, -128, 127)),
                       doctest::Contains("bounds.zero_point"), lightq::error);
  std::vector<std::uint8_t> uo(6);
  CHECK_THROWS_WITH_AS(requantize(acc, tensor_view<std::uint8_t, 2>(uo.data(), {2, 3}), fv(three), make_requantize_bounds(0, -1, 255)),
                       doctest::Contains("bounds"), lightq::error);
  CHECK_THROWS_WITH_AS(requantize(acc, tensor_view<std::int8_t, 2>(out.data(), {3, 2}), fv(three), ok), doctest::Contains("out extents"),
                       lightq::error);
  std::vector<float> y(6);
  CHECK_THROWS_WITH_AS(dequantize_with_bias(acc, tensor_view<float, 2>(y.data(), {2, 3}), fv(bad)), doctest::Contains("scales[1]"),
                       lightq::error);
  CHECK_THROWS_WITH_AS(dequantize_with_bias(acc, tensor_view<float, 2>(y.data(), {2, 3}), fv(three), fv(two)), doctest::Contains("bias"),
                       lightq::error);
  // aliasing: out over the accumulators
  CHECK_THROWS_WITH_AS(dequantize_with_bias(acc, tensor_view<float, 2>(reinterpret_cast<float*>(accs.data()), {2, 3}), fv(three)),
                       doctest::Contains("out"), lightq::error);
}
