// Public GEMM API: linear layers y[M, N] = x[M, K] * W[N, K]^T (+ bias) on packed weights, and
// the plain form C = A * B on strided views; int8 (qs8/qu8/qd8 x qc8w), fp16-weight and fp32.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/half.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/gemm/driver.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/packed_weights.hpp"
#include "lightq/gemm/registry.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/quant/quantize.hpp"
#include "lightq/tensor/tensor.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Affine quantization of a tensor: real = scale * (q - zero_point).
struct quantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// Fused activation, in real units: the output is clamped to [min, max] (before it is
/// quantized, for int8 outputs). Raw int32 outputs are never clamped.
struct output_clamp {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  static constexpr output_clamp none() noexcept { return {}; }
  static constexpr output_clamp relu() noexcept { return {0.0f, std::numeric_limits<float>::infinity()}; }
  static constexpr output_clamp relu6() noexcept { return {0.0f, 6.0f}; }
  static constexpr output_clamp range(float lo, float hi) noexcept { return {lo, hi}; }
};

namespace detail {

template <class T>
inline constexpr bool is_q8_v = std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;

template <class Y>
constexpr gemm_output_kind gemm_output_kind_of() noexcept {
  if constexpr (std::is_same_v<Y, std::int8_t>) return gemm_output_kind::int8;
  else if constexpr (std::is_same_v<Y, std::uint8_t>) return gemm_output_kind::uint8;
  else if constexpr (std::is_same_v<Y, std::int32_t>) return gemm_output_kind::int32;
  else return gemm_output_kind::float32;
}

inline void check_clamp(const output_clamp& c, const char* where) {
  if (!(c.min <= c.max)) fail(where, "clamp.min (", c.min, ") must be <= clamp.max (", c.max, ") and not NaN");
}

/// The quantized clamp bounds of an int8/uint8 output: [qmin, qmax] of the type narrowed by
/// the real clamp, each bound round_half_even(bound / scale) + zero_point.
template <class Y>
requantize_bounds quantized_bounds(const quantization& q, const output_clamp& c) noexcept {
  const double tmin = std::numeric_limits<Y>::min(), tmax = std::numeric_limits<Y>::max();
  auto to_q = [&](float v, double fallback) {
    if (!std::isfinite(v)) return fallback;
    const double r = std::nearbyint(static_cast<double>(v) / static_cast<double>(q.scale)) + q.zero_point;
    return std::min(tmax, std::max(tmin, r));
  };
  const double lo = to_q(c.min, tmin), hi = to_q(c.max, tmax);
  return make_requantize_bounds(q.zero_point, static_cast<std::int32_t>(lo), static_cast<std::int32_t>(std::max(lo, hi)));
}

/// Checks the shapes shared by every linear form.
template <class X, class Y, class W, class Arch, class A, class B>
void check_linear_shapes(const matrix_view<X>& x, const packed_weights<W, Arch, A>& w, const vector_view<B>& bias,
                         const matrix_view<Y>& y, const char* where) {
  check(x.extent(0) >= 0 && x.extent(1) >= 0, where, "x extents ", x.extents_string(), " must be >= 0");
  check_equal(x.extent(1), w.k(), where, "x.extent(1) (K)", "the K the weights were packed for");
  check_equal(y.extent(0), x.extent(0), where, "y.extent(0) (M)", "x.extent(0) (M)");
  check_equal(y.extent(1), w.n(), where, "y.extent(1) (N)", "the N the weights were packed for");
  if (bias.extent(0) != 0) {
    check_equal(bias.extent(0), w.n(), where, "bias.extent(0)", "N (or 0 for no bias)");
    check(bias.extent(0) <= 1 || bias.stride(0) == 1, where, "bias must be contiguous, stride ", bias.stride(0));
  }
  check(w.k() <= gemm_max_exact_k || !std::is_same_v<W, gemm_dtype::qc8w>, where, "K = ", w.k(),
        " exceeds the largest K with exact int32 accumulation (", gemm_max_exact_k, ")");
  check_no_alias(y, x, where, "y", "x");
  check_no_alias(y, bias, where, "y", "bias");
}

/// Gives the kernels a row-contiguous output (unit column stride): `y` itself, or a temporary
/// copied back into `y` by finish().
template <class Y>
class row_contiguous_output {
 public:
  explicit row_contiguous_output(const matrix_view<Y>& y) : y_(y) {
    if (y.extent(1) > 1 && y.stride(1) != 1) {
      temp_ = tensor<Y, 2>({y.extent(0), y.extent(1)});
      data_ = temp_.data();
      row_stride_ = y.extent(1);
    } else {
      data_ = y.data();
      row_stride_ = y.stride(0);
    }
  }
  Y* data() const noexcept { return data_; }
  index_t row_stride() const noexcept { return row_stride_; }
  void finish() {
    if (data_ == y_.data()) return;
    for (index_t i = 0; i < y_.extent(0); ++i)
      for (index_t j = 0; j < y_.extent(1); ++j) y_(i, j) = data_[i * row_stride_ + j];
  }

 private:
  matrix_view<Y> y_;
  tensor<Y, 2> temp_;
  Y* data_ = nullptr;
  index_t row_stride_ = 0;
};

/// Packs int8/uint8 rows for an integer kernel, re-encoded by `shift` (kernel::a_shift_from_*).
template <class Kernel, class T>
void pack_q8_rows(const matrix_view<const T>& rows, index_t k_padded, int shift, typename Kernel::a_type* dst) {
  using a_type = typename Kernel::a_type;
  if constexpr (Kernel::kr == 4 && sizeof(a_type) == 1) {
    if (rows.stride(1) == 1 || rows.extent(1) <= 1) {
      pack_activations_bytes<Kernel>(rows, k_padded, shift, dst);
      return;
    }
  }
  pack_activations<Kernel>(
      rows, k_padded, [shift](T v, index_t) { return static_cast<a_type>(static_cast<int>(v) + shift); }, dst);
}

/// Integer linear layer after validation. X: int8_t (qs8), uint8_t (qu8) or float (qd8:
/// quantized per row here). Y: int8_t, uint8_t, int32_t or float.
template <class Arch, class X, class Y>
void linear_q8(const matrix_view<const X>& x, const quantization& x_quant, const packed_weights<gemm_dtype::qc8w, Arch>& w,
               const std::int32_t* bias_i32, const float* bias_f32, const matrix_view<Y>& y, const quantization& y_quant,
               const output_clamp& clamp, context* user_ctx) {
  using kernel = typename packed_weights<gemm_dtype::qc8w, Arch>::kernel;
  using a_type = typename kernel::a_type;
  const index_t m = x.extent(0), n = w.n(), k = w.k();
  if (m == 0 || n == 0) return;
  context local_ctx;
  context& ctx = user_ctx ? *user_ctx : local_ctx;
  auto* row_zero_points = ctx.scratch_as<std::int32_t>(gemm_slot_rows, static_cast<std::size_t>(2 * m));
  auto* row_scales = reinterpret_cast<float*>(row_zero_points + m);
  // Per column: the requantization multiplier, then (one zero point for every row) the
  // correction bias - zp * column_sum folded into one int32.
  auto* column_multipliers = ctx.scratch_as<float>(gemm_slot_columns, static_cast<std::size_t>(2 * n));
  auto* column_offsets = reinterpret_cast<std::int32_t*>(column_multipliers + n);

  // qd8: each row quantized on the fly (quant/quantize.hpp) into q, which is then packed.
  const std::int8_t* q = nullptr;
  if constexpr (std::is_same_v<X, float>) {
    auto* qw = ctx.scratch_as<std::int8_t>(gemm_slot_dynamic, static_cast<std::size_t>(m * k) +
                                                               sizeof(qd8_row_params) * static_cast<std::size_t>(m) + 64);
    auto* rows = reinterpret_cast<qd8_row_params*>(qw + round_up(m * k, 64));
    quantize_dynamic_rows<Arch>(x, matrix_view<std::int8_t>(qw, {m, k}), vector_view<qd8_row_params>(rows, {m}));
    for (index_t i = 0; i < m; ++i) {
      row_zero_points[i] = rows[i].zero_point + kernel::a_shift_from_qs8;
      row_scales[i] = rows[i].scale;
    }
    q = qw;
  } else {
    constexpr int shift = std::is_same_v<X, std::int8_t> ? kernel::a_shift_from_qs8 : kernel::a_shift_from_qu8;
    for (index_t i = 0; i < m; ++i) {
      row_zero_points[i] = x_quant.zero_point + shift;
      row_scales[i] = x_quant.scale;
    }
  }

  row_contiguous_output<Y> out_buffer(y);
  gemm_job<kernel> job;
  job.m = m;
  job.n = n;
  job.k_padded = w.k_padded();
  job.w = w.data();
  job.out.kind = gemm_output_kind_of<Y>();
  job.out.data = out_buffer.data();
  job.out.row_stride = out_buffer.row_stride();
  job.out.column_sums = w.column_sums();
  job.out.row_zero_points = row_zero_points;
  job.out.bias_i32 = bias_i32;
  job.out.bias_f32 = bias_f32;
  job.out.row_scales = row_scales;
  if constexpr (!std::is_same_v<X, float>) {
    for (index_t j = 0; j < n; ++j)
      column_offsets[j] = gemm_correct_int32(0, row_zero_points[0], w.column_sums()[j], bias_i32 ? bias_i32[j] : 0);
    job.out.column_offsets = column_offsets;
  }
  if constexpr (is_q8_v<Y>) {
    for (index_t j = 0; j < n; ++j) column_multipliers[j] = x_quant.scale * w.scales()[j] / y_quant.scale;
    job.out.column_multipliers = column_multipliers;
    job.out.bounds = quantized_bounds<Y>(y_quant, clamp);
  } else {
    job.out.column_multipliers = w.scales();
    job.out.min = clamp.min;
    job.out.max = clamp.max;
  }
  const index_t k_padded = w.k_padded();
  if constexpr (std::is_same_v<X, float>) {
    run_gemm_job_packing(job, ctx, matrix_view<const std::int8_t>(q, {m, k}),
                         [&](const matrix_view<const std::int8_t>& rows, a_type* dst) {
                           pack_q8_rows<kernel>(rows, k_padded, kernel::a_shift_from_qs8, dst);
                         });
  } else {
    constexpr int shift = std::is_same_v<X, std::int8_t> ? kernel::a_shift_from_qs8 : kernel::a_shift_from_qu8;
    run_gemm_job_packing(job, ctx, x, [&](const matrix_view<const X>& rows, a_type* dst) {
      pack_q8_rows<kernel>(rows, k_padded, shift, dst);
    });
  }
  out_buffer.finish();
}

/// Float linear layer after validation: W is f32 or f16; X is float, or half (binary16
/// activations, with weights packed for them).
template <class Arch, class W, class A, class X>
void linear_float(const matrix_view<const X>& x, const packed_weights<W, Arch, A>& w, const float* bias,
                  const matrix_view<float>& y, const output_clamp& clamp, context* user_ctx) {
  using kernel = typename packed_weights<W, Arch, A>::kernel;
  using a_type = typename kernel::a_type;
  const index_t m = x.extent(0), n = w.n();
  if (m == 0 || n == 0) return;
  context local_ctx;
  context& ctx = user_ctx ? *user_ctx : local_ctx;
  row_contiguous_output<float> out_buffer(y);
  gemm_job<kernel> job;
  job.m = m;
  job.n = n;
  job.k_padded = w.k_padded();
  job.w = w.data();
  job.out.kind = gemm_output_kind::float32;
  job.out.data = out_buffer.data();
  job.out.row_stride = out_buffer.row_stride();
  job.out.bias_f32 = bias;
  job.out.min = clamp.min;
  job.out.max = clamp.max;
  const index_t k_padded = w.k_padded();
  run_gemm_job_packing(job, ctx, x, [&](const matrix_view<const X>& rows, a_type* dst) {
    if constexpr (std::is_same_v<X, float>) {
      pack_activations_f32<kernel>(rows, k_padded, dst);
    } else if constexpr (std::is_same_v<a_type, float>) {  // binary16 widened exactly for fp32 arithmetic
      pack_activations<kernel>(rows, k_padded, [](half v, index_t) { return half_bits_to_float(v.bits()); }, dst);
    } else {  // binary16 kept for fp16 arithmetic
      pack_activations<kernel>(rows, k_padded, [](half v, index_t) { return v.bits(); }, dst);
    }
  });
  out_buffer.finish();
}

template <class X>
void check_activation_quant(const quantization& q, const char* where) {
  check_scale(q.scale, where, "x_quant.scale");
  check_range(q.zero_point, std::numeric_limits<X>::min(), std::numeric_limits<X>::max(), where, "x_quant.zero_point");
}

}  // namespace detail

/// Quantized linear layer, int8 out: y = requantize(sum_k (x - zx) * W + bias), clamped.
/// x[M, K]: int8_t (qs8) or uint8_t (qu8), any strides, per-tensor `x_quant`.
/// bias[N]: int32 at scale x_quant.scale * w_scale[j], or an empty view for none.
/// y[M, N]: int8_t or uint8_t, any strides, per-tensor `y_quant`; `clamp` in real units.
template <class Arch, class X, class Y,
          std::enable_if_t<detail::is_q8_v<std::remove_const_t<X>> && detail::is_q8_v<Y>, int> = 0>
void linear(matrix_view<X> x, const quantization& x_quant, const packed_weights<gemm_dtype::qc8w, Arch>& w,
            vector_view<const std::int32_t> bias, matrix_view<Y> y, const quantization& y_quant,
            const output_clamp& clamp = {}, context* ctx = nullptr) {
  using XT = std::remove_const_t<X>;
  constexpr const char* where = "lightq::linear(q8 -> q8)";
  detail::check_linear_shapes(x, w, bias, y, where);
  detail::check_activation_quant<XT>(x_quant, where);
  check_scale(y_quant.scale, where, "y_quant.scale");
  check_range(y_quant.zero_point, std::numeric_limits<Y>::min(), std::numeric_limits<Y>::max(), where, "y_quant.zero_point");
  detail::check_clamp(clamp, where);
  detail::linear_q8<Arch, XT, Y>(matrix_view<const XT>(x), x_quant, w, bias.extent(0) ? bias.data() : nullptr, nullptr, y,
                                 y_quant, clamp, ctx);
}

/// Quantized linear layer, fp32 out (dequantized): y = clamp(sum_k (x - zx) * W * x_scale *
/// w_scale[j] + bias[j]). bias[N] is fp32 (or empty).
template <class Arch, class X, std::enable_if_t<detail::is_q8_v<std::remove_const_t<X>>, int> = 0>
void linear(matrix_view<X> x, const quantization& x_quant, const packed_weights<gemm_dtype::qc8w, Arch>& w,
            vector_view<const float> bias, matrix_view<float> y, const output_clamp& clamp = {}, context* ctx = nullptr) {
  using XT = std::remove_const_t<X>;
  constexpr const char* where = "lightq::linear(q8 -> f32)";
  detail::check_linear_shapes(x, w, bias, y, where);
  detail::check_activation_quant<XT>(x_quant, where);
  detail::check_clamp(clamp, where);
  detail::linear_q8<Arch, XT, float>(matrix_view<const XT>(x), x_quant, w, nullptr, bias.extent(0) ? bias.data() : nullptr, y,
                                     quantization{}, clamp, ctx);
}

/// Quantized linear layer, raw int32 out: y = sum_k (x - x_zero_point) * W + bias (modulo 2^32
/// for the bias add; the sum itself is exact for K <= gemm_max_exact_k).
template <class Arch, class X, std::enable_if_t<detail::is_q8_v<std::remove_const_t<X>>, int> = 0>
void linear(matrix_view<X> x, std::int32_t x_zero_point, const packed_weights<gemm_dtype::qc8w, Arch>& w,
            vector_view<const std::int32_t> bias, matrix_view<std::int32_t> y, context* ctx = nullptr) {
  using XT = std::remove_const_t<X>;
  constexpr const char* where = "lightq::linear(q8 -> int32)";
  detail::check_linear_shapes(x, w, bias, y, where);
  check_range(x_zero_point, std::numeric_limits<XT>::min(), std::numeric_limits<XT>::max(), where, "x_zero_point");
  detail::linear_q8<Arch, XT, std::int32_t>(matrix_view<const XT>(x), quantization{1.0f, x_zero_point}, w,
                                            bias.extent(0) ? bias.data() : nullptr, nullptr, y, quantization{}, {}, ctx);
}

/// Dynamically quantized linear layer (qd8 x qc8w): fp32 x, each row quantized to int8 with its
/// own scale and zero point, int8 GEMM, fp32 y = clamp(dequantized + bias). The drop-in
/// replacement of an fp32 layer.
template <class Arch>
void linear(matrix_view<const float> x, const packed_weights<gemm_dtype::qc8w, Arch>& w, vector_view<const float> bias,
            matrix_view<float> y, const output_clamp& clamp = {}, context* ctx = nullptr) {
  constexpr const char* where = "lightq::linear(qd8 -> f32)";
  detail::check_linear_shapes(x, w, bias, y, where);
  detail::check_clamp(clamp, where);
  detail::linear_q8<Arch, float, float>(x, quantization{}, w, nullptr, bias.extent(0) ? bias.data() : nullptr, y,
                                        quantization{}, clamp, ctx);
}

/// Float linear layer: y = clamp(x * W^T + bias) in fp32, W packed as f32 or f16.
template <class Arch, class W,
          std::enable_if_t<std::is_same_v<W, gemm_dtype::f32> || std::is_same_v<W, gemm_dtype::f16>, int> = 0>
void linear(matrix_view<const float> x, const packed_weights<W, Arch>& w, vector_view<const float> bias, matrix_view<float> y,
            const output_clamp& clamp = {}, context* ctx = nullptr) {
  constexpr const char* where = "lightq::linear(f32)";
  detail::check_linear_shapes(x, w, bias, y, where);
  detail::check_clamp(clamp, where);
  detail::linear_float<Arch>(x, w, bias.extent(0) ? bias.data() : nullptr, y, clamp, ctx);
}

/// fp16 linear layer: y = clamp(x * W^T + bias) for binary16 activations and binary16 weights
/// packed by pack_weights_f16<Arch, gemm_dtype::f16>, fp32 output. neon_dotprod computes in
/// fp16 arithmetic with fp32 block sums (bound in gemm/neon/f16_8x24_dotprod.hpp); the other
/// backends widen the activations exactly and compute in fp32.
template <class Arch>
void linear(matrix_view<const half> x, const packed_weights<gemm_dtype::f16, Arch, gemm_dtype::f16>& w,
            vector_view<const float> bias, matrix_view<float> y, const output_clamp& clamp = {}, context* ctx = nullptr) {
  constexpr const char* where = "lightq::linear(f16 x f16)";
  detail::check_linear_shapes(x, w, bias, y, where);
  detail::check_clamp(clamp, where);
  detail::linear_float<Arch>(x, w, bias.extent(0) ? bias.data() : nullptr, y, clamp, ctx);
}

/// Plain fp32 GEMM on strided views: c[M, N] = clamp(a[M, K] * b[K, N] + bias). b is packed
/// into a temporary on every call (pack once with pack_weights(b.transpose()) to reuse it).
template <class Arch = default_arch>
void gemm(matrix_view<const float> a, matrix_view<const float> b, matrix_view<float> c, vector_view<const float> bias = {},
          const output_clamp& clamp = {}, context* ctx = nullptr) {
  check_equal(a.extent(1), b.extent(0), "lightq::gemm(f32)", "a.extent(1) (K)", "b.extent(0) (K)");
  const auto w = pack_weights<Arch>(b.transpose());
  linear(a, w, bias, c, clamp, ctx);
}

/// Plain int8 GEMM on strided views: c = requantize(sum_k (a - za) * b + bias), b[K, N] int8
/// in [-127, 127] with per-column scales `b_scales[N]`.
template <class Arch = default_arch, class X, class Y,
          std::enable_if_t<detail::is_q8_v<std::remove_const_t<X>> && detail::is_q8_v<Y>, int> = 0>
void gemm(matrix_view<X> a, const quantization& a_quant, matrix_view<const std::int8_t> b, vector_view<const float> b_scales,
          vector_view<const std::int32_t> bias, matrix_view<Y> c, const quantization& c_quant, const output_clamp& clamp = {},
          context* ctx = nullptr) {
  check_equal(a.extent(1), b.extent(0), "lightq::gemm(q8)", "a.extent(1) (K)", "b.extent(0) (K)");
  const auto w = pack_weights<Arch>(b.transpose(), b_scales);
  linear(a, a_quant, w, bias, c, c_quant, clamp, ctx);
}

}  // namespace lightq
