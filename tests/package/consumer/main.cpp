// Package-test consumer: a program a user writes against an installed/fetched lightq. It runs
// an int8 linear layer (packed qc8w weights, exact int32 output) and an fp32 GEMM on the
// default backend and checks them against naive loops, runs the requantization contract (scalar
// twin and an xsimd register, so xsimd's headers must be reachable), queries the backend, and
// prints one line the tests look for.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <lightq/gemm/gemm.hpp>
#include <lightq/lightq.hpp>
#include <lightq/quant/requantize.hpp>

namespace {

// int8 linear layer y[M, N] = sum_k (x[m, k] - zx) * w[n, k] + bias[n] (exact int32), and fp32
// c = a * b; returns the number of wrong outputs.
int check_gemm() {
  using lightq::index_t;
  constexpr index_t M = 5, N = 19, K = 37;
  constexpr std::int32_t zx = 3;
  lightq::tensor<std::int8_t, 2> x(lightq::extents_t<2>{M, K});
  lightq::tensor<std::int8_t, 2> w(lightq::extents_t<2>{N, K});
  lightq::tensor<float, 1> w_scales(lightq::extents_t<1>{N});
  lightq::tensor<std::int32_t, 1> bias(lightq::extents_t<1>{N});
  lightq::tensor<std::int32_t, 2> y(lightq::extents_t<2>{M, N}, 0);
  for (index_t m = 0; m < M; ++m)
    for (index_t k = 0; k < K; ++k) x(m, k) = static_cast<std::int8_t>((m * 31 + k * 7) % 255 - 127);
  for (index_t n = 0; n < N; ++n) {
    for (index_t k = 0; k < K; ++k) w(n, k) = static_cast<std::int8_t>((n * 13 + k * 5) % 255 - 127);
    w_scales(n) = 0.01f * static_cast<float>(n + 1);
    bias(n) = static_cast<std::int32_t>(100 * n - 900);
  }
  const auto packed = lightq::pack_weights(w.cview(), w_scales.cview());
  lightq::linear(x.cview(), zx, packed, bias.cview(), y.view());

  int wrong = 0;
  for (index_t m = 0; m < M; ++m) {
    for (index_t n = 0; n < N; ++n) {
      std::int32_t ref = bias(n);
      for (index_t k = 0; k < K; ++k) ref += (x(m, k) - zx) * w(n, k);
      wrong += y(m, n) != ref;
    }
  }

  lightq::tensor<float, 2> a(lightq::extents_t<2>{M, K});
  lightq::tensor<float, 2> b(lightq::extents_t<2>{K, N});
  lightq::tensor<float, 2> c(lightq::extents_t<2>{M, N}, 0.0f);
  for (index_t m = 0; m < M; ++m)
    for (index_t k = 0; k < K; ++k) a(m, k) = 0.25f * static_cast<float>((m + 2 * k) % 9) - 1.0f;
  for (index_t k = 0; k < K; ++k)
    for (index_t n = 0; n < N; ++n) b(k, n) = 0.5f * static_cast<float>((3 * k + n) % 7) - 1.5f;
  lightq::gemm(a.cview(), b.cview(), c.view());
  for (index_t m = 0; m < M; ++m) {
    for (index_t n = 0; n < N; ++n) {
      float ref = 0.0f;
      for (index_t k = 0; k < K; ++k) ref += a(m, k) * b(k, n);
      wrong += std::fabs(c(m, n) - ref) > 1e-4f * (1.0f + std::fabs(ref));
    }
  }
  return wrong;
}

}  // namespace

int main(int argc, char** argv) {
  // int32 accumulators of a 4 x 8 output tile, viewed through a strided sub-view.
  lightq::tensor<std::int32_t, 2> acc(lightq::extents_t<2>{4, 8}, 0);
  for (lightq::index_t i = 0; i < 4; ++i)
    for (lightq::index_t j = 0; j < 8; ++j) acc(i, j) = static_cast<std::int32_t>(97 * i - 41 * j);
  lightq::tensor_view<const std::int32_t, 2> tile = acc.cview().subview({1, 0}, {2, 8});

  // Requantize to int8 (zero point 5, clamp [-128, 127]) with the scalar twin and with one
  // xsimd register of the default xsimd arch: the two must agree lane by lane.
  const auto bounds = lightq::make_requantize_bounds(5, -128, 127);
  const float multiplier = 0.37f;
  using int_batch = xsimd::batch<std::int32_t>;
  using float_batch = xsimd::batch<float>;
  long checksum = 0;
  int mismatches = 0;
  const lightq::index_t lanes = static_cast<lightq::index_t>(int_batch::size);
  for (lightq::index_t i = 0; i < tile.extents()[0]; ++i) {
    lightq::index_t j = 0;
    for (; j + lanes <= tile.extents()[1]; j += lanes) {
      alignas(64) std::int32_t in[int_batch::size];
      alignas(64) std::int32_t out[int_batch::size];
      for (lightq::index_t k = 0; k < lanes; ++k) in[k] = tile(i, j + k);
      lightq::requantize_fp32(int_batch::load_aligned(in), float_batch(multiplier), bounds).store_aligned(out);
      for (lightq::index_t k = 0; k < lanes; ++k) {
        const std::int32_t ref = lightq::requantize_fp32(in[k], multiplier, bounds);
        mismatches += ref != out[k];
        checksum += ref;
      }
    }
    for (; j < tile.extents()[1]; ++j) checksum += lightq::requantize_fp32(tile(i, j), multiplier, bounds);
  }

  std::printf("lightq %s (xsimd %d.%d.%d): default_arch=%s best_cpu_arch=%s checksum=%ld\n",
              lightq::version_string, XSIMD_VERSION_MAJOR, XSIMD_VERSION_MINOR, XSIMD_VERSION_PATCH,
              lightq::default_arch::name, lightq::best_cpu_arch_name(), checksum);
  const int gemm_wrong = check_gemm();
  std::printf("gemm on %s: %d wrong outputs\n", lightq::default_arch::name, gemm_wrong);
  if (argc > 1 && std::strcmp(argv[1], lightq::default_arch::name) != 0) {
    std::printf("expected default_arch=%s\n", argv[1]);
    return 1;
  }
  char macro_version[32];
  std::snprintf(macro_version, sizeof macro_version, "%d.%d.%d", LIGHTQ_VERSION_MAJOR, LIGHTQ_VERSION_MINOR,
                LIGHTQ_VERSION_PATCH);
  if (std::strcmp(macro_version, lightq::version_string) != 0) {
    std::printf("lightq consumer FAILED: version macros say %s, version_string %s\n", macro_version,
                lightq::version_string);
    return 1;
  }
  if (mismatches != 0 || checksum != 93 || gemm_wrong != 0) {
    std::printf("lightq consumer FAILED: %d mismatches, checksum %ld\n", mismatches, checksum);
    return 1;
  }
  std::printf("lightq consumer OK\n");
  return 0;
}
