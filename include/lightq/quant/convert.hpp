// Bulk fp32 <-> fp16 and fp32 <-> bf16 conversion over raw arrays and tensor views.
//
// Every function rounds exactly as core/half.hpp does (nearest even, subnormals kept, overflow to
// Inf, NaN quieted with sign and leading payload kept), on every backend: the SIMD kernels
// (quant/detail/convert_*.hpp) equal the scalar twin bit for bit on every input.
//
//   lightq::convert_f32_to_f16(src, dst, n);                // float[n] -> half[n]
//   lightq::convert_bf16_to_f32(weights.view(), out.view());  // views of equal extents
//
// Arguments are validated once here: counts >= 0, non-null pointers, equal extents, no overlap
// between input and output (for views: of the address ranges they span, which rejects
// interleaved but disjoint views too), no zero stride in the output. Views may be strided (any
// rank; padded rows run the SIMD kernel row by row, a non-unit innermost stride runs the scalar
// twin). Nothing outside the output is written, and nothing outside the input is read.
#pragma once

#include <cstddef>
#include <limits>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/half.hpp"
#include "lightq/quant/detail/convert_avx2.hpp"
#include "lightq/quant/detail/convert_avx512.hpp"
#include "lightq/quant/detail/convert_neon.hpp"
#include "lightq/quant/detail/convert_scalar.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

template <class Arch, class From, class To>
void convert_array(const From* in, To* out, index_t count, const char* where) {
  static_assert(arch_compiled_v<Arch>, "lightq: this backend is not enabled by the compiler flags of this translation unit");
  check(count >= 0, where, "count = ", count, " must be >= 0");
  if (count == 0) return;
  check(in != nullptr, where, "in is null with count = ", count);
  check(out != nullptr, where, "out is null with count = ", count);
  check(count <= std::numeric_limits<index_t>::max() / static_cast<index_t>(sizeof(float)), where, "count = ", count,
        " is too large");
  const auto n = static_cast<std::size_t>(count);
  check_no_alias(out, n * sizeof(To), in, n * sizeof(From), where, "out", "in");
  convert_kernels<Arch>::run(in, out, count);
}

template <class Arch, class From, class To, std::size_t Rank>
void convert_view(const tensor_view<const From, Rank>& in, const tensor_view<To, Rank>& out, const char* where) {
  static_assert(arch_compiled_v<Arch>, "lightq: this backend is not enabled by the compiler flags of this translation unit");
  if (in.extents() != out.extents())
    fail(where, "in extents ", in.extents_string(), " must equal out extents ", out.extents_string());
  for (std::size_t d = 0; d < Rank; ++d)
    check(in.extent(d) >= 0, where, "extents ", in.extents_string(), " must be >= 0");
  if (out.empty()) return;
  check(in.data() != nullptr, where, "in has a null data pointer");
  check(out.data() != nullptr, where, "out has a null data pointer");
  for (std::size_t d = 0; d < Rank; ++d)
    check(out.extent(d) == 1 || out.stride(d) != 0, where, "out has stride 0 in dimension ", d,
          " (it would write one element several times)");
  check_no_alias(out, in, where, "out", "in");

  if (in.is_contiguous() && out.is_contiguous()) {
    convert_kernels<Arch>::run(in.data(), out.data(), in.size());
    return;
  }
  // Walk the rows (every dimension but the last) with an odometer; convert each row.
  constexpr std::size_t last = Rank - 1;
  const index_t cols = in.extent(last);
  const index_t in_step = in.stride(last), out_step = out.stride(last);
  const bool unit_rows = cols == 1 || (in_step == 1 && out_step == 1);
  const index_t rows = in.size() / cols;
  extents_t<Rank> row_index{};
  index_t in_offset = 0, out_offset = 0;
  for (index_t r = 0; r < rows; ++r) {
    const From* src = in.data() + in_offset;
    To* dst = out.data() + out_offset;
    if (unit_rows) {
      convert_kernels<Arch>::run(src, dst, cols);
    } else {
      for (index_t j = 0; j < cols; ++j) dst[j * out_step] = convert_one(src[j * in_step], static_cast<To*>(nullptr));
    }
    // Next row: increment the odometer over dimensions [0, last).
    for (std::size_t d = last; d-- > 0;) {
      in_offset += in.stride(d);
      out_offset += out.stride(d);
      if (++row_index[d] < in.extent(d)) break;
      in_offset -= in.stride(d) * in.extent(d);
      out_offset -= out.stride(d) * out.extent(d);
      row_index[d] = 0;
    }
  }
}

template <class T, class Want>
inline constexpr bool is_input_of_v = std::is_same_v<std::remove_const_t<T>, Want>;

}  // namespace detail

// ---- Raw arrays: out[i] = convert(in[i]) for i in [0, count); in and out must not overlap. ----

/// float[count] -> half[count], round to nearest even.
template <class Arch = default_arch>
void convert_f32_to_f16(const float* in, half* out, index_t count) {
  detail::convert_array<Arch>(in, out, count, "convert_f32_to_f16");
}
/// half[count] -> float[count], exact.
template <class Arch = default_arch>
void convert_f16_to_f32(const half* in, float* out, index_t count) {
  detail::convert_array<Arch>(in, out, count, "convert_f16_to_f32");
}
/// float[count] -> bfloat16[count], round to nearest even.
template <class Arch = default_arch>
void convert_f32_to_bf16(const float* in, bfloat16* out, index_t count) {
  detail::convert_array<Arch>(in, out, count, "convert_f32_to_bf16");
}
/// bfloat16[count] -> float[count], exact.
template <class Arch = default_arch>
void convert_bf16_to_f32(const bfloat16* in, float* out, index_t count) {
  detail::convert_array<Arch>(in, out, count, "convert_bf16_to_f32");
}

// ---- Views of equal extents (any rank, any strides); in may be a view of T or const T. ----

/// out = half(in), element by element.
template <class Arch = default_arch, class In, std::size_t Rank,
          std::enable_if_t<detail::is_input_of_v<In, float>, int> = 0>
void convert_f32_to_f16(const tensor_view<In, Rank>& in, const tensor_view<half, Rank>& out) {
  detail::convert_view<Arch, float, half, Rank>(in, out, "convert_f32_to_f16");
}
/// out = float(in), element by element.
template <class Arch = default_arch, class In, std::size_t Rank,
          std::enable_if_t<detail::is_input_of_v<In, half>, int> = 0>
void convert_f16_to_f32(const tensor_view<In, Rank>& in, const tensor_view<float, Rank>& out) {
  detail::convert_view<Arch, half, float, Rank>(in, out, "convert_f16_to_f32");
}
/// out = bfloat16(in), element by element.
template <class Arch = default_arch, class In, std::size_t Rank,
          std::enable_if_t<detail::is_input_of_v<In, float>, int> = 0>
void convert_f32_to_bf16(const tensor_view<In, Rank>& in, const tensor_view<bfloat16, Rank>& out) {
  detail::convert_view<Arch, float, bfloat16, Rank>(in, out, "convert_f32_to_bf16");
}
/// out = float(in), element by element.
template <class Arch = default_arch, class In, std::size_t Rank,
          std::enable_if_t<detail::is_input_of_v<In, bfloat16>, int> = 0>
void convert_bf16_to_f32(const tensor_view<In, Rank>& in, const tensor_view<float, Rank>& out) {
  detail::convert_view<Arch, bfloat16, float, Rank>(in, out, "convert_bf16_to_f32");
}

}  // namespace lightq
