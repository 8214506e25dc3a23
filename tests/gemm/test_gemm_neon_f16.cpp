// fp16 x fp16 GEMM micro-kernel of neon_dotprod (fp16 arithmetic, fp32 block sums) through the
// blocking driver: the shared shape sweep, K slices, threads, bias and clamp, guarded outputs,
// within the bound documented in gemm/neon/f16_8x24_dotprod.hpp. Other backends: skipped.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gemm/gemm_test_util.hpp"
#include "lightq/gemm/detail/half_bits.hpp"
#include "lightq/gemm/driver.hpp"
#include "lightq/gemm/neon/f16_8x24_dotprod.hpp"
#include "lightq/gemm/packing.hpp"

#if defined(LIGHTQ_HAS_NEON_DOTPROD)

namespace lt = lightq::test;
using lightq::index_t;

namespace {

using kernel = lightq::gemm_kernel<lightq::arch::neon_dotprod, lightq::gemm_dtype::f16, lightq::gemm_dtype::f16>;

std::vector<std::uint16_t> to_half_bits(const std::vector<float>& v) {
  std::vector<std::uint16_t> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) h[i] = lightq::detail::float_to_half_bits(v[i]);
  return h;
}

void check_f16_case(const lt::gemm_shape& s, std::uint64_t salt, lightq::context* ctx = nullptr) {
  CAPTURE(s.to_string());
  CAPTURE(salt);
  auto rng = lt::make_rng(salt);
  const index_t m = s.m, n = s.n, k = s.k;
  lt::test_matrix<std::uint16_t> x(m, k, s.strided);
  x.fill(to_half_bits(lt::random_floats(rng, static_cast<std::size_t>(m * k))));
  lt::test_matrix<std::uint16_t> w(n, k, s.strided, s.strided && salt % 2);
  w.fill(to_half_bits(lt::random_floats(rng, static_cast<std::size_t>(n * k))));
  const std::vector<float> bias = lt::random_floats(rng, static_cast<std::size_t>(n));
  const bool with_bias = salt % 3 != 0;
  const bool relu = salt % 4 == 1;

  // Pack as the public ops do: A by the driver's packer, W by pack_panels (zero padding).
  const index_t k_padded = lightq::detail::round_up(k, kernel::kr);
  std::vector<std::uint16_t> a(static_cast<std::size_t>(lightq::detail::divide_round_up(m, kernel::mr) *
                                                         kernel::a_layout::panel_size(k_padded)));
  lightq::detail::pack_activations<kernel>(x.cview(), k_padded, [](std::uint16_t v, index_t) { return v; }, a.data());
  std::vector<std::uint16_t> wp(static_cast<std::size_t>(lightq::detail::divide_round_up(n, kernel::nr) *
                                                          kernel::w_layout::panel_size(k_padded)));
  const auto wv = w.cview();
  lightq::detail::pack_panels<kernel, kernel::w_layout>(
      n, k, k_padded, [&](index_t j, index_t kk) { return wv(j, kk); }, wp.data());

  lt::guarded_matrix<float> y(m, n, s.strided);
  lightq::detail::gemm_job<kernel> job;
  job.m = m;
  job.n = n;
  job.k_padded = k_padded;
  job.a = a.data();
  job.w = wp.data();
  job.out.kind = lightq::gemm_output_kind::float32;
  job.out.data = y.buffer.data();
  job.out.row_stride = y.ld;
  job.out.bias_f32 = with_bias ? bias.data() : nullptr;
  if (relu) job.out.min = 0.0f;
  lightq::context local;
  lightq::detail::run_gemm_job(job, ctx ? *ctx : local);
  REQUIRE(y.buffer.intact());

  const double u16 = std::ldexp(1.0, -11), eps32 = std::numeric_limits<float>::epsilon();
  const double blocks = std::ceil(double(k) / double(lightq::detail::neon_gemm::f16_block_k));
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      double ref = 0.0, mag = 0.0;
      for (index_t kk = 0; kk < k; ++kk) {
        const double p = double(lightq::detail::half_bits_to_float(x.view(i, kk))) *
                         double(lightq::detail::half_bits_to_float(w.view(j, kk)));
        ref += p;
        mag += std::abs(p);
      }
      if (with_bias) ref += bias[std::size_t(j)];
      if (relu) ref = std::max(ref, 0.0);
      const double bound = (16.0 * u16 + blocks * eps32) * mag + std::ldexp(double(k), -25) + eps32 * std::abs(ref);
      const double err = std::abs(double(y.at(i, j)) - ref);
      if (!(err <= bound)) {
        CAPTURE(i);
        CAPTURE(j);
        CAPTURE(ref);
        CAPTURE(bound);
        REQUIRE(err <= bound);
      }
    }
}

}  // namespace

TEST_CASE("gemm f16 x f16 (neon_dotprod fp16 arithmetic): shape sweep within the documented bound") {
  MESSAGE("backend neon_dotprod runs " << std::string(kernel::name) << " (fp16 x fp16, kernel-level)");
  std::uint64_t salt = 0;
  for (const auto& s : lt::gemm_shapes(kernel::mr, kernel::nr, kernel::kr)) check_f16_case(s, ++salt);
}

TEST_CASE("gemm f16 x f16: K slices and threads") {
  lightq::context two(2);
  std::uint64_t salt = 1000;
  for (const lt::gemm_shape& s : {lt::gemm_shape{9, 49, 3 * kernel::kc_block + 7, false},
                                  lt::gemm_shape{17, 25, kernel::kc_block + 1, true}}) {
    check_f16_case(s, ++salt);
    check_f16_case(s, salt, &two);
  }
}

TEST_CASE("gemm f16 x f16: the fp16 accumulation is really bounded per block") {
  // 4096 terms of 1 * 1: an fp16 accumulator alone would stop at 2048 (1 ulp = 2 there); the
  // 16-term blocks summed in fp32 give 4096 exactly.
  const index_t k = 4096;
  const std::vector<std::uint16_t> ones(static_cast<std::size_t>(k), lightq::detail::float_to_half_bits(1.0f));
  lt::test_matrix<std::uint16_t> x(1, k, false), w(1, k, false);
  x.fill(ones);
  w.fill(ones);
  std::vector<std::uint16_t> a(static_cast<std::size_t>(kernel::a_layout::panel_size(k)));
  lightq::detail::pack_activations<kernel>(x.cview(), k, [](std::uint16_t v, index_t) { return v; }, a.data());
  std::vector<std::uint16_t> wp(static_cast<std::size_t>(kernel::w_layout::panel_size(k)));
  const auto wv = w.cview();
  lightq::detail::pack_panels<kernel, kernel::w_layout>(1, k, k, [&](index_t j, index_t kk) { return wv(j, kk); }, wp.data());
  float y = -1.0f;
  lightq::detail::gemm_job<kernel> job;
  job.m = 1;
  job.n = 1;
  job.k_padded = k;
  job.a = a.data();
  job.w = wp.data();
  job.out.kind = lightq::gemm_output_kind::float32;
  job.out.data = &y;
  job.out.row_stride = 1;
  lightq::context ctx;
  lightq::detail::run_gemm_job(job, ctx);
  CHECK(y == 4096.0f);
}

#endif  // LIGHTQ_HAS_NEON_DOTPROD
