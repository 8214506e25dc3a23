// fp16 (IEEE binary16) and bf16 (bfloat16) scalar types and their bit-exact float conversions.
//
// This file is the specification every bulk converter (quant/convert.hpp) matches bit for bit:
//
// - float -> half / bf16 rounds to nearest, ties to even, keeps subnormals (no flush to zero),
//   and overflows to +-Inf (half: |x| >= 65520 is Inf, 65519.996 is 65504).
// - half / bf16 -> float is exact.
// - NaN, in every direction: the result is a *quiet* NaN with the input's sign and the leading
//   payload bits that fit (float -> narrow: the top 9 / 6 payload bits, then the quiet bit set;
//   narrow -> float: the payload shifted up, quiet bit set). A signalling NaN is quieted, as IEEE
//   754 convertFormat asks and as F16C (vcvtps2ph / vcvtph2ps) and AArch64 (fcvtn / fcvtl, with
//   FPCR.DN = 0) do in hardware; a NaN whose kept payload bits are all zero stays a NaN (never
//   becomes Inf) because the quiet bit is set.
//
// Pure portable C++ (integer bit manipulation, std::memcpy for punning): no intrinsics, so the
// code is the same on every backend and needs no arch tag.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "lightq/config.hpp"

namespace lightq {

namespace detail {

LIGHTQ_ALWAYS_INLINE std::uint32_t float_bits(float f) noexcept {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

LIGHTQ_ALWAYS_INLINE float float_from_bits(std::uint32_t u) noexcept {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace detail

/// fp16 bits -> float, exact; a NaN comes back quiet (payload << 13, quiet bit set, sign kept).
LIGHTQ_ALWAYS_INLINE float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  const std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t magnitude;
  if (exponent == 0x1F) {
    // Inf (mantissa 0) or NaN: all-ones exponent, payload moved to the top, quieted.
    magnitude = 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? 0x00400000u : 0u);
  } else if (exponent != 0) {
    // Normal: rebias the exponent from 15 to 127.
    magnitude = ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {
    // Subnormal m * 2^-24: normalise. The leading one of m sits at bit p (0..9), so the value is
    // 1.f * 2^(p - 24); shift it up to bit 10 and drop it.
    int p = 9;
    while (((mantissa >> p) & 1u) == 0) --p;
    const std::uint32_t fraction = (mantissa << (10 - p)) & 0x3FFu;
    magnitude = (static_cast<std::uint32_t>(p - 24 + 127) << 23) | (fraction << 13);
  } else {
    magnitude = 0;  // +-0
  }
  return detail::float_from_bits(sign | magnitude);
}

/// float -> fp16 bits, round to nearest even, subnormals kept, overflow to Inf, NaN quieted.
LIGHTQ_ALWAYS_INLINE std::uint16_t float_to_half_bits(float f) noexcept {
  const std::uint32_t x = detail::float_bits(f);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t a = x & 0x7FFFFFFFu;
  std::uint32_t h;
  if (a > 0x7F800000u) {
    h = 0x7E00u | ((a >> 13) & 0x3FFu);  // NaN: top 10 mantissa bits, quiet bit (0x200) set
  } else if (a >= 0x477FF000u) {
    h = 0x7C00u;  // |f| >= 65520 (the midpoint above 65504, a tie that rounds to even = Inf), or Inf
  } else if (a >= 0x38800000u) {
    // Normal half (|f| >= 2^-14): rebias 127 -> 15 in place, round away the low 13 bits.
    // A carry out of the mantissa bumps the exponent, which is exactly right (up to 0x7BFF + 1
    // would be Inf, excluded above).
    const std::uint32_t r = a - (static_cast<std::uint32_t>(127 - 15) << 23);
    h = (r + 0x0FFFu + ((r >> 13) & 1u)) >> 13;
  } else if (a > 0x33000000u) {
    // Subnormal half (2^-25 < |f| < 2^-14): the result is round(|f| * 2^24). With the implicit
    // one restored, |f| = m * 2^(e - 150) so |f| * 2^24 = m >> (126 - e); shift is 14..24.
    const std::uint32_t m = (a & 0x007FFFFFu) | 0x00800000u;
    const std::uint32_t shift = 126u - (a >> 23);
    const std::uint32_t q = m >> shift;
    const std::uint32_t rest = m & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    h = q + ((rest > halfway || (rest == halfway && (q & 1u))) ? 1u : 0u);  // 0x400 = min normal
  } else {
    h = 0;  // |f| <= 2^-25: rounds to zero (2^-25 itself is a tie, to the even 0)
  }
  return static_cast<std::uint16_t>(sign | h);
}

/// bf16 bits -> float, exact; a NaN comes back quiet (quiet bit set, sign and payload kept).
LIGHTQ_ALWAYS_INLINE float bfloat16_to_float(std::uint16_t b) noexcept {
  std::uint32_t x = static_cast<std::uint32_t>(b) << 16;
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) x |= 0x00400000u;
  return detail::float_from_bits(x);
}

/// float -> bf16 bits, round to nearest even, subnormals kept, overflow to Inf, NaN quieted.
LIGHTQ_ALWAYS_INLINE std::uint16_t float_to_bfloat16_bits(float f) noexcept {
  const std::uint32_t x = detail::float_bits(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((x >> 16) | 0x0040u);
  // Adding 0x7FFF (+1 when the kept lsb is odd) carries into bit 16 exactly when the dropped
  // half is above the midpoint, or at it with an odd lsb. Carries into the exponent give the
  // next binade, or Inf past the largest finite value; no finite input can wrap.
  return static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

namespace detail {

/// Classification and IEEE comparisons of half / bfloat16 (`ExponentMask`: the all-ones
/// exponent field). Hidden friends: found by argument-dependent lookup on half / bfloat16 only,
/// so `isnan(h)` works while an unqualified `isnan(float)` or `abs(int)` elsewhere in namespace
/// lightq still finds the standard functions.
template <class T, std::uint16_t ExponentMask>
struct narrow_float_ops {
  // Classification, on the bits (no float round trip).
  friend constexpr bool isnan(T x) noexcept { return (x.bits() & 0x7FFFu) > ExponentMask; }
  friend constexpr bool isinf(T x) noexcept { return (x.bits() & 0x7FFFu) == ExponentMask; }
  friend constexpr bool isfinite(T x) noexcept { return (x.bits() & ExponentMask) != ExponentMask; }
  friend constexpr bool signbit(T x) noexcept { return (x.bits() & 0x8000u) != 0; }
  /// |x|: clears the sign bit (also of NaN).
  friend constexpr T abs(T x) noexcept { return T::from_bits(static_cast<std::uint16_t>(x.bits() & 0x7FFFu)); }
  /// True when the bit patterns are equal (unlike ==: NaN equals itself, -0 differs from +0).
  friend constexpr bool bitwise_equal(T a, T b) noexcept { return a.bits() == b.bits(); }

  // IEEE comparisons through the exact float values: NaN is unordered, -0 == +0.
  friend bool operator==(T a, T b) noexcept { return static_cast<float>(a) == static_cast<float>(b); }
  friend bool operator!=(T a, T b) noexcept { return static_cast<float>(a) != static_cast<float>(b); }
  friend bool operator<(T a, T b) noexcept { return static_cast<float>(a) < static_cast<float>(b); }
  friend bool operator<=(T a, T b) noexcept { return static_cast<float>(a) <= static_cast<float>(b); }
  friend bool operator>(T a, T b) noexcept { return static_cast<float>(a) > static_cast<float>(b); }
  friend bool operator>=(T a, T b) noexcept { return static_cast<float>(a) >= static_cast<float>(b); }
};

}  // namespace detail

/// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
/// Trivially copyable, 2 bytes, layout-compatible with std::uint16_t. A storage type: arithmetic
/// goes through float (`float(h)`), which holds every half exactly.
class half : public detail::narrow_float_ops<half, 0x7C00> {
 public:
  /// Uninitialised, like float.
  half() noexcept = default;
  /// Rounds to nearest even (see the file comment). Converting a double through float rounds
  /// twice; convert to float deliberately if that is what you want.
  explicit half(float f) noexcept : bits_(float_to_half_bits(f)) {}
  /// The half with these bits.
  static constexpr half from_bits(std::uint16_t bits) noexcept {
    half h{};
    h.bits_ = bits;
    return h;
  }
  constexpr std::uint16_t bits() const noexcept { return bits_; }
  /// Exact.
  explicit operator float() const noexcept { return half_to_float(bits_); }
  float to_float() const noexcept { return half_to_float(bits_); }

  /// Sign flip (also of NaN and zero), exact.
  constexpr half operator-() const noexcept { return from_bits(static_cast<std::uint16_t>(bits_ ^ 0x8000u)); }
  constexpr half operator+() const noexcept { return *this; }

  /// The bit pattern. Public only so that raw memory functions on arrays of half (memset,
  /// memcpy: gcc's -Wclass-memaccess objects to private members) stay warning-free; use
  /// bits() / from_bits().
  std::uint16_t bits_;
};

/// bfloat16: 1 sign bit, 8 exponent bits (bias 127), 7 mantissa bits: the top half of a float.
/// Trivially copyable, 2 bytes, layout-compatible with std::uint16_t; a storage type like half.
class bfloat16 : public detail::narrow_float_ops<bfloat16, 0x7F80> {
 public:
  bfloat16() noexcept = default;
  /// Rounds to nearest even (see the file comment).
  explicit bfloat16(float f) noexcept : bits_(float_to_bfloat16_bits(f)) {}
  static constexpr bfloat16 from_bits(std::uint16_t bits) noexcept {
    bfloat16 b{};
    b.bits_ = bits;
    return b;
  }
  constexpr std::uint16_t bits() const noexcept { return bits_; }
  /// Exact.
  explicit operator float() const noexcept { return bfloat16_to_float(bits_); }
  float to_float() const noexcept { return bfloat16_to_float(bits_); }

  constexpr bfloat16 operator-() const noexcept { return from_bits(static_cast<std::uint16_t>(bits_ ^ 0x8000u)); }
  constexpr bfloat16 operator+() const noexcept { return *this; }

  /// The bit pattern. Public only so that raw memory functions on arrays of half (memset,
  /// memcpy: gcc's -Wclass-memaccess objects to private members) stay warning-free; use
  /// bits() / from_bits().
  std::uint16_t bits_;
};

static_assert(sizeof(half) == 2 && alignof(half) == alignof(std::uint16_t), "half is 2 bytes");
static_assert(sizeof(bfloat16) == 2 && alignof(bfloat16) == alignof(std::uint16_t), "bfloat16 is 2 bytes");
static_assert(std::is_trivially_copyable_v<half> && std::is_trivial_v<half>, "half is trivial");
static_assert(std::is_trivially_copyable_v<bfloat16> && std::is_trivial_v<bfloat16>, "bfloat16 is trivial");
static_assert(std::is_standard_layout_v<half> && std::is_standard_layout_v<bfloat16>, "standard layout");


}  // namespace lightq

namespace std {

/// Limits of lightq::half (IEEE binary16).
template <>
class numeric_limits<lightq::half> {
  using T = lightq::half;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = true;
  static constexpr float_denorm_style has_denorm = denorm_present;
  static constexpr bool has_denorm_loss = false;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr bool is_iec559 = true;
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = 11;
  static constexpr int digits10 = 3;
  static constexpr int max_digits10 = 5;
  static constexpr int radix = 2;
  static constexpr int min_exponent = -13;
  static constexpr int min_exponent10 = -4;
  static constexpr int max_exponent = 16;
  static constexpr int max_exponent10 = 4;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr T min() noexcept { return T::from_bits(0x0400); }         // 2^-14
  static constexpr T lowest() noexcept { return T::from_bits(0xFBFF); }      // -65504
  static constexpr T max() noexcept { return T::from_bits(0x7BFF); }         // 65504
  static constexpr T epsilon() noexcept { return T::from_bits(0x1400); }     // 2^-10
  static constexpr T round_error() noexcept { return T::from_bits(0x3800); } // 0.5
  static constexpr T infinity() noexcept { return T::from_bits(0x7C00); }
  static constexpr T quiet_NaN() noexcept { return T::from_bits(0x7E00); }
  static constexpr T signaling_NaN() noexcept { return T::from_bits(0x7D00); }
  static constexpr T denorm_min() noexcept { return T::from_bits(0x0001); }  // 2^-24
};

/// Limits of lightq::bfloat16.
template <>
class numeric_limits<lightq::bfloat16> {
  using T = lightq::bfloat16;

 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool is_exact = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr bool has_signaling_NaN = true;
  static constexpr float_denorm_style has_denorm = denorm_present;
  static constexpr bool has_denorm_loss = false;
  static constexpr float_round_style round_style = round_to_nearest;
  static constexpr bool is_iec559 = false;  // not an IEEE 754 interchange format
  static constexpr bool is_bounded = true;
  static constexpr bool is_modulo = false;
  static constexpr int digits = 8;
  static constexpr int digits10 = 2;
  static constexpr int max_digits10 = 4;
  static constexpr int radix = 2;
  static constexpr int min_exponent = -125;
  static constexpr int min_exponent10 = -37;
  static constexpr int max_exponent = 128;
  static constexpr int max_exponent10 = 38;
  static constexpr bool traps = false;
  static constexpr bool tinyness_before = false;

  static constexpr T min() noexcept { return T::from_bits(0x0080); }         // 2^-126
  static constexpr T lowest() noexcept { return T::from_bits(0xFF7F); }
  static constexpr T max() noexcept { return T::from_bits(0x7F7F); }         // (2 - 2^-7) * 2^127
  static constexpr T epsilon() noexcept { return T::from_bits(0x3C00); }     // 2^-7
  static constexpr T round_error() noexcept { return T::from_bits(0x3F00); } // 0.5
  static constexpr T infinity() noexcept { return T::from_bits(0x7F80); }
  static constexpr T quiet_NaN() noexcept { return T::from_bits(0x7FC0); }
  static constexpr T signaling_NaN() noexcept { return T::from_bits(0x7FA0); }
  static constexpr T denorm_min() noexcept { return T::from_bits(0x0001); }  // 2^-133
};

}  // namespace std
