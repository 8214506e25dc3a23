// doctest entry point: names the backend under test and skips (exit 77) where the CPU lacks it.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "lightq/core/cpu_features.hpp"
#include "test_common.hpp"

int main(int argc, char** argv) {
  using lightq::test::test_arch;
  if (std::strcmp(test_arch::name, LIGHTQ_TEST_EXPECTED_ARCH) != 0) {
    std::printf("lightq tests: built for backend %s but the flags select %s\n", LIGHTQ_TEST_EXPECTED_ARCH,
                test_arch::name);
    return 1;
  }
  if (!lightq::cpu_supports<test_arch>()) {
    std::printf("lightq tests: SKIPPED %s on backend %s: this CPU cannot run it (best here: %s)\n",
                LIGHTQ_TEST_MODULE, test_arch::name, lightq::best_cpu_arch_name());
    return 77;
  }
  std::printf("lightq tests: %s on backend %s (seed %llu)\n", LIGHTQ_TEST_MODULE, test_arch::name,
              static_cast<unsigned long long>(lightq::test::base_seed()));
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  const int result = context.run();
  if (!context.shouldExit())
    std::printf("lightq tests: %s on backend %s %s\n", LIGHTQ_TEST_MODULE, test_arch::name,
                result == 0 ? "PASSED" : "FAILED");
  return result;
}
