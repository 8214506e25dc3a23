// Conan test_package program: uses lightq's tensor and requantization headers (and so xsimd).
#include <cstdint>
#include <cstdio>

#include <lightq/lightq.hpp>
#include <lightq/quant/requantize.hpp>

int main() {
  lightq::tensor<std::int32_t, 2> acc({2, 3}, 0);
  for (lightq::index_t i = 0; i < 2; ++i)
    for (lightq::index_t j = 0; j < 3; ++j) acc(i, j) = static_cast<std::int32_t>(100 * i - 70 * j);
  const auto bounds = lightq::make_requantize_bounds(3, -128, 127);
  std::int32_t sum = 0;
  for (lightq::index_t i = 0; i < 2; ++i)
    for (lightq::index_t j = 0; j < 3; ++j) sum += lightq::requantize_fp32(acc(i, j), 0.5f, bounds);
  std::printf("lightq %s (xsimd %d.%d), default_arch %s, requantized sum %d\n", lightq::version_string,
              XSIMD_VERSION_MAJOR, XSIMD_VERSION_MINOR, lightq::default_arch::name, static_cast<int>(sum));
  if (sum != -42) return 1;
  std::printf("lightq consumer OK\n");
  return 0;
}
