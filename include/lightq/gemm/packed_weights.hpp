// packed_weights<W, Arch>: weights W[N, K] packed once into the panels of the backend's
// micro-kernel, with the per-column sums and scales the output stage needs.
#pragma once

#include <cmath>
#include <cstdint>

#include "lightq/core/aligned.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/detail/half_bits.hpp"
#include "lightq/gemm/packing.hpp"
#include "lightq/gemm/registry.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// The activations weights W are multiplied with unless a packer says otherwise: int8 for qc8w,
/// fp32 for f32 and f16.
template <class W>
using default_gemm_activation_t = std::conditional_t<std::is_same_v<W, gemm_dtype::qc8w>, gemm_dtype::qs8, gemm_dtype::f32>;

/// Weights of a linear layer, W[N, K] (N output channels), packed for backend `Arch` and
/// activations `A`. W is gemm_dtype::qc8w (int8 in [-127, 127] + one scale per channel), f32 or
/// f16; A is f16 only for binary16 weights multiplied with binary16 activations
/// (pack_weights_f16<Arch, gemm_dtype::f16>). Build with pack_weights / pack_weights_f16;
/// immutable afterwards; share across threads.
template <class W, class Arch = default_arch, class A = default_gemm_activation_t<W>>
class packed_weights {
 public:
  using weight_dtype = W;
  using activation_dtype = A;
  using arch_type = Arch;
  using kernel = gemm_kernel_for<Arch, A, W>;
  using w_type = typename kernel::w_type;

  packed_weights() = default;

  /// Output channels.
  index_t n() const noexcept { return n_; }
  /// Reduction length.
  index_t k() const noexcept { return k_; }
  /// K rounded up to the kernel's KR, N rounded up to NR.
  index_t k_padded() const noexcept { return k_padded_; }
  index_t n_padded() const noexcept { return n_padded_; }
  /// Packed panels (kernel::w_layout), n_padded / NR of them.
  const w_type* data() const noexcept { return data_.data(); }
  /// qc8w: sum_k W[j][k] for each channel (n_padded entries, zero in the padding).
  const std::int32_t* column_sums() const noexcept { return column_sums_.data(); }
  /// qc8w: scale of each channel (n_padded entries, 1 in the padding).
  const float* scales() const noexcept { return scales_.data(); }
  /// Bytes of packed weight data (what a GEMV streams).
  std::size_t weight_bytes() const noexcept { return data_.size() * sizeof(w_type); }
  /// Name of the micro-kernel the panels were packed for.
  static constexpr const char* kernel_name() noexcept { return kernel::name; }

  // Built by the pack functions below.
  packed_weights(index_t n, index_t k)
      : n_(n),
        k_(k),
        k_padded_(detail::round_up(k, kernel::kr)),
        n_padded_(detail::round_up(n, kernel::nr)),
        data_(static_cast<std::size_t>(detail::round_up(n, kernel::nr) / kernel::nr *
                                       kernel::w_layout::panel_size(detail::round_up(k, kernel::kr)))) {}
  w_type* mutable_data() noexcept { return data_.data(); }
  aligned_buffer<std::int32_t>& mutable_column_sums() noexcept { return column_sums_; }
  aligned_buffer<float>& mutable_scales() noexcept { return scales_; }

 private:
  index_t n_ = 0, k_ = 0, k_padded_ = 0, n_padded_ = 0;
  aligned_buffer<w_type> data_;
  aligned_buffer<std::int32_t> column_sums_;
  aligned_buffer<float> scales_;
};

/// Packs int8 weights w[N, K] (any strides; values in [-127, 127]) with per-channel scales
/// `scales[N]` (finite, > 0) for backend Arch. K must not exceed gemm_max_exact_k.
template <class Arch = default_arch>
packed_weights<gemm_dtype::qc8w, Arch> pack_weights(matrix_view<const std::int8_t> w, vector_view<const float> scales) {
  constexpr const char* where = "lightq::pack_weights(qc8w)";
  const index_t n = w.extent(0), k = w.extent(1);
  check(n >= 0 && k >= 0, where, "w extents ", w.extents_string(), " must be >= 0");
  check_equal(scales.extent(0), n, where, "scales.extent(0)", "w.extent(0) (N)");
  check(k <= gemm_max_exact_k, where, "K = ", k, " exceeds the largest K with exact int32 accumulation (",
        gemm_max_exact_k, " = (2^31 - 1) / (255 * 127))");
  packed_weights<gemm_dtype::qc8w, Arch> packed(n, k);
  using kernel = typename packed_weights<gemm_dtype::qc8w, Arch>::kernel;
  auto& sums = packed.mutable_column_sums();
  auto& sc = packed.mutable_scales();
  sums = aligned_buffer<std::int32_t>(static_cast<std::size_t>(packed.n_padded()));
  sc = aligned_buffer<float>(static_cast<std::size_t>(packed.n_padded()));
  for (index_t j = 0; j < packed.n_padded(); ++j) {
    std::int32_t sum = 0;
    if (j < n) {
      const float s = scales(j);
      if (!(std::isfinite(s) && s > 0.0f)) fail(where, "scales(", j, ") must be finite and > 0, got ", s);
      for (index_t kk = 0; kk < k; ++kk) {
        const std::int8_t v = w(j, kk);
        if (v == -128) fail(where, "w(", j, ", ", kk, ") = -128: qc8w weights must be in [-127, 127]");
        sum += v;
      }
      sc[static_cast<std::size_t>(j)] = s;
    } else {
      sc[static_cast<std::size_t>(j)] = 1.0f;
    }
    sums[static_cast<std::size_t>(j)] = sum;
  }
  detail::pack_panels<kernel, typename kernel::w_layout>(
      n, k, packed.k_padded(), [&](index_t j, index_t kk) { return w(j, kk); }, packed.mutable_data());
  return packed;
}

/// Packs fp32 weights w[N, K] (any strides) for backend Arch.
template <class Arch = default_arch>
packed_weights<gemm_dtype::f32, Arch> pack_weights(matrix_view<const float> w) {
  const index_t n = w.extent(0), k = w.extent(1);
  check(n >= 0 && k >= 0, "lightq::pack_weights(f32)", "w extents ", w.extents_string(), " must be >= 0");
  packed_weights<gemm_dtype::f32, Arch> packed(n, k);
  using kernel = typename packed_weights<gemm_dtype::f32, Arch>::kernel;
  detail::pack_panels<kernel, typename kernel::w_layout>(
      n, k, packed.k_padded(), [&](index_t j, index_t kk) { return w(j, kk); }, packed.mutable_data());
  return packed;
}

/// Packs fp32 weights w[N, K] as IEEE binary16 (round to nearest even) for backend Arch:
/// half the bytes of f32, widened exactly to fp32 inside the kernel. A = gemm_dtype::f16 packs
/// them for lightq::half activations (fp16 arithmetic where the backend has it: neon_dotprod).
template <class Arch = default_arch, class A = gemm_dtype::f32>
packed_weights<gemm_dtype::f16, Arch, A> pack_weights_f16(matrix_view<const float> w) {
  const index_t n = w.extent(0), k = w.extent(1);
  check(n >= 0 && k >= 0, "lightq::pack_weights_f16", "w extents ", w.extents_string(), " must be >= 0");
  packed_weights<gemm_dtype::f16, Arch, A> packed(n, k);
  using kernel = typename packed_weights<gemm_dtype::f16, Arch, A>::kernel;
  detail::pack_panels<kernel, typename kernel::w_layout>(
      n, k, packed.k_padded(), [&](index_t j, index_t kk) { return detail::float_to_half_bits(w(j, kk)); },
      packed.mutable_data());
  return packed;
}

/// Packs binary16 weights given as their bits, w[N, K], for backend Arch (and activations A, as
/// pack_weights_f16).
template <class Arch = default_arch, class A = gemm_dtype::f32>
packed_weights<gemm_dtype::f16, Arch, A> pack_weights_f16_bits(matrix_view<const std::uint16_t> w) {
  const index_t n = w.extent(0), k = w.extent(1);
  check(n >= 0 && k >= 0, "lightq::pack_weights_f16_bits", "w extents ", w.extents_string(), " must be >= 0");
  packed_weights<gemm_dtype::f16, Arch, A> packed(n, k);
  using kernel = typename packed_weights<gemm_dtype::f16, Arch, A>::kernel;
  detail::pack_panels<kernel, typename kernel::w_layout>(
      n, k, packed.k_padded(), [&](index_t j, index_t kk) { return w(j, kk); }, packed.mutable_data());
  return packed;
}

}  // namespace lightq
