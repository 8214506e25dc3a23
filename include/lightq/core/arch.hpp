// Backend (instruction-set) tags, the compile-time default, and the mapping to xsimd archs.
#pragma once

#include <type_traits>

#include "lightq/config.hpp"

namespace lightq {
namespace arch {

/// Plain C++, no SIMD types: the reference twin of every kernel.
struct scalar {
  static constexpr const char* name = "scalar";
  static constexpr int id = 0;
};
/// x86-64 AVX2 + FMA + F16C (Haswell, Zen 1 and later).
struct avx2 : scalar {
  static constexpr const char* name = "avx2";
  static constexpr int id = 1;
};
/// x86-64 AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Sapphire Rapids, Zen 4).
struct avx512_vnni : avx2 {
  static constexpr const char* name = "avx512_vnni";
  static constexpr int id = 2;
};
/// AArch64 Advanced SIMD (every ARMv8-A core).
struct neon : scalar {
  static constexpr const char* name = "neon";
  static constexpr int id = 3;
};
/// AArch64 ASIMD + SDOT/UDOT + fp16 arithmetic (ARMv8.2-A dotprod + fp16: Cortex-A55/A76 and later).
struct neon_dotprod : neon {
  static constexpr const char* name = "neon_dotprod";
  static constexpr int id = 4;
};

}  // namespace arch

/// True when `Arch` has every capability of `Base` (selection by capability, never by identity).
template <class Arch, class Base>
inline constexpr bool arch_has_v = std::is_base_of_v<Base, Arch>;

/// True for the x86 backends.
template <class Arch>
inline constexpr bool is_x86_arch_v = arch_has_v<Arch, arch::avx2>;
/// True for the AArch64 backends.
template <class Arch>
inline constexpr bool is_arm_arch_v = arch_has_v<Arch, arch::neon>;

// The best backend the compiler flags allow.
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
using default_arch = arch::avx512_vnni;
#define LIGHTQ_HAS_AVX512_VNNI 1
#define LIGHTQ_HAS_AVX2 1
#elif defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
using default_arch = arch::avx2;
#define LIGHTQ_HAS_AVX2 1
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
using default_arch = arch::neon_dotprod;
#define LIGHTQ_HAS_NEON_DOTPROD 1
#define LIGHTQ_HAS_NEON 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
using default_arch = arch::neon;
#define LIGHTQ_HAS_NEON 1
#else
using default_arch = arch::scalar;
#endif

/// True when the current compiler flags allow code for `Arch` to be compiled.
template <class Arch>
inline constexpr bool arch_compiled_v = arch_has_v<default_arch, Arch>;

/// Calls f(Arch{}) for every backend the compiler flags allow, scalar first.
template <class F>
void for_each_compiled_arch(F&& f) {
  f(arch::scalar{});
#if defined(LIGHTQ_HAS_AVX2)
  f(arch::avx2{});
#endif
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  f(arch::avx512_vnni{});
#endif
#if defined(LIGHTQ_HAS_NEON)
  f(arch::neon{});
#endif
#if defined(LIGHTQ_HAS_NEON_DOTPROD)
  f(arch::neon_dotprod{});
#endif
}

}  // namespace lightq
