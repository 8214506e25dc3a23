// GEMM data-type tokens: the quantized ones from quant/params.hpp (qs8, qu8, qc8w, qd8) plus
// the float ones (f32, f16), gathered in lightq::gemm_dtype; and the exact-int32 K bound.
#pragma once

#include <cstdint>

#include "lightq/quant/params.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace gemm_dtype {

using qs8 = lightq::qs8;
using qu8 = lightq::qu8;
using qd8 = lightq::qd8;
using qc8w = lightq::qc8w;
/// fp32.
struct f32 {
  static constexpr const char* name = "f32";
  using storage_type = float;
};
/// IEEE binary16 weights (stored as their 16 bits), converted to fp32 in registers.
struct f16 {
  static constexpr const char* name = "f16";
  using storage_type = std::uint16_t;
};

}  // namespace gemm_dtype

/// Largest K for which the int8 GEMM accumulator is exact in int32 on every backend.
///
/// Derivation: every backend computes sum_k (x[k] - zx) * w[k] with x - zx in [-255, 255]
/// (uint8 activations with any zero point, or int8 ones) and w in [-127, 127], so one product
/// is at most 255 * 127 = 32385 in magnitude. Kernels accumulate modulo 2^32 (vpdpbusd,
/// vpmaddwd, SDOT and the scalar twin all wrap, none saturates), and the VNNI shift of int8
/// activations by +128 into uint8 is undone by subtracting 128 * column_sum, also modulo 2^32.
/// The result is therefore exact whenever the true sum fits in int32:
/// K * 32385 <= 2^31 - 1  <=>  K <= 66311  (= max_exact_k<qs8, qc8w>() of quant/params.hpp).
inline constexpr index_t gemm_max_exact_k = max_exact_k<qs8, qc8w>();
static_assert(gemm_max_exact_k == 66311, "255 * 127 per term");

}  // namespace lightq
