// Shared data for the quant tests: hard-case floats and accumulators, and bit-level comparisons.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "test_common.hpp"

namespace lightq {
namespace test {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Bit-for-bit equality of two float arrays (NaN payloads and the sign of zero included).
inline bool same_bits(const float* a, const float* b, std::size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0;
}

/// Floats that exercise every rule for a given scale: ties at k + 0.5 steps, values at and just
/// beyond the clamp limits, NaN, +-Inf, subnormals, +-0, float extremes, and random values.
inline std::vector<float> hard_floats(std::mt19937_64& rng, std::size_t n, float scale) {
  const float lim = std::numeric_limits<float>::max();
  const float special[] = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                           1e-40f, -1e-40f, std::numeric_limits<float>::min(), lim, -lim, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f,
                           -2.5f};
  std::uniform_int_distribution<int> pick(0, 9);
  std::uniform_int_distribution<int> step(-300, 300);
  std::uniform_int_distribution<std::size_t> sp(0, sizeof(special) / sizeof(special[0]) - 1);
  std::normal_distribution<float> gauss(0.0f, 60.0f);
  std::vector<float> v(n);
  for (auto& x : v) {
    switch (pick(rng)) {
      case 0: x = special[sp(rng)]; break;
      case 1: x = (static_cast<float>(step(rng)) + 0.5f) * scale; break;  // ties (exact for power-of-two scales)
      case 2: x = static_cast<float>(step(rng)) * scale; break;
      case 3: x = (127.5f + static_cast<float>(step(rng) % 3)) * scale; break;  // at / beyond qmax
      case 4: x = (-128.5f - static_cast<float>(step(rng) % 3)) * scale; break;
      case 5: x = std::nextafter((static_cast<float>(step(rng)) + 0.5f) * scale, lim); break;
      default: x = gauss(rng) * scale; break;
    }
  }
  return v;
}

/// The scales the bit-exactness tests sweep: powers of two (exact ties), ordinary values, and the
/// float extremes (a subnormal scale has an infinite reciprocal).
inline std::vector<float> test_scales() {
  return {1.0f, 0.0625f, 0.1f, 3.7e-3f, 0.75f, 1e-30f, std::numeric_limits<float>::min(),
          std::numeric_limits<float>::denorm_min(), 1e30f, std::numeric_limits<float>::max()};
}

}  // namespace test
}  // namespace lightq
