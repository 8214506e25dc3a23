// xsimd glue: maps lightq arch tags to xsimd archs and papers over the 8.1 vs 13/14 API changes.
#pragma once

#include <xsimd/xsimd.hpp>

#include "lightq/core/arch.hpp"

#if !defined(XSIMD_VERSION_MAJOR)
#error "lightq: cannot determine the xsimd version"
#endif

// xsimd offers no batch type at all where no SIMD instruction set is enabled (e.g. the AArch64
// scalar reference build, -march=armv8-a+nosimd). Code that names xsimd functions outside an
// arch-guarded block checks LIGHTQ_XSIMD_AVAILABLE.
#if !defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#define LIGHTQ_XSIMD_AVAILABLE 1
#endif

namespace lightq {
namespace detail {

/// The xsimd arch a lightq backend uses for float and elementwise code (`void` for scalar).
template <class Arch, class = void>
struct xsimd_arch_of {
  using type = void;
};

#if defined(LIGHTQ_HAS_AVX2)
template <class Arch>
struct xsimd_arch_of<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx2> && !arch_has_v<Arch, arch::avx512_vnni>>> {
  using type = xsimd::fma3<xsimd::avx2>;
};
#endif
#if defined(LIGHTQ_HAS_AVX512_VNNI)
template <class Arch>
struct xsimd_arch_of<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx512_vnni>>> {
  using type = xsimd::avx512bw;
};
#endif
#if defined(LIGHTQ_HAS_NEON)
template <class Arch>
struct xsimd_arch_of<Arch, std::enable_if_t<arch_has_v<Arch, arch::neon>>> {
  using type = xsimd::neon64;
};
#endif

template <class Arch>
using xsimd_arch_t = typename xsimd_arch_of<Arch>::type;

/// fp32 batch of backend `Arch`.
template <class Arch>
using float_batch = xsimd::batch<float, xsimd_arch_t<Arch>>;

#if defined(LIGHTQ_XSIMD_AVAILABLE)
/// Horizontal sum (xsimd 8.1 `hadd`, 13/14 `reduce_add`).
template <class T, class A>
LIGHTQ_ALWAYS_INLINE T reduce_add(const xsimd::batch<T, A>& v) noexcept {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(v);
#else
  return xsimd::hadd(v);
#endif
}

/// Horizontal max.
template <class T, class A>
LIGHTQ_ALWAYS_INLINE T reduce_max(const xsimd::batch<T, A>& v) noexcept {
  alignas(64) T tmp[xsimd::batch<T, A>::size];
  v.store_aligned(tmp);
  T m = tmp[0];
  for (std::size_t i = 1; i < xsimd::batch<T, A>::size; ++i) m = tmp[i] > m ? tmp[i] : m;
  return m;
}

/// Reinterpret the bits of a batch as another element type.
template <class To, class T, class A>
LIGHTQ_ALWAYS_INLINE xsimd::batch<To, A> bitcast(const xsimd::batch<T, A>& v) noexcept {
#if XSIMD_VERSION_MAJOR >= 10
  return xsimd::bitwise_cast<To>(v);
#else
  return xsimd::bitwise_cast<xsimd::batch<To, A>>(v);
#endif
}

#endif  // LIGHTQ_XSIMD_AVAILABLE

}  // namespace detail
}  // namespace lightq
