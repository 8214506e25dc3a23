// Conan test_package program: an int8 linear layer (packed weights, exact int32 output) and the
// requantization contract through the installed lightq package (and so xsimd's headers).
#include <cstdint>
#include <cstdio>

#include <lightq/gemm/gemm.hpp>
#include <lightq/lightq.hpp>

int main() {
  using lightq::index_t;
  lightq::tensor<std::int8_t, 2> x(lightq::extents_t<2>{2, 4});        // activations [M, K]
  lightq::tensor<std::int8_t, 2> w(lightq::extents_t<2>{3, 4});        // weights [N, K]
  lightq::tensor<float, 1> w_scales(lightq::extents_t<1>{3}, 0.02f);
  lightq::tensor<std::int32_t, 1> bias(lightq::extents_t<1>{3}, 10);
  lightq::tensor<std::int32_t, 2> y(lightq::extents_t<2>{2, 3}, 0);
  for (index_t k = 0; k < 4; ++k) {
    for (index_t m = 0; m < 2; ++m) x(m, k) = static_cast<std::int8_t>(10 * m + k - 5);
    for (index_t n = 0; n < 3; ++n) w(n, k) = static_cast<std::int8_t>(n - k);
  }
  const auto packed = lightq::pack_weights(w.cview(), w_scales.cview());
  lightq::linear(x.cview(), /*x_zero_point=*/0, packed, bias.cview(), y.view());

  std::int32_t sum = 0;
  const auto bounds = lightq::make_requantize_bounds(3, -128, 127);
  for (index_t m = 0; m < 2; ++m)
    for (index_t n = 0; n < 3; ++n) sum += lightq::requantize_fp32(y(m, n), 0.5f, bounds);
  std::printf("lightq %s (xsimd %d.%d), default_arch %s, linear + requantize sum %d\n", lightq::version_string,
              XSIMD_VERSION_MAJOR, XSIMD_VERSION_MINOR, lightq::default_arch::name, static_cast<int>(sum));
  if (sum != 24) return 1;
  std::printf("lightq consumer OK\n");
  return 0;
}
