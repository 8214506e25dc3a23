// The GEMM kernel registry: which micro-kernel each backend uses for each data-type family.
// Adding a kernel = its file + one include here; selection, tests and benchmarks follow.
#pragma once

#include <type_traits>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/reference.hpp"

// Backend kernels (each file compiles to nothing without its ISA flags).
#include "lightq/gemm/avx2/f32_6x16.hpp"
#include "lightq/gemm/avx2/qs8_qc8w_6x16c2.hpp"
#include "lightq/gemm/avx512/f32_12x32.hpp"
#include "lightq/gemm/avx512/qs8_qc8w_12x32c4.hpp"
#include "lightq/gemm/neon/f32_8x12.hpp"
#include "lightq/gemm/neon/f16_8x24_dotprod.hpp"
#include "lightq/gemm/neon/f32_f16w_8x12.hpp"
#include "lightq/gemm/neon/qs8_qc8w_4x4c16.hpp"
#include "lightq/gemm/neon/qs8_qc8w_8x12c4_dotprod.hpp"

namespace lightq {

template <class... T>
struct type_list {};

/// Backends in order of preference; a backend without its own kernel for a family uses the
/// next one it inherits from (neon_dotprod -> neon -> scalar, avx512_vnni -> avx2 -> scalar).
using gemm_backends = type_list<arch::avx512_vnni, arch::avx2, arch::neon_dotprod, arch::neon, arch::scalar>;

/// The data-type families: (activation token, weight token) keys of gemm_kernel. qu8 and qd8
/// activations run on the qs8 x qc8w kernel (the packer re-encodes them).
using gemm_families = type_list<type_list<gemm_dtype::qs8, gemm_dtype::qc8w>, type_list<gemm_dtype::f32, gemm_dtype::f32>,
                                type_list<gemm_dtype::f32, gemm_dtype::f16>, type_list<gemm_dtype::f16, gemm_dtype::f16>>;

namespace detail {

template <class T, class = void>
struct is_defined : std::false_type {};
template <class T>
struct is_defined<T, std::void_t<decltype(sizeof(T))>> : std::true_type {};

template <class Arch, class A, class W, class Backends>
struct select_gemm_kernel;
template <class Arch, class A, class W, class B, class... Rest>
struct select_gemm_kernel<Arch, A, W, type_list<B, Rest...>> {
  static constexpr bool usable = arch_has_v<Arch, B> && arch_compiled_v<B> && is_defined<gemm_kernel<B, A, W>>::value;
  using type = typename std::conditional_t<usable, std::enable_if<true, gemm_kernel<B, A, W>>,
                                           select_gemm_kernel<Arch, A, W, type_list<Rest...>>>::type;
};
template <class Arch, class A, class W>
struct select_gemm_kernel<Arch, A, W, type_list<>> {};

/// The kernel family key for activations A: qu8 and qd8 share the qs8 kernel.
template <class A>
struct gemm_family_activation {
  using type = A;
};
template <>
struct gemm_family_activation<gemm_dtype::qu8> {
  using type = gemm_dtype::qs8;
};
template <>
struct gemm_family_activation<gemm_dtype::qd8> {
  using type = gemm_dtype::qs8;
};

}  // namespace detail

/// The micro-kernel backend `Arch` runs for activations A and weights W.
template <class Arch, class A, class W>
using gemm_kernel_for =
    typename detail::select_gemm_kernel<Arch, typename detail::gemm_family_activation<A>::type, W, gemm_backends>::type;

}  // namespace lightq
