// Tests of lightq::half and lightq::bfloat16: exhaustive narrow -> float, every rounding boundary
// of float -> narrow, Inf/NaN/zero rules, and random bit patterns against a reference computed
// differently (value arithmetic in double with ldexp / nearbyint instead of integer bit tricks).
#include "test_common.hpp"

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "lightq/core/half.hpp"

using namespace lightq;

namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// ---- Independent references (value arithmetic in double; no shared code with half.hpp) ----

// The value of a binary16 / bfloat16 pattern from its fields, as a double (exact).
// `mantissa_bits` 10 / 7, `bias` 15 / 127. NaN -> quiet NaN float with the payload on top.
float ref_narrow_to_float(std::uint16_t h, int mantissa_bits, int exponent_bits) {
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int max_exponent_field = (1 << exponent_bits) - 1;
  const bool negative = (h >> 15) != 0;
  const int e = (h >> mantissa_bits) & max_exponent_field;
  const int m = h & ((1 << mantissa_bits) - 1);
  if (e == max_exponent_field) {
    if (m == 0) return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    // NaN: sign, payload in the top mantissa bits, quiet bit (bit 22) set.
    const std::uint32_t payload = static_cast<std::uint32_t>(m) << (23 - mantissa_bits);
    return float_of((negative ? 0x80000000u : 0u) | 0x7F800000u | 0x00400000u | payload);
  }
  double v;
  if (e == 0)
    v = std::ldexp(double(m), 1 - bias - mantissa_bits);  // subnormal: m * 2^(1-bias-mbits)
  else
    v = std::ldexp(double((1 << mantissa_bits) + m), e - bias - mantissa_bits);
  return static_cast<float>(negative ? -v : v);  // exact: every narrow value is a float
}

// float -> narrow by value: find the binade, scale to an integer count of ulps with ldexp,
// round that with nearbyint (round half to even in the default mode), re-encode the rounded
// value from its fields. NaN: sign | all-ones exponent | quiet bit | top payload bits.
std::uint16_t ref_float_to_narrow(float f, int mantissa_bits, int exponent_bits) {
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int max_exponent_field = (1 << exponent_bits) - 1;
  const std::uint32_t sign = std::signbit(f) ? 0x8000u : 0u;
  const std::uint32_t inf = static_cast<std::uint32_t>(max_exponent_field) << mantissa_bits;
  if (std::isnan(f)) {
    const std::uint32_t payload = (bits_of(f) & 0x007FFFFFu) >> (23 - mantissa_bits);
    return static_cast<std::uint16_t>(sign | inf | (1u << (mantissa_bits - 1)) | payload);
  }
  const double a = std::fabs(double(f));
  if (std::isinf(a)) return static_cast<std::uint16_t>(sign | inf);
  if (a == 0.0) return static_cast<std::uint16_t>(sign);
  const int min_normal_exponent = 1 - bias;
  const int e = std::max(std::ilogb(a), min_normal_exponent);
  const int ulp_exponent = e - mantissa_bits;
  const double q = std::nearbyint(std::ldexp(a, -ulp_exponent));  // exact scale, RNE
  const double r = std::ldexp(q, ulp_exponent);
  if (r >= std::ldexp(1.0, bias + 1)) return static_cast<std::uint16_t>(sign | inf);  // overflow
  if (r < std::ldexp(1.0, min_normal_exponent))
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::ldexp(r, mantissa_bits - min_normal_exponent)));
  const int re = std::ilogb(r);
  const auto mant = static_cast<std::uint32_t>(std::ldexp(r, mantissa_bits - re) - std::ldexp(1.0, mantissa_bits));
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(re + bias) << mantissa_bits) | mant);
}

float ref_half_to_float(std::uint16_t h) { return ref_narrow_to_float(h, 10, 5); }
float ref_bf16_to_float(std::uint16_t b) { return ref_narrow_to_float(b, 7, 8); }
std::uint16_t ref_float_to_half(float f) { return ref_float_to_narrow(f, 10, 5); }
std::uint16_t ref_float_to_bf16(float f) { return ref_float_to_narrow(f, 7, 8); }

// Random float bit patterns: uniform over all 2^32 patterns, plus a share drawn from the
// interesting exponent ranges (half's normal/subnormal range, bf16 subnormals, NaNs).
std::uint32_t random_float_bits(std::mt19937_64& rng) {
  const std::uint64_t r = rng();
  const auto low = static_cast<std::uint32_t>(r);
  switch ((r >> 32) & 7u) {
    case 0: {  // |x| in [2^-26, 2^17): half's whole range and a bit around it
      const std::uint32_t e = 101u + static_cast<std::uint32_t>((r >> 40) % 43u);
      return (low & 0x807FFFFFu) | (e << 23);
    }
    case 1:  // float subnormals and tiny normals (bf16 subnormal range)
      return low & 0x80FFFFFFu;
    case 2:  // NaNs and Infs
      return low | 0x7F800000u;
    case 3:  // near a rounding boundary for both formats: low 13 bits close to the half-way point
      return (low & 0xFFFFE000u) | ((r >> 40) & 1u ? 0x1000u : 0x0FFFu) | ((r >> 41) & 1u ? 0x8000u : 0u);
    default:
      return low;
  }
}

#if defined(__aarch64__)
constexpr std::size_t kRandomSamples = std::size_t{1} << 20;  // qemu is slow
#else
constexpr std::size_t kRandomSamples = std::size_t{1} << 22;
#endif

}  // namespace

TEST_CASE("half: type properties") {
  static_assert(sizeof(half) == 2 && sizeof(bfloat16) == 2);
  static_assert(std::is_trivially_copyable_v<half> && std::is_trivially_copyable_v<bfloat16>);
  static_assert(half::from_bits(0x3C00).bits() == 0x3C00);
  static_assert(bfloat16::from_bits(0x3F80).bits() == 0x3F80);
  static_assert(!std::is_convertible_v<float, half>, "float -> half must be explicit");
  static_assert(!std::is_convertible_v<half, float>, "half -> float must be explicit");
  static_assert(!std::is_convertible_v<float, bfloat16> && !std::is_convertible_v<bfloat16, float>);
  CHECK(float(half(1.0f)) == 1.0f);
  CHECK(half(1.0f).bits() == 0x3C00);
  CHECK(half(-2.0f).bits() == 0xC000);
  CHECK(half(0.5f).to_float() == 0.5f);
  CHECK(bfloat16(1.0f).bits() == 0x3F80);
  CHECK(float(bfloat16(-2.0f)) == -2.0f);
  CHECK((-half(1.0f)).bits() == 0xBC00);
  CHECK((-bfloat16(0.0f)).bits() == 0x8000);
}

TEST_CASE("half: half -> float is exact on all 65,536 inputs") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float got = half_to_float(h);
    const float want = ref_half_to_float(h);
    INFO("half bits ", hex(i), " got ", hex(bits_of(got)), " want ", hex(bits_of(want)));
    REQUIRE(bits_of(got) == bits_of(want));
    REQUIRE(bits_of(float(half::from_bits(h))) == bits_of(want));
  }
  // Spot values with their known float bit patterns.
  CHECK(bits_of(half_to_float(0x0001)) == 0x33800000u);  // 2^-24
  CHECK(bits_of(half_to_float(0x03FF)) == 0x387FC000u);  // largest subnormal
  CHECK(bits_of(half_to_float(0x0400)) == 0x38800000u);  // 2^-14
  CHECK(half_to_float(0x7BFF) == 65504.0f);
  CHECK(bits_of(half_to_float(0x8000)) == 0x80000000u);
  CHECK(bits_of(half_to_float(0x7C00)) == 0x7F800000u);
  CHECK(bits_of(half_to_float(0xFC00)) == 0xFF800000u);
  CHECK(bits_of(half_to_float(0x7E00)) == 0x7FC00000u);  // quiet NaN stays quiet
  CHECK(bits_of(half_to_float(0x7D00)) == 0x7FE00000u);  // signalling NaN is quieted, payload kept
  CHECK(bits_of(half_to_float(0xFC01)) == 0xFFC02000u);  // sign and low payload bit kept
}

TEST_CASE("half: bf16 -> float is exact on all 65,536 inputs") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto b = static_cast<std::uint16_t>(i);
    const float got = bfloat16_to_float(b);
    const float want = ref_bf16_to_float(b);
    INFO("bf16 bits ", hex(i), " got ", hex(bits_of(got)), " want ", hex(bits_of(want)));
    REQUIRE(bits_of(got) == bits_of(want));
    REQUIRE(bits_of(float(bfloat16::from_bits(b))) == bits_of(want));
    // Non-NaN values are the top half of the float; NaNs differ only in the quiet bit.
    if (!std::isnan(got)) REQUIRE(bits_of(got) == (i << 16));
  }
  CHECK(bits_of(bfloat16_to_float(0x7FA0)) == 0x7FE00000u);  // sNaN quieted
  CHECK(bits_of(bfloat16_to_float(0xFF81)) == 0xFFC10000u);
}

TEST_CASE("half: narrow -> float -> narrow round-trips every non-NaN pattern, NaNs come back quiet") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    INFO("bits ", hex(i));
    if ((i & 0x7FFFu) > 0x7C00u)
      REQUIRE(float_to_half_bits(half_to_float(h)) == (i | 0x0200u));
    else
      REQUIRE(float_to_half_bits(half_to_float(h)) == h);
    if ((i & 0x7FFFu) > 0x7F80u)
      REQUIRE(float_to_bfloat16_bits(bfloat16_to_float(h)) == (i | 0x0040u));
    else
      REQUIRE(float_to_bfloat16_bits(bfloat16_to_float(h)) == h);
  }
}

TEST_CASE("half: float -> half at every midpoint between adjacent halves (ties to even)") {
  // For each pair of adjacent finite halves k, k+1 (and 0x7BFF with the overflow threshold),
  // the exact midpoint is a float; it rounds to the even pattern, and one float ulp either side
  // rounds to the nearer neighbour. Covers subnormal ties, the subnormal/normal edge, every
  // binade edge and the overflow threshold 65520.
  for (std::uint32_t k = 0; k < 0x7C00u; ++k) {
    const double lo = ref_half_to_float(static_cast<std::uint16_t>(k));
    const double hi = k == 0x7BFFu ? 65536.0 : double(ref_half_to_float(static_cast<std::uint16_t>(k + 1)));
    const auto mid = static_cast<float>((lo + hi) / 2);
    REQUIRE(double(mid) == (lo + hi) / 2);  // exact in float
    const std::uint32_t even = (k & 1u) ? k + 1 : k;
    INFO("k = ", hex(k), " midpoint ", mid);
    for (float sign : {1.0f, -1.0f}) {
      const std::uint32_t s = sign < 0 ? 0x8000u : 0u;
      REQUIRE(float_to_half_bits(sign * mid) == (s | even));
      REQUIRE(float_to_half_bits(sign * std::nextafter(mid, 0.0f)) == (s | k));
      REQUIRE(float_to_half_bits(sign * std::nextafter(mid, std::numeric_limits<float>::infinity())) == (s | (k + 1)));
      REQUIRE(float_to_half_bits(sign * float(lo)) == (s | k));
    }
  }
}

TEST_CASE("half: float -> half boundary values") {
  struct row {
    float in;
    std::uint16_t out;
    const char* what;
  };
  const float inf = std::numeric_limits<float>::infinity();
  const row rows[] = {
      {0.0f, 0x0000, "+0"},
      {-0.0f, 0x8000, "-0 keeps its sign"},
      {1.0f, 0x3C00, "one"},
      {65504.0f, 0x7BFF, "largest normal"},
      {-65504.0f, 0xFBFF, "lowest"},
      {65519.0f, 0x7BFF, "below the overflow threshold"},
      {std::nextafter(65520.0f, 0.0f), 0x7BFF, "65519.996 does not overflow"},
      {65520.0f, 0x7C00, "65520 is a tie that rounds to even = Inf"},
      {-65520.0f, 0xFC00, "-65520 -> -Inf"},
      {65536.0f, 0x7C00, "2^16"},
      {std::numeric_limits<float>::max(), 0x7C00, "FLT_MAX"},
      {inf, 0x7C00, "+Inf"},
      {-inf, 0xFC00, "-Inf"},
      {std::ldexp(1.0f, -14), 0x0400, "smallest normal"},
      {std::ldexp(1.0f, -24), 0x0001, "smallest subnormal"},
      {-std::ldexp(1.0f, -24), 0x8001, "-smallest subnormal"},
      {std::ldexp(1.0f, -25), 0x0000, "half the smallest subnormal: tie to even 0"},
      {-std::ldexp(1.0f, -25), 0x8000, "-2^-25 -> -0"},
      {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001, "just above 2^-25"},
      {std::ldexp(3.0f, -25), 0x0002, "1.5 ulp subnormal tie -> even 2"},
      {std::ldexp(5.0f, -25), 0x0002, "2.5 ulp subnormal tie -> even 2"},
      {std::ldexp(2047.0f, -25), 0x0400, "1023.5 ulp: tie at the subnormal/normal edge -> 0x400"},
      {std::ldexp(1.0f, -26), 0x0000, "2^-26"},
      {std::numeric_limits<float>::denorm_min(), 0x0000, "float denorm_min"},
      {-std::numeric_limits<float>::denorm_min(), 0x8000, "-float denorm_min"},
      {1.0f + std::ldexp(1.0f, -11), 0x3C00, "tie, even below"},
      {1.0f + std::ldexp(3.0f, -11), 0x3C02, "tie, even above"},
      {2049.0f, 0x6800, "2049 -> 2048 (even)"},
      {2051.0f, 0x6802, "2051 -> 2052 (even)"},
      {0.1f, 0x2E66, "0.1"},
      {3.14159265f, 0x4248, "pi"},
  };
  for (const row& r : rows) {
    INFO(std::string(r.what), ": in ", hex(bits_of(r.in)));
    CHECK(float_to_half_bits(r.in) == r.out);
    CHECK(half(r.in).bits() == r.out);
    CHECK(ref_float_to_half(r.in) == r.out);  // the reference agrees with the table too
  }
}

TEST_CASE("half: float -> half NaNs stay NaN, quiet, sign and top payload kept") {
  const struct {
    std::uint32_t in;
    std::uint16_t out;
  } rows[] = {
      {0x7FC00000u, 0x7E00}, {0xFFC00000u, 0xFE00},  // default quiet NaNs
      {0x7F800001u, 0x7E00},                         // sNaN whose payload is all dropped: not Inf
      {0xFF800001u, 0xFE00}, {0x7FA00000u, 0x7F00},  // sNaN, payload bit 21 -> half bit 8
      {0x7FFFFFFFu, 0x7FFF}, {0xFFFFE000u, 0xFFFF}, {0x7F802000u, 0x7E01}, {0x7F801FFFu, 0x7E00},
  };
  for (const auto& r : rows) {
    INFO("in ", hex(r.in));
    CHECK(float_to_half_bits(float_of(r.in)) == r.out);
    CHECK(ref_float_to_half(float_of(r.in)) == r.out);
    CHECK(isnan(half::from_bits(float_to_half_bits(float_of(r.in)))));
  }
}

TEST_CASE("half: float -> bf16 boundary values, ties, subnormals, NaN") {
  const struct {
    std::uint32_t in;
    std::uint16_t out;
    const char* what;
  } rows[] = {
      {0x00000000u, 0x0000, "+0"},
      {0x80000000u, 0x8000, "-0"},
      {0x3F800000u, 0x3F80, "one"},
      {0x3F808000u, 0x3F80, "tie, even below"},
      {0x3F818000u, 0x3F82, "tie, even above"},
      {0x3F808001u, 0x3F81, "just above a tie"},
      {0x3F807FFFu, 0x3F80, "just below a tie"},
      {0xBF818000u, 0xBF82, "negative tie"},
      {0x7F7F0000u, 0x7F7F, "largest bf16"},
      {0x7F7F7FFFu, 0x7F7F, "below the overflow threshold"},
      {0x7F7F8000u, 0x7F80, "overflow threshold: tie, odd below -> Inf"},
      {0x7F7FFFFFu, 0x7F80, "FLT_MAX -> Inf"},
      {0xFF7FFFFFu, 0xFF80, "-FLT_MAX -> -Inf"},
      {0x7F800000u, 0x7F80, "+Inf"},
      {0xFF800000u, 0xFF80, "-Inf"},
      {0x00000001u, 0x0000, "float denorm_min -> 0"},
      {0x00008000u, 0x0000, "subnormal tie to even 0"},
      {0x00008001u, 0x0001, "just above"},
      {0x00018000u, 0x0002, "subnormal tie, odd below -> 2"},
      {0x00010000u, 0x0001, "smallest bf16 subnormal"},
      {0x007F8000u, 0x0080, "largest subnormal tie -> smallest normal"},
      {0x80018000u, 0x8002, "negative subnormal tie"},
      {0x7FC00000u, 0x7FC0, "quiet NaN"},
      {0xFFC00000u, 0xFFC0, "negative quiet NaN"},
      {0x7F800001u, 0x7FC0, "sNaN with its payload all dropped: quiet NaN, not Inf"},
      {0x7F810000u, 0x7FC1, "sNaN payload kept, quieted"},
      {0xFFFFFFFFu, 0xFFFF, "all ones"},
      {0x7FBFFFFFu, 0x7FFF, "sNaN with full payload: quiet, not rounded up into the sign"},
  };
  for (const auto& r : rows) {
    INFO(std::string(r.what), ": in ", hex(r.in));
    CHECK(float_to_bfloat16_bits(float_of(r.in)) == r.out);
    CHECK(bfloat16(float_of(r.in)).bits() == r.out);
    CHECK(ref_float_to_bf16(float_of(r.in)) == r.out);
  }
}

TEST_CASE("half: float -> bf16 at every midpoint between adjacent finite bf16 values") {
  for (std::uint32_t k = 0; k < 0x7F80u; ++k) {
    const double lo = ref_bf16_to_float(static_cast<std::uint16_t>(k));
    const double hi = k == 0x7F7Fu ? std::ldexp(1.0, 128) : double(ref_bf16_to_float(static_cast<std::uint16_t>(k + 1)));
    const double mid_exact = (lo + hi) / 2;
    if (k == 0x7F7Fu) {
      // The midpoint (2 - 2^-8) * 2^127 is a float: it rounds to even = Inf.
      CHECK(float_to_bfloat16_bits(static_cast<float>(mid_exact)) == 0x7F80u);
      CHECK(float_to_bfloat16_bits(std::nextafter(static_cast<float>(mid_exact), 0.0f)) == 0x7F7Fu);
      continue;
    }
    const auto mid = static_cast<float>(mid_exact);
    REQUIRE(double(mid) == mid_exact);
    const std::uint32_t even = (k & 1u) ? k + 1 : k;
    INFO("k = ", hex(k));
    for (float sign : {1.0f, -1.0f}) {
      const std::uint32_t s = sign < 0 ? 0x8000u : 0u;
      REQUIRE(float_to_bfloat16_bits(sign * mid) == (s | even));
      REQUIRE(float_to_bfloat16_bits(sign * std::nextafter(mid, 0.0f)) == (s | k));
      REQUIRE(float_to_bfloat16_bits(sign * std::nextafter(mid, std::numeric_limits<float>::infinity())) == (s | (k + 1)));
    }
  }
}

TEST_CASE("half: float -> half and float -> bf16 on random bit patterns match the value-based reference") {
  REQUIRE(std::fegetround() == FE_TONEAREST);  // the reference's nearbyint relies on it
  auto rng = test::make_rng(0x4841u);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < kRandomSamples; ++i) {
    const std::uint32_t x = random_float_bits(rng);
    const float f = float_of(x);
    const std::uint16_t h = float_to_half_bits(f);
    const std::uint16_t b = float_to_bfloat16_bits(f);
    if (h != ref_float_to_half(f) || b != ref_float_to_bf16(f)) {
      if (++mismatches <= 10) {
        INFO("input ", hex(x), " half ", hex(h), " want ", hex(ref_float_to_half(f)), " bf16 ", hex(b),
             " want ", hex(ref_float_to_bf16(f)), " (seed ", test::base_seed(), ")");
        CHECK(false);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("half: float -> half on every float (exhaustive, 2^32 inputs; run with --no-skip)" * doctest::skip()) {
  std::size_t mismatches = 0;
  std::uint32_t x = 0;
  do {
    const float f = float_of(x);
    if (float_to_half_bits(f) != ref_float_to_half(f) || float_to_bfloat16_bits(f) != ref_float_to_bf16(f)) {
      if (++mismatches <= 10) {
        INFO("input ", hex(x));
        CHECK(false);
      }
    }
  } while (++x != 0);
  CHECK(mismatches == 0);
}

TEST_CASE("half: classification, comparison, limits") {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = half::from_bits(static_cast<std::uint16_t>(i));
    const auto b = bfloat16::from_bits(static_cast<std::uint16_t>(i));
    const float hf = float(h), bf = float(b);
    INFO("bits ", hex(i));
    REQUIRE(isnan(h) == std::isnan(hf));
    REQUIRE(isinf(h) == std::isinf(hf));
    REQUIRE(isfinite(h) == std::isfinite(hf));
    REQUIRE(signbit(h) == std::signbit(hf));
    REQUIRE(isnan(b) == std::isnan(bf));
    REQUIRE(isinf(b) == std::isinf(bf));
    REQUIRE(isfinite(b) == std::isfinite(bf));
    REQUIRE(signbit(b) == std::signbit(bf));
    REQUIRE(bits_of(float(abs(h))) == (bits_of(hf) & 0x7FFFFFFFu));
    REQUIRE(bits_of(float(-b)) == (bits_of(bf) ^ 0x80000000u));
  }
  const half nan = std::numeric_limits<half>::quiet_NaN();
  CHECK_FALSE(nan == nan);
  CHECK(nan != nan);
  CHECK(bitwise_equal(nan, nan));
  CHECK(half(0.0f) == half(-0.0f));
  CHECK_FALSE(bitwise_equal(half(0.0f), half(-0.0f)));
  CHECK(half(1.0f) < half(2.0f));
  CHECK(half(-1.0f) <= half(-1.0f));
  CHECK(bfloat16(3.0f) > bfloat16(-3.0f));
  CHECK(bfloat16(3.0f) >= bfloat16(3.0f));
  CHECK_FALSE(nan < half(1.0f));
  CHECK_FALSE(nan >= half(1.0f));

  using hl = std::numeric_limits<half>;
  CHECK(float(hl::max()) == 65504.0f);
  CHECK(float(hl::lowest()) == -65504.0f);
  CHECK(float(hl::min()) == std::ldexp(1.0f, -14));
  CHECK(float(hl::denorm_min()) == std::ldexp(1.0f, -24));
  CHECK(float(hl::epsilon()) == std::ldexp(1.0f, -10));
  CHECK(float(hl::round_error()) == 0.5f);
  CHECK(isinf(hl::infinity()));
  CHECK(isnan(hl::quiet_NaN()));
  CHECK(isnan(hl::signaling_NaN()));
  CHECK((hl::signaling_NaN().bits() & 0x0200) == 0);
  CHECK(float(half::from_bits(0x3C01)) - 1.0f == float(hl::epsilon()));
  using bl = std::numeric_limits<bfloat16>;
  CHECK(float(bl::max()) == float_of(0x7F7F0000u));
  CHECK(float(bl::lowest()) == -float_of(0x7F7F0000u));
  CHECK(float(bl::min()) == std::numeric_limits<float>::min());
  CHECK(float(bl::denorm_min()) == std::ldexp(1.0f, -133));
  CHECK(float(bl::epsilon()) == std::ldexp(1.0f, -7));
  CHECK(float(bl::round_error()) == 0.5f);
  CHECK(isinf(bl::infinity()));
  CHECK(isnan(bl::quiet_NaN()));
  CHECK((bl::signaling_NaN().bits() & 0x0040) == 0);
  CHECK(isnan(bl::signaling_NaN()));
  CHECK(float(bfloat16::from_bits(0x3F81)) - 1.0f == float(bl::epsilon()));
}
