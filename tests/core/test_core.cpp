// Tests of the core layer: arch tags and selection, CPU feature query, errors, aligned storage.
#include "test_common.hpp"

#include "lightq/core/aligned.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/cpu_features.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/xsimd_compat.hpp"
#include "lightq/version.hpp"

#include <set>
#include <string>

using namespace lightq;

TEST_CASE("arch tags: capability inheritance and selection") {
  static_assert(arch_has_v<arch::avx512_vnni, arch::avx2>);
  static_assert(arch_has_v<arch::avx2, arch::scalar>);
  static_assert(!arch_has_v<arch::avx2, arch::avx512_vnni>);
  static_assert(arch_has_v<arch::neon_dotprod, arch::neon>);
  static_assert(!arch_has_v<arch::neon, arch::avx2>);
  static_assert(is_x86_arch_v<arch::avx512_vnni> && !is_x86_arch_v<arch::neon>);
  static_assert(is_arm_arch_v<arch::neon_dotprod> && !is_arm_arch_v<arch::scalar>);
  static_assert(arch_compiled_v<arch::scalar>);
  static_assert(arch_compiled_v<default_arch>);
  std::set<std::string> names;
  int count = 0;
  for_each_compiled_arch([&](auto a) {
    names.insert(decltype(a)::name);
    ++count;
  });
  CHECK(count == static_cast<int>(names.size()));
  CHECK(names.count("scalar") == 1);
  CHECK(names.count(default_arch::name) == 1);
}

TEST_CASE("cpu features: the backend under test is supported, the query is consistent") {
  const cpu_features& f = cpu_features::host();
  CHECK(cpu_supports<test::test_arch>());  // main() skips otherwise
  CHECK(cpu_supports<arch::scalar>());
  if (cpu_supports<arch::avx512_vnni>()) CHECK(cpu_supports<arch::avx2>());
  if (cpu_supports<arch::neon_dotprod>()) CHECK(cpu_supports<arch::neon>());
  CHECK_FALSE((cpu_supports<arch::avx2>() && cpu_supports<arch::neon>()));
  if (f.avx512_vnni) CHECK(f.avx512f);
  const std::string best = best_cpu_arch_name();
  CHECK_FALSE(best.empty());
  INFO("best backend on this CPU: " << best);
}

template <class Arch>
void check_float_batch() {
#if defined(LIGHTQ_XSIMD_AVAILABLE)
  if constexpr (!std::is_void_v<detail::xsimd_arch_t<Arch>>) {
    using batch = detail::float_batch<Arch>;
    alignas(64) float in[batch::size];
    float expected = 0.0f;
    for (std::size_t i = 0; i < batch::size; ++i) {
      in[i] = static_cast<float>(i) + 0.5f;
      expected += in[i];
    }
    const batch b = batch::load_aligned(in);
    CHECK(detail::reduce_add(b) == doctest::Approx(expected));
    CHECK(detail::reduce_max(b) == in[batch::size - 1]);
    const auto bits = detail::bitcast<std::int32_t>(b);
    alignas(64) std::int32_t out[batch::size];
    bits.store_aligned(out);
    std::int32_t first;
    std::memcpy(&first, &in[0], 4);
    CHECK(out[0] == first);
  } else {
    CHECK(std::string(Arch::name) == "scalar");
  }
#else
  CHECK(std::string(Arch::name) == "scalar");
#endif
}

TEST_CASE("xsimd glue: float batch of the backend under test") { check_float_batch<test::test_arch>(); }

TEST_CASE("errors: lightq::error is an invalid_argument naming where and what") {
  CHECK_THROWS_AS(fail("gemm", "K = ", 5), std::invalid_argument);
  CHECK_THROWS_WITH_AS(fail("gemm", "K = ", 5, " exceeds ", 3.5f), "gemm: K = 5 exceeds 3.5", lightq::error);
  CHECK_NOTHROW(check(true, "op", "never"));
  CHECK_THROWS_WITH_AS(check(false, "op", "bad ", "thing"), "op: bad thing", lightq::error);
  CHECK_NOTHROW(check_scale(0.5f, "quantize", "scale"));
  CHECK_THROWS_WITH_AS(check_scale(0.0f, "quantize", "scale"), doctest::Contains("scale must be finite and > 0"),
                       lightq::error);
  CHECK_THROWS_AS(check_scale(-1.0f, "quantize", "scale"), lightq::error);
  CHECK_THROWS_AS(check_scale(std::numeric_limits<float>::infinity(), "quantize", "scale"), lightq::error);
  CHECK_THROWS_AS(check_scale(std::numeric_limits<float>::quiet_NaN(), "quantize", "scale"), lightq::error);
  CHECK_NOTHROW(check_range(-128, -128, 127, "quantize", "zero_point"));
  CHECK_THROWS_WITH_AS(check_range(128, -128, 127, "quantize", "zero_point"),
                       "quantize: zero_point = 128 is outside [-128, 127]", lightq::error);
  CHECK_THROWS_WITH_AS(check_equal(3, 4, "gemm", "x.extent(1)", "w.extent(1)"),
                       "gemm: x.extent(1) (3) must equal w.extent(1) (4)", lightq::error);
  int buf[8];
  CHECK_THROWS_AS(check_no_alias(buf, 16, buf + 3, 16, "op", "out", "in"), lightq::error);
  CHECK_NOTHROW(check_no_alias(buf, 16, buf + 4, 16, "op", "out", "in"));
  CHECK_NOTHROW(check_no_alias(buf, 0, buf, 16, "op", "out", "in"));
}

TEST_CASE("aligned storage: buffers of huge_page_threshold bytes and more are 2 MiB aligned") {
  aligned_buffer<std::int8_t> big(lightq::huge_page_threshold);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % lightq::huge_page_size == 0);
  big[big.size() - 1] = 1;  // the whole range is usable
  aligned_buffer<std::int8_t> small(lightq::huge_page_threshold - 1);
  CHECK(reinterpret_cast<std::uintptr_t>(small.data()) % 64 == 0);
}

TEST_CASE("aligned storage: 64-byte alignment, copy and move") {
  aligned_buffer<float> a(37);
  CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  aligned_buffer<float> b = a;
  CHECK(b.data() != a.data());
  CHECK(b[36] == 36.0f);
  aligned_buffer<float> c = std::move(a);
  CHECK(c[5] == 5.0f);
  CHECK(a.empty());
  aligned_buffer<std::int8_t> empty;
  CHECK(empty.data() == nullptr);
}

TEST_CASE("version is consistent") {
  CHECK(std::string(version_string) == std::to_string(LIGHTQ_VERSION_MAJOR) + "." +
                                           std::to_string(LIGHTQ_VERSION_MINOR) + "." +
                                           std::to_string(LIGHTQ_VERSION_PATCH));
}
