// The GEMM output stage, written once for every kernel and backend: zero-point correction,
// bias, requantization (quant/requantize.hpp), dequantization, clamping, store.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/quant/detail/simd_ops.hpp"
#include "lightq/quant/requantize.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// Scalar twin of the integer correction: acc - zp_row * column_sum + bias, modulo 2^32.
LIGHTQ_ALWAYS_INLINE std::int32_t gemm_correct_int32(std::int32_t acc, std::int32_t row_zero_point,
                                                     std::int32_t column_sum, std::int32_t bias) noexcept {
  const std::uint32_t v = static_cast<std::uint32_t>(acc) -
                          static_cast<std::uint32_t>(row_zero_point) * static_cast<std::uint32_t>(column_sum) +
                          static_cast<std::uint32_t>(bias);
  return static_cast<std::int32_t>(v);
}

/// Scalar twin of the dequantizing store: fma(float(v) * column_multiplier, row_scale, bias).
LIGHTQ_ALWAYS_INLINE float gemm_dequantize(std::int32_t v, float column_multiplier, float row_scale, float bias) noexcept {
  return std::fma(static_cast<float>(v) * column_multiplier, row_scale, bias);
}

/// Finishes one element (scalar path; equals the vector path bit for bit).
template <class Acc>
LIGHTQ_ALWAYS_INLINE void gemm_finish_scalar(Acc acc, index_t i, index_t j, const gemm_output_tile& o) noexcept {
  if constexpr (std::is_same_v<Acc, float>) {
    float y = acc + (o.bias_f32 ? o.bias_f32[j] : 0.0f);
    y = std::min(std::max(y, o.min), o.max);
    static_cast<float*>(o.data)[i * o.row_stride + j] = y;
  } else {
    const std::int32_t v =
        o.column_offsets ? gemm_correct_int32(acc, 0, 0, o.column_offsets[j])
                         : gemm_correct_int32(acc, o.row_zero_points[i], o.column_sums[j], o.bias_i32 ? o.bias_i32[j] : 0);
    switch (o.kind) {
      case gemm_output_kind::int32:
        static_cast<std::int32_t*>(o.data)[i * o.row_stride + j] = v;
        break;
      case gemm_output_kind::int8:
        static_cast<std::int8_t*>(o.data)[i * o.row_stride + j] =
            static_cast<std::int8_t>(requantize_fp32(v, o.column_multipliers[j], o.bounds));
        break;
      case gemm_output_kind::uint8:
        static_cast<std::uint8_t*>(o.data)[i * o.row_stride + j] =
            static_cast<std::uint8_t>(requantize_fp32(v, o.column_multipliers[j], o.bounds));
        break;
      case gemm_output_kind::float32: {
        float y = gemm_dequantize(v, o.column_multipliers[j], o.row_scales[i], o.bias_f32 ? o.bias_f32[j] : 0.0f);
        y = std::min(std::max(y, o.min), o.max);
        static_cast<float*>(o.data)[i * o.row_stride + j] = y;
        break;
      }
    }
  }
}

/// Finishes the rows x cols tile at (row0, col0) of a job from raw accumulators `acc` (row
/// stride `acc_stride`): the one
/// output stage of every GEMM kernel. Vector code for whole registers, the scalar twin for the
/// column tail; both give identical bits.
template <class Arch, class Acc>
void finish_gemm_tile(const Acc* acc, index_t acc_stride, index_t rows, index_t cols, const gemm_output_tile& job_out,
                      index_t row0, index_t col0) noexcept {
  // The stage of this tile: pointers advanced to (row0, col0).
  gemm_output_tile o = job_out;
  const std::size_t element_size =
      o.kind == gemm_output_kind::int8 || o.kind == gemm_output_kind::uint8 ? 1 : 4;
  o.data = static_cast<unsigned char*>(o.data) + static_cast<std::size_t>(row0 * o.row_stride + col0) * element_size;
  if (o.column_sums) o.column_sums += col0;
  if (o.row_zero_points) o.row_zero_points += row0;
  if (o.bias_i32) o.bias_i32 += col0;
  if (o.column_offsets) o.column_offsets += col0;
  if (o.column_multipliers) o.column_multipliers += col0;
  if (o.row_scales) o.row_scales += row0;
  if (o.bias_f32) o.bias_f32 += col0;
  index_t vector_cols = 0;
#if LIGHTQ_QUANT_XSIMD  // xsimd declares no batch API on a target without SIMD (AArch64 +nosimd)
  using xarch = xsimd_arch_t<Arch>;
  if constexpr (!std::is_void_v<xarch>) {
    using fb = xsimd::batch<float, xarch>;
    using ib = xsimd::batch<std::int32_t, xarch>;
    constexpr index_t width = static_cast<index_t>(fb::size);
    vector_cols = cols / width * width;
    // One loop nest per output kind and correction form: no test in the inner loop.
    const auto rows_loop = [&](auto kind_tag, auto offsets_tag) {
      constexpr gemm_output_kind kind = decltype(kind_tag)::value;
      constexpr bool offsets = decltype(offsets_tag)::value;
      for (index_t i = 0; i < rows; ++i) {
        const Acc* row = acc + i * acc_stride;
        for (index_t j = 0; j < vector_cols; j += width) {
          if constexpr (std::is_same_v<Acc, float>) {
            fb y = fb::load_unaligned(row + j);
            if (o.bias_f32) y = y + fb::load_unaligned(o.bias_f32 + j);
            y = xsimd::min(xsimd::max(y, fb(o.min)), fb(o.max));
            y.store_unaligned(static_cast<float*>(o.data) + i * o.row_stride + j);
          } else {
            ib v = ib::load_unaligned(row + j);
            if constexpr (offsets) {
              v = v + ib::load_unaligned(o.column_offsets + j);
            } else {
              v = v - ib(o.row_zero_points[i]) * ib::load_unaligned(o.column_sums + j);
              if (o.bias_i32) v = v + ib::load_unaligned(o.bias_i32 + j);
            }
            if constexpr (kind == gemm_output_kind::int32) {
              v.store_unaligned(static_cast<std::int32_t*>(o.data) + i * o.row_stride + j);
            } else if constexpr (kind == gemm_output_kind::float32) {
              const fb bias = o.bias_f32 ? fb::load_unaligned(o.bias_f32 + j) : fb(0.0f);
              fb y = fused_multiply_add<xarch>(xsimd::to_float(v) * fb::load_unaligned(o.column_multipliers + j),
                                               fb(o.row_scales[i]), bias);
              y = xsimd::min(xsimd::max(y, fb(o.min)), fb(o.max));
              y.store_unaligned(static_cast<float*>(o.data) + i * o.row_stride + j);
            } else {
              const ib q = requantize_fp32(v, fb::load_unaligned(o.column_multipliers + j), o.bounds);
              if constexpr (kind == gemm_output_kind::int8)
                store_narrow<xarch>(static_cast<std::int8_t*>(o.data) + i * o.row_stride + j, q);
              else
                store_narrow<xarch>(static_cast<std::uint8_t*>(o.data) + i * o.row_stride + j, q);
            }
          }
        }
      }
    };
    using kind_int8 = std::integral_constant<gemm_output_kind, gemm_output_kind::int8>;
    using kind_uint8 = std::integral_constant<gemm_output_kind, gemm_output_kind::uint8>;
    using kind_int32 = std::integral_constant<gemm_output_kind, gemm_output_kind::int32>;
    using kind_float = std::integral_constant<gemm_output_kind, gemm_output_kind::float32>;
    const auto dispatch = [&](auto offsets_tag) {
      switch (o.kind) {
        case gemm_output_kind::int8: rows_loop(kind_int8{}, offsets_tag); break;
        case gemm_output_kind::uint8: rows_loop(kind_uint8{}, offsets_tag); break;
        case gemm_output_kind::int32: rows_loop(kind_int32{}, offsets_tag); break;
        case gemm_output_kind::float32: rows_loop(kind_float{}, offsets_tag); break;
      }
    };
    if constexpr (std::is_same_v<Acc, float>)
      rows_loop(kind_float{}, std::false_type{});
    else if (o.column_offsets)
      dispatch(std::true_type{});
    else
      dispatch(std::false_type{});
  }
#endif
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = vector_cols; j < cols; ++j) gemm_finish_scalar<Acc>(acc[i * acc_stride + j], i, j, o);
}

/// The common tail of every micro-kernel: the accumulators of a finished K range are in `tile`
/// (MR x NR, row stride NR); store them raw into args.partial or finish them into args.out.
template <class Arch, index_t NR, class Acc>
LIGHTQ_ALWAYS_INLINE void store_gemm_tile(const Acc* tile, const gemm_tile_args<Acc>& args) noexcept {
  if (args.out) {
    finish_gemm_tile<Arch, Acc>(tile, NR, args.rows, args.cols, *args.out, args.row0, args.col0);
  } else {
    for (index_t i = 0; i < args.rows; ++i)
      for (index_t j = 0; j < NR; ++j) args.partial[i * args.partial_stride + j] = tile[i * NR + j];
  }
}

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END
