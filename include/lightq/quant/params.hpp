// Quantized data-type tokens (qs8, qu8, qc8w, qd8), per-tensor and per-channel parameters, and
// the largest K for which an int32 dot product of two quantized types is exact.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightq/config.hpp"
#include "lightq/core/error.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

// ---------------------------------------------------------------------------------------------
// Data-type tokens. Each names its storage type, its integer range and whether its zero point is
// fixed at 0 (symmetric). `real = scale * (q - zero_point)` for all of them.

/// int8 activations, per-tensor scale and zero point in [-128, 127].
struct qs8 {
  using storage_type = std::int8_t;
  static constexpr std::int32_t qmin = -128;
  static constexpr std::int32_t qmax = 127;
  static constexpr bool symmetric = false;
  static constexpr const char* name = "qs8";
};
/// uint8 activations, per-tensor scale and zero point in [0, 255].
struct qu8 {
  using storage_type = std::uint8_t;
  static constexpr std::int32_t qmin = 0;
  static constexpr std::int32_t qmax = 255;
  static constexpr bool symmetric = false;
  static constexpr const char* name = "qu8";
};
/// int8 weights in [-127, 127] (symmetric, zero point 0), one scale per output channel.
struct qc8w {
  using storage_type = std::int8_t;
  static constexpr std::int32_t qmin = -127;
  static constexpr std::int32_t qmax = 127;
  static constexpr bool symmetric = true;
  static constexpr const char* name = "qc8w";
};
/// int8 activations quantized per row at run time (asymmetric: own scale and zero point per row).
struct qd8 {
  using storage_type = std::int8_t;
  static constexpr std::int32_t qmin = -128;
  static constexpr std::int32_t qmax = 127;
  static constexpr bool symmetric = false;
  static constexpr const char* name = "qd8";
};

/// Traits of a token (the same members, reachable generically; specialise for new tokens).
template <class DType>
struct quant_traits {
  using storage_type = typename DType::storage_type;
  static constexpr std::int32_t qmin = DType::qmin;
  static constexpr std::int32_t qmax = DType::qmax;
  static constexpr bool symmetric = DType::symmetric;
  static constexpr const char* name = DType::name;
};

template <class T>
inline constexpr bool is_quant_dtype_v =
    std::is_same_v<T, qs8> || std::is_same_v<T, qu8> || std::is_same_v<T, qc8w> || std::is_same_v<T, qd8>;

/// The token's storage type (int8_t or uint8_t).
template <class DType>
using storage_t = typename quant_traits<DType>::storage_type;

// ---------------------------------------------------------------------------------------------

/// Per-tensor affine parameters of `DType`: `real = scale * (q - zero_point)`.
/// Construction checks: scale finite and > 0; zero point inside [qmin, qmax] (0 for symmetric types).
/// `inv_scale()` is `1.0f / scale` rounded once; quantizing multiplies by it (docs/quantization.md).
template <class DType>
class per_tensor_params {
  static_assert(is_quant_dtype_v<DType>, "DType must be a lightq quantized type token");

 public:
  using dtype = DType;
  using storage_type = storage_t<DType>;

  per_tensor_params(float scale, std::int32_t zero_point = 0) : scale_(scale), zero_point_(zero_point) {
    check_scale(scale, "per_tensor_params", "scale");
    if constexpr (DType::symmetric)
      check_range(zero_point, 0, 0, "per_tensor_params", "zero_point");
    else
      check_range(zero_point, DType::qmin, DType::qmax, "per_tensor_params", "zero_point");
    inv_scale_ = 1.0f / scale;
  }

  float scale() const noexcept { return scale_; }
  float inv_scale() const noexcept { return inv_scale_; }
  std::int32_t zero_point() const noexcept { return zero_point_; }
  /// The clamp bounds of quantizing into the full range of DType.
  requantize_bounds bounds() const noexcept { return make_requantize_bounds(zero_point_, DType::qmin, DType::qmax); }
  /// The real value of integer q.
  float dequantize(std::int32_t q) const noexcept { return static_cast<float>(q - zero_point_) * scale_; }

 private:
  float scale_;
  float inv_scale_ = 1.0f;
  std::int32_t zero_point_;
};

/// Per-channel symmetric parameters (zero point 0) of a signed `DType`: channel c along `axis`
/// has `real = scales[c] * q`. Construction checks every scale (finite, > 0), a non-empty scale
/// list, axis >= 0, and (with the `channels` overload) that the scale count equals `channels`.
/// The quantize/dequantize functions check that the tensor's extent along `axis` equals channels().
template <class DType>
class per_channel_params {
  static_assert(is_quant_dtype_v<DType>, "DType must be a lightq quantized type token");
  static_assert(DType::qmin < 0, "per-channel (symmetric) parameters need a signed type");

 public:
  using dtype = DType;
  using storage_type = storage_t<DType>;

  per_channel_params(std::vector<float> scales, index_t axis = 0) : scales_(std::move(scales)), axis_(axis) {
    check(!scales_.empty(), "per_channel_params", "scales must not be empty");
    check(axis >= 0, "per_channel_params", "axis = ", axis, " must be >= 0");
    inv_scales_.resize(scales_.size());
    for (std::size_t c = 0; c < scales_.size(); ++c) {
      if (!(std::isfinite(scales_[c]) && scales_[c] > 0.0f))
        fail("per_channel_params", "scales[", c, "] must be finite and > 0, got ", scales_[c]);
      inv_scales_[c] = 1.0f / scales_[c];
    }
  }
  per_channel_params(std::vector<float> scales, index_t axis, index_t channels)
      : per_channel_params(std::move(scales), axis) {
    check_equal(static_cast<std::int64_t>(scales_.size()), channels, "per_channel_params", "scales.size()",
                "channels");
  }

  index_t axis() const noexcept { return axis_; }
  index_t channels() const noexcept { return static_cast<index_t>(scales_.size()); }
  float scale(index_t c) const noexcept { return scales_[static_cast<std::size_t>(c)]; }
  float inv_scale(index_t c) const noexcept { return inv_scales_[static_cast<std::size_t>(c)]; }
  const std::vector<float>& scales() const noexcept { return scales_; }
  const std::vector<float>& inv_scales() const noexcept { return inv_scales_; }
  static constexpr std::int32_t zero_point() noexcept { return 0; }
  requantize_bounds bounds() const noexcept { return make_requantize_bounds(0, DType::qmin, DType::qmax); }

 private:
  std::vector<float> scales_;
  std::vector<float> inv_scales_;
  index_t axis_;
};

// ---------------------------------------------------------------------------------------------
// Parameters from a float range (docs/quantization.md, "Choosing parameters").

namespace detail {
inline void check_range_arguments(float min, float max, const char* where) {
  if (!std::isfinite(min)) fail(where, "min must be finite, got ", min);
  if (!std::isfinite(max)) fail(where, "max must be finite, got ", max);
  if (!(min <= max)) fail(where, "min (", min, ") must be <= max (", max, ")");
}
/// Scales below FLT_MIN are raised to it so that 1 / scale stays finite.
inline float clamp_scale(double scale) noexcept {
  const double lo = static_cast<double>(std::numeric_limits<float>::min());
  const double hi = static_cast<double>(std::numeric_limits<float>::max());
  return static_cast<float>(scale < lo ? lo : (scale > hi ? hi : scale));
}
}  // namespace detail

/// Symmetric parameters: a = max(|min|, |max|); signed types get zero point 0 and
/// scale = a / qmax; qu8 gets zero point 128 and scale = a / 127 (1 when a == 0; at least FLT_MIN).
template <class DType>
per_tensor_params<DType> symmetric_params_from_range(float min, float max) {
  detail::check_range_arguments(min, max, "symmetric_params_from_range");
  const double a = std::fmax(std::fabs(static_cast<double>(min)), std::fabs(static_cast<double>(max)));
  constexpr std::int32_t zero_point = DType::qmin < 0 ? 0 : (DType::qmin + DType::qmax + 1) / 2;
  constexpr std::int32_t positive_steps = DType::qmax - zero_point;
  if (a == 0.0) return per_tensor_params<DType>(1.0f, zero_point);
  return per_tensor_params<DType>(detail::clamp_scale(a / positive_steps), zero_point);
}

/// Asymmetric parameters covering [min, max] widened to include 0, so that 0 is exactly
/// representable: scale = (hi - lo) / (qmax - qmin) (in double, rounded to float, at least
/// FLT_MIN; 1 when hi == lo == 0), zero_point = clamp(qmin - round_half_even(lo / scale)).
/// Symmetric types (qc8w) get symmetric_params_from_range.
template <class DType>
per_tensor_params<DType> asymmetric_params_from_range(float min, float max) {
  detail::check_range_arguments(min, max, "asymmetric_params_from_range");
  if constexpr (DType::symmetric) {
    return symmetric_params_from_range<DType>(min, max);
  } else {
    const double lo = min < 0.0f ? static_cast<double>(min) : 0.0;
    const double hi = max > 0.0f ? static_cast<double>(max) : 0.0;
    if (hi == lo) return per_tensor_params<DType>(1.0f, DType::qmin < 0 ? 0 : DType::qmin);
    const float scale = detail::clamp_scale((hi - lo) / static_cast<double>(DType::qmax - DType::qmin));
    double zp = static_cast<double>(DType::qmin) - std::nearbyint(lo / static_cast<double>(scale));
    zp = zp < DType::qmin ? DType::qmin : (zp > DType::qmax ? DType::qmax : zp);
    return per_tensor_params<DType>(scale, static_cast<std::int32_t>(zp));
  }
}

/// The usual choice for DType: symmetric for qc8w, asymmetric for qs8, qu8, qd8.
template <class DType>
per_tensor_params<DType> params_from_range(float min, float max) {
  if constexpr (DType::symmetric)
    return symmetric_params_from_range<DType>(min, max);
  else
    return asymmetric_params_from_range<DType>(min, max);
}

// ---------------------------------------------------------------------------------------------
// Exactness of int32 accumulation (docs/quantization.md, "Largest exact K").

/// The largest |q - zero_point| a value of `DType` can have: qmax - qmin when the zero point may
/// lie anywhere in the range (asymmetric types), max(|qmin|, |qmax|) when it is fixed at 0.
template <class DType>
constexpr std::int64_t max_abs_centered() noexcept {
  if constexpr (DType::symmetric) {
    return (-DType::qmin > DType::qmax) ? -std::int64_t{DType::qmin} : std::int64_t{DType::qmax};
  } else {
    return std::int64_t{DType::qmax} - DType::qmin;
  }
}

/// The largest |q| of `DType` (raw stored integers, no zero point).
template <class DType>
constexpr std::int64_t max_abs_raw() noexcept {
  return (-DType::qmin > DType::qmax) ? -std::int64_t{DType::qmin} : std::int64_t{DType::qmax};
}

/// The largest K for which every partial sum a quantized GEMM forms for inputs of `InputType` and
/// weights of `WeightType` fits in int32: raw sums sum_k x_k w_k, zero-point-corrected sums
/// sum_k (x_k - zx)(w_k - zw) and their correction terms (zx * column sums, zw * row sums), and
/// VNNI's shifted sums sum_k (x_k + 128) w_k. All are bounded by K * T with
/// T = max|x - zx| * max|w - zw| (max_abs_centered), so K_max = floor((2^31 - 1) / T).
/// qu8 x qc8w, qs8 x qc8w, qd8 x qc8w: T = 255 * 127 = 32385 -> 66311.
template <class InputType, class WeightType>
constexpr index_t max_exact_k() noexcept {
  constexpr std::int64_t term = max_abs_centered<InputType>() * max_abs_centered<WeightType>();
  return static_cast<index_t>(std::int64_t{std::numeric_limits<std::int32_t>::max()} / term);
}

/// The largest K for which the raw sum sum_k x_k w_k alone (no zero points, no shift) fits in
/// int32: floor((2^31 - 1) / (max|x| * max|w|)). qs8 x qc8w: 128 * 127 = 16256 -> 132104.
template <class InputType, class WeightType>
constexpr index_t max_exact_k_raw() noexcept {
  constexpr std::int64_t term = max_abs_raw<InputType>() * max_abs_raw<WeightType>();
  return static_cast<index_t>(std::int64_t{std::numeric_limits<std::int32_t>::max()} / term);
}

/// Error unless k <= max_exact_k<InputType, WeightType>(): "where: K = ... exceeds ...".
template <class InputType, class WeightType>
void check_exact_k(index_t k, const char* where, const char* argument = "K") {
  constexpr index_t limit = max_exact_k<InputType, WeightType>();
  if (k > limit)
    fail(where, argument, " = ", static_cast<std::int64_t>(k), " exceeds the largest K (", static_cast<std::int64_t>(limit),
         ") for which int32 accumulation of ", InputType::name, " x ", WeightType::name, " is exact");
}

static_assert(max_exact_k<qu8, qc8w>() == 66311, "255 * 127 per term");
static_assert(max_exact_k<qs8, qc8w>() == 66311, "255 * 127 per term (zero point / VNNI shift)");
static_assert(max_exact_k<qd8, qc8w>() == 66311, "255 * 127 per term");
static_assert(max_exact_k_raw<qs8, qc8w>() == 132104, "128 * 127 per term");
static_assert(max_exact_k<qs8, qs8>() == 33025, "255 * 255 per term");

}  // namespace lightq
