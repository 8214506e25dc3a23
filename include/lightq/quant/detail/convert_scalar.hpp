// Bulk fp32 <-> fp16 / bf16 conversion kernels: the selection template and its scalar twin.
//
// `convert_kernels<Arch>` has one static `run(in, out, count)` overload per direction. The
// primary template is the scalar twin (a plain loop over core/half.hpp, the specification);
// quant/detail/convert_{avx2,avx512,neon}.hpp specialise it by capability for their backends and
// must equal it bit for bit on every input. Kernels do not validate: quant/convert.hpp does.
#pragma once

#include <cstdint>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/half.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

// One element, as the twin converts it (also used for strided views on every backend).
LIGHTQ_ALWAYS_INLINE half convert_one(float x, half*) noexcept { return half::from_bits(lightq::float_to_half_bits(x)); }
LIGHTQ_ALWAYS_INLINE bfloat16 convert_one(float x, bfloat16*) noexcept {
  return bfloat16::from_bits(lightq::float_to_bfloat16_bits(x));
}
LIGHTQ_ALWAYS_INLINE float convert_one(half x, float*) noexcept { return lightq::half_to_float(x.bits()); }
LIGHTQ_ALWAYS_INLINE float convert_one(bfloat16 x, float*) noexcept { return lightq::bfloat16_to_float(x.bits()); }

/// The scalar twin: out[i] = convert(in[i]) for i in [begin, count).
template <class From, class To>
LIGHTQ_ALWAYS_INLINE void convert_scalar_loop(const From* LIGHTQ_RESTRICT in, To* LIGHTQ_RESTRICT out, index_t begin,
                                              index_t count) noexcept {
  for (index_t i = begin; i < count; ++i) out[i] = convert_one(in[i], static_cast<To*>(nullptr));
}

/// Conversion kernels of backend `Arch`; the primary template is the scalar twin.
template <class Arch, class = void>
struct convert_kernels {
  static void run(const float* in, half* out, index_t count) noexcept { convert_scalar_loop(in, out, 0, count); }
  static void run(const half* in, float* out, index_t count) noexcept { convert_scalar_loop(in, out, 0, count); }
  static void run(const float* in, bfloat16* out, index_t count) noexcept { convert_scalar_loop(in, out, 0, count); }
  static void run(const bfloat16* in, float* out, index_t count) noexcept { convert_scalar_loop(in, out, 0, count); }
};

}  // namespace detail
}  // namespace lightq
