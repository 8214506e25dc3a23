// lightq configuration macros: namespace, inlining, restrict, exception support.
#pragma once

#include "lightq/version.hpp"

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "lightq requires C++17"
#endif

// Exceptions: detected from the compiler; define LIGHTQ_NO_EXCEPTIONS to force them off.
#if !defined(LIGHTQ_NO_EXCEPTIONS)
#if !(defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND))
#define LIGHTQ_NO_EXCEPTIONS 1
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LIGHTQ_ALWAYS_INLINE inline __attribute__((always_inline))
#define LIGHTQ_NOINLINE __attribute__((noinline))
#define LIGHTQ_RESTRICT __restrict__
#define LIGHTQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define LIGHTQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LIGHTQ_ALWAYS_INLINE inline
#define LIGHTQ_NOINLINE
#define LIGHTQ_RESTRICT
#define LIGHTQ_LIKELY(x) (x)
#define LIGHTQ_UNLIKELY(x) (x)
#endif

// GCC 12 (bug 105593, fixed in GCC 13) reports -W(maybe-)uninitialized on its own
// _mm512_undefined_* placeholders inside inlined AVX-512 intrinsics: a false positive. Headers
// with AVX-512 code put their body between these two (push/pop; nothing on other compilers).
#if defined(__GNUC__) && !defined(__clang__)
#define LIGHTQ_GCC_PR105593_BEGIN                                 \
  _Pragma("GCC diagnostic push")                                  \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")   \
  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define LIGHTQ_GCC_PR105593_END _Pragma("GCC diagnostic pop")
#else
#define LIGHTQ_GCC_PR105593_BEGIN
#define LIGHTQ_GCC_PR105593_END
#endif

/// Cache line and SIMD alignment used for owned storage and packed weights.
#define LIGHTQ_ALIGNMENT 64
