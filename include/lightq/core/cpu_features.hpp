// Run-time CPU feature query (cpuid + xgetbv on x86, getauxval on Linux/AArch64).
#pragma once

#include "lightq/core/arch.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#define LIGHTQ_HOST_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define LIGHTQ_HOST_AARCH64_LINUX 1
#endif

namespace lightq {

/// What the CPU running this process can execute. Filled once by `cpu_features::detect()`.
struct cpu_features {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx512_fp16 = false;
  bool avx_vnni = false;
  bool amx_int8 = false;
  bool neon = false;
  bool asimd_dotprod = false;
  bool asimd_fp16 = false;
  bool i8mm = false;

  /// Queries the CPU (and the OS's saving of wide registers) now.
  static cpu_features detect() noexcept {
    cpu_features f;
#if defined(LIGHTQ_HOST_X86)
    auto cpuid = [](unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
      int out[4];
      __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
      for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(out[i]);
#else
      __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
    };
    unsigned r[4] = {0, 0, 0, 0};
    cpuid(0, 0, r);
    const unsigned max_leaf = r[0];
    if (max_leaf < 7) return f;
    cpuid(1, 0, r);
    const bool osxsave = (r[2] >> 27) & 1;
    f.fma = (r[2] >> 12) & 1;
    f.f16c = (r[2] >> 29) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
#if defined(_MSC_VER)
      xcr0 = _xgetbv(0);
#else
      unsigned lo = 0, hi = 0;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
#endif
    }
    const bool os_ymm = (xcr0 & 0x6) == 0x6;
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
    cpuid(7, 0, r);
    const unsigned ebx = r[1], ecx = r[2], edx = r[3];
    f.avx2 = os_ymm && ((ebx >> 5) & 1);
    f.fma = f.fma && os_ymm;
    f.f16c = f.f16c && os_ymm;
    f.avx512f = os_zmm && ((ebx >> 16) & 1);
    f.avx512dq = os_zmm && ((ebx >> 17) & 1);
    f.avx512bw = os_zmm && ((ebx >> 30) & 1);
    f.avx512vl = os_zmm && ((ebx >> 31) & 1);
    f.avx512_vnni = os_zmm && ((ecx >> 11) & 1);
    f.avx512_fp16 = os_zmm && ((edx >> 23) & 1);
    f.amx_int8 = (edx >> 25) & 1;
    cpuid(7, 1, r);
    f.avx_vnni = os_ymm && ((r[0] >> 4) & 1);
#elif defined(LIGHTQ_HOST_AARCH64_LINUX)
    const unsigned long hw = getauxval(AT_HWCAP);
    const unsigned long hw2 = getauxval(AT_HWCAP2);
    f.neon = (hw >> 1) & 1;            // HWCAP_ASIMD
    f.asimd_fp16 = (hw >> 10) & 1;     // HWCAP_ASIMDHP
    f.asimd_dotprod = (hw >> 20) & 1;  // HWCAP_ASIMDDP
    f.i8mm = (hw2 >> 13) & 1;          // HWCAP2_I8MM
#elif defined(__aarch64__)
    f.neon = true;
#endif
    return f;
  }

  /// The features of this process's CPU, detected on first use.
  static const cpu_features& host() noexcept {
    static const cpu_features f = detect();
    return f;
  }
};

/// True when the CPU running this process can execute the kernels of backend `Arch`.
template <class Arch>
bool cpu_supports(Arch = Arch{}) noexcept {
  const cpu_features& f = cpu_features::host();
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512_vnni && f.avx2 && f.fma && f.f16c;
  } else if constexpr (arch_has_v<Arch, arch::avx2>) {
    return f.avx2 && f.fma && f.f16c;
  } else if constexpr (arch_has_v<Arch, arch::neon_dotprod>) {
    return f.neon && f.asimd_dotprod && f.asimd_fp16;
  } else if constexpr (arch_has_v<Arch, arch::neon>) {
    return f.neon;
  } else {
    return true;
  }
}

/// Name of the best backend this CPU could run (independent of how this program was compiled).
inline const char* best_cpu_arch_name() noexcept {
  if (cpu_supports<arch::avx512_vnni>()) return arch::avx512_vnni::name;
  if (cpu_supports<arch::avx2>()) return arch::avx2::name;
  if (cpu_supports<arch::neon_dotprod>()) return arch::neon_dotprod::name;
  if (cpu_supports<arch::neon>()) return arch::neon::name;
  return arch::scalar::name;
}

}  // namespace lightq
