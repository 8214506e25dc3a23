// The usage example shown in README.md (compiled and run by the tests).
#include <lightq/lightq.hpp>
#include <cstdio>

int main() {
  lightq::tensor<std::int32_t, 2> acc({2, 4});                  // int32 accumulators of a layer
  for (int i = 0; i < 8; ++i) acc.data()[i] = 1000 * i - 3000;
  const auto bounds = lightq::make_requantize_bounds(/*zero_point=*/-5, -128, 127);
  lightq::tensor<std::int8_t, 2> out({2, 4});
  for (int i = 0; i < 8; ++i)                                     // int32 -> int8, half-to-even
    out.data()[i] = static_cast<std::int8_t>(lightq::requantize_fp32(acc.data()[i], 0.01f, bounds));
  std::printf("backend %s: out(1,3) = %d\n", lightq::default_arch::name, out(1, 3));
  return out(1, 3) == 35 ? 0 : 1;
}
