// AArch64 NEON bulk fp32 <-> fp16 / bf16 conversion kernels (neon and neon_dotprod; equal to
// the scalar twin bit for bit).
//
// fp16: fcvtn / fcvtn2 (vcvt_f16_f32, vcvt_high_f16_f32) and fcvtl / fcvtl2. They round by
// FPCR.RMode (round to nearest even, the default every ABI starts with) and, with FPCR.DN = 0
// (the Linux default), quiet a signalling NaN keeping its sign and leading payload bits, which is
// the rule core/half.hpp defines. Subnormals are kept unless FPCR.FZ16 is set, which no ABI does.
// bf16: integer arithmetic on 4 lanes (BFCVTN needs ARMv8.6 bf16), narrowed with shrn.
// Tails (< 8 elements) run the scalar twin.
#pragma once

#include "lightq/quant/detail/convert_scalar.hpp"

#if defined(LIGHTQ_HAS_NEON)
#include <arm_neon.h>

namespace lightq {
namespace detail {

template <class Arch>
struct convert_kernels<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon>>> {
  static void run(const float* in, half* out, index_t count) noexcept {
    auto* o = reinterpret_cast<std::uint16_t*>(out);
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      const float16x8_t a = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(in + i)), vld1q_f32(in + i + 4));
      const float16x8_t b = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(in + i + 8)), vld1q_f32(in + i + 12));
      vst1q_u16(o + i, vreinterpretq_u16_f16(a));
      vst1q_u16(o + i + 8, vreinterpretq_u16_f16(b));
    }
    for (; i + 8 <= count; i += 8) {
      const float16x8_t a = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(in + i)), vld1q_f32(in + i + 4));
      vst1q_u16(o + i, vreinterpretq_u16_f16(a));
    }
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const half* in, float* out, index_t count) noexcept {
    const auto* p = reinterpret_cast<const std::uint16_t*>(in);
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      const float16x8_t a = vreinterpretq_f16_u16(vld1q_u16(p + i));
      const float16x8_t b = vreinterpretq_f16_u16(vld1q_u16(p + i + 8));
      vst1q_f32(out + i, vcvt_f32_f16(vget_low_f16(a)));
      vst1q_f32(out + i + 4, vcvt_high_f32_f16(a));
      vst1q_f32(out + i + 8, vcvt_f32_f16(vget_low_f16(b)));
      vst1q_f32(out + i + 12, vcvt_high_f32_f16(b));
    }
    for (; i + 8 <= count; i += 8) {
      const float16x8_t a = vreinterpretq_f16_u16(vld1q_u16(p + i));
      vst1q_f32(out + i, vcvt_f32_f16(vget_low_f16(a)));
      vst1q_f32(out + i + 4, vcvt_high_f32_f16(a));
    }
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const float* in, bfloat16* out, index_t count) noexcept {
    const auto* p = reinterpret_cast<const std::uint32_t*>(in);
    auto* o = reinterpret_cast<std::uint16_t*>(out);
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      vst1q_u16(o + i, vshrn_high_n_u32(vshrn_n_u32(round_bf16(vld1q_u32(p + i)), 16), round_bf16(vld1q_u32(p + i + 4)), 16));
      vst1q_u16(o + i + 8,
                vshrn_high_n_u32(vshrn_n_u32(round_bf16(vld1q_u32(p + i + 8)), 16), round_bf16(vld1q_u32(p + i + 12)), 16));
    }
    for (; i + 8 <= count; i += 8)
      vst1q_u16(o + i, vshrn_high_n_u32(vshrn_n_u32(round_bf16(vld1q_u32(p + i)), 16), round_bf16(vld1q_u32(p + i + 4)), 16));
    convert_scalar_loop(in, out, i, count);
  }

  static void run(const bfloat16* in, float* out, index_t count) noexcept {
    const auto* p = reinterpret_cast<const std::uint16_t*>(in);
    auto* o = reinterpret_cast<std::uint32_t*>(out);
    index_t i = 0;
    for (; i + 16 <= count; i += 16) {
      const uint16x8_t a = vld1q_u16(p + i);
      const uint16x8_t b = vld1q_u16(p + i + 8);
      vst1q_u32(o + i, quiet_nan(vshll_n_u16(vget_low_u16(a), 16)));
      vst1q_u32(o + i + 4, quiet_nan(vshll_high_n_u16(a, 16)));
      vst1q_u32(o + i + 8, quiet_nan(vshll_n_u16(vget_low_u16(b), 16)));
      vst1q_u32(o + i + 12, quiet_nan(vshll_high_n_u16(b, 16)));
    }
    for (; i + 8 <= count; i += 8) {
      const uint16x8_t a = vld1q_u16(p + i);
      vst1q_u32(o + i, quiet_nan(vshll_n_u16(vget_low_u16(a), 16)));
      vst1q_u32(o + i + 4, quiet_nan(vshll_high_n_u16(a, 16)));
    }
    convert_scalar_loop(in, out, i, count);
  }

 private:
  // 4 float bit patterns rounded so that their top 16 bits are the bf16 result (NaN: quieted).
  static LIGHTQ_ALWAYS_INLINE uint32x4_t round_bf16(uint32x4_t x) noexcept {
    const uint32x4_t lsb = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
    const uint32x4_t rounded = vaddq_u32(vaddq_u32(x, vdupq_n_u32(0x7FFF)), lsb);
    const uint32x4_t is_nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    return vbslq_u32(is_nan, vorrq_u32(x, vdupq_n_u32(0x00400000)), rounded);
  }

  // 4 float bit patterns with NaNs quieted.
  static LIGHTQ_ALWAYS_INLINE uint32x4_t quiet_nan(uint32x4_t x) noexcept {
    const uint32x4_t is_nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    return vorrq_u32(x, vandq_u32(is_nan, vdupq_n_u32(0x00400000)));
  }
};

}  // namespace detail
}  // namespace lightq

#endif  // LIGHTQ_HAS_NEON
