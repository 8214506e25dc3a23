// int8 GEMM at the edges of exactness: extreme activations and weights (the worst int16 pair
// sums of the NEON smull/smlal2 kernel, the -128 shift of uint8 activations), K up to the exact
// bound, every row count a kernel dispatches on. Raw int32 outputs against int64 arithmetic;
// runs on every backend (it is cheap) though it was written for the NEON kernels.
#include <cstdint>
#include <vector>

#include "gemm/gemm_test_util.hpp"

namespace lt = lightq::test;
using lightq::index_t;

namespace {

using backend = lt::test_arch;

/// x[M, K] and w[N, K] filled by `x_at(i, k)` and `w_at(j, k)`; checks y = sum_k (x - zx) * w.
template <class X, class XAt, class WAt>
void check_raw_int32(index_t m, index_t n, index_t k, std::int32_t zx, XAt&& x_at, WAt&& w_at) {
  CAPTURE(m);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(zx);
  lt::test_matrix<X> x(m, k, false);
  for (index_t i = 0; i < m; ++i)
    for (index_t kk = 0; kk < k; ++kk) x.view(i, kk) = x_at(i, kk);
  lt::test_matrix<std::int8_t> w(n, k, false);
  for (index_t j = 0; j < n; ++j)
    for (index_t kk = 0; kk < k; ++kk) w.view(j, kk) = w_at(j, kk);
  const std::vector<float> scales(static_cast<std::size_t>(n), 0.01f);
  const auto packed = lightq::pack_weights<backend>(w.cview(), lightq::vector_view<const float>(scales.data(), {n}));
  lt::guarded_matrix<std::int32_t> y(m, n, false);
  lightq::linear(x.cview(), zx, packed, lightq::vector_view<const std::int32_t>(), y.view());
  REQUIRE(y.buffer.intact());
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      const std::int64_t expected = lt::naive_dot<X>(x.cview(), i, zx, w.cview(), j);
      REQUIRE(expected == static_cast<std::int32_t>(expected));
      if (y.at(i, j) != expected) {
        CAPTURE(i);
        CAPTURE(j);
        REQUIRE(y.at(i, j) == expected);
      }
    }
}

// Every row count up to two register tiles (the kernels dispatch on it; M = 1 is the GEMV).
std::vector<index_t> row_counts() {
  using K = lightq::gemm_kernel_for<backend, lightq::qs8, lightq::qc8w>;
  std::vector<index_t> ms;
  for (index_t m = 1; m <= K::mr + 1; ++m) ms.push_back(m);
  ms.push_back(2 * K::mr + 1);
  return ms;
}

}  // namespace

TEST_CASE("gemm q8 extremes: largest products in every pair, deep K over several K blocks") {
  using K = lightq::gemm_kernel_for<backend, lightq::qs8, lightq::qc8w>;
  const index_t k = 2 * K::kc_block + 3;  // M > MR: three K slices, partial accumulation resumes twice
  const index_t n = 2 * K::nr + 1;
  for (index_t m : row_counts()) {
    // qs8: -128 * -127 in every product, 2 * 16256 = 32512 in every int16 pair (the bound).
    check_raw_int32<std::int8_t>(m, n, k, 0, [](index_t, index_t) { return std::int8_t(-128); },
                                 [](index_t, index_t) { return std::int8_t(-127); });
    // qs8 with a zero point: (-128 - 127) * 127 per term.
    check_raw_int32<std::int8_t>(m, n, k, 127, [](index_t, index_t) { return std::int8_t(-128); },
                                 [](index_t, index_t) { return std::int8_t(127); });
    // qu8: 0 becomes -128 in the kernel, 255 becomes 127; the zero point follows the shift.
    check_raw_int32<std::uint8_t>(m, n, k, 0, [](index_t, index_t) { return std::uint8_t(0); },
                                  [](index_t, index_t) { return std::int8_t(-127); });
    check_raw_int32<std::uint8_t>(m, n, k, 255, [](index_t i, index_t kk) { return std::uint8_t((i + kk) % 3 ? 0 : 255); },
                                  [](index_t j, index_t kk) { return std::int8_t((j + kk) % 2 ? 127 : -127); });
  }
}

TEST_CASE("gemm q8 extremes: random extreme values") {
  using K = lightq::gemm_kernel_for<backend, lightq::qs8, lightq::qc8w>;
  auto rng = lt::make_rng(4242);
  const index_t k = K::kc_block + 2 * K::kr + 1;
  const index_t n = K::nr + 3;
  for (index_t m : row_counts()) {
    const auto xs = lt::random_ints<int>(rng, static_cast<std::size_t>(m * k), 0, 1);
    const auto ws = lt::random_ints<int>(rng, static_cast<std::size_t>(n * k), 0, 2);
    auto w_at = [&](index_t j, index_t kk) {
      const int v = ws[static_cast<std::size_t>(j * k + kk)];
      return std::int8_t(v == 0 ? -127 : v == 1 ? 127 : 0);
    };
    check_raw_int32<std::int8_t>(
        m, n, k, -3, [&](index_t i, index_t kk) { return std::int8_t(xs[static_cast<std::size_t>(i * k + kk)] ? 127 : -128); },
        w_at);
    check_raw_int32<std::uint8_t>(
        m, n, k, 200, [&](index_t i, index_t kk) { return std::uint8_t(xs[static_cast<std::size_t>(i * k + kk)] ? 255 : 0); },
        w_at);
  }
}

TEST_CASE("gemm q8 extremes: K at the exact int32 bound") {
  // 255 * 127 * 66311 = 2147481735 <= 2^31 - 1: the largest accepted K with the largest terms.
  const index_t k = lightq::gemm_max_exact_k;
  for (index_t m : {index_t{1}, index_t{3}}) {
    check_raw_int32<std::uint8_t>(m, 5, k, 0, [](index_t, index_t) { return std::uint8_t(255); },
                                  [](index_t, index_t) { return std::int8_t(127); });
    check_raw_int32<std::int8_t>(m, 5, k, 127, [](index_t, index_t) { return std::int8_t(-128); },
                                 [](index_t, index_t) { return std::int8_t(127); });
  }
}
