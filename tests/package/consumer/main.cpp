// Package-test consumer: a program a user writes against an installed/fetched lightq. It uses
// the tensor types, the requantization contract (scalar twin and an xsimd register, so xsimd's
// headers must be reachable) and the backend query, and prints one line the tests look for.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <lightq/lightq.hpp>
#include <lightq/quant/requantize.hpp>

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
  if (mismatches != 0 || checksum != 93) {
    std::printf("lightq consumer FAILED: %d mismatches, checksum %ld\n", mismatches, checksum);
    return 1;
  }
  std::printf("lightq consumer OK\n");
  return 0;
}
