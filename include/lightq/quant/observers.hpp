// Calibration observers: fed batches of floats, they choose quantization parameters (min-max,
// moving-average min-max, percentile, and MSE-minimising histogram search).
//
// Every observer ignores non-finite values (NaN, +-Inf): they quantize to the zero point or
// saturate whatever the range, so they must not stretch it. Parameters come from
// params_from_range<DType> (quant/params.hpp): symmetric for qc8w, asymmetric otherwise, the range
// always widened to include 0. Calibration is offline, plain scalar code (no backend template).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lightq/config.hpp"
#include "lightq/core/error.hpp"
#include "lightq/quant/params.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// Calls f(pointer, count) over the elements of any view, in contiguous runs (strided rows are
/// copied to a small buffer first).
template <class T, std::size_t R, class F>
void for_each_run(const tensor_view<T, R>& v, F&& f) {
  if (v.empty()) return;
  if (v.is_contiguous()) {
    f(static_cast<const float*>(v.data()), v.size());
    return;
  }
  extents_t<R> index{};
  const index_t n = v.extent(R - 1), stride = v.stride(R - 1);
  float buf[256];
  for (;;) {
    index_t offset = 0;
    for (std::size_t d = 0; d + 1 < R; ++d) offset += index[d] * v.stride(d);
    const T* row = v.data() + offset;
    if (stride == 1) {
      f(static_cast<const float*>(row), n);
    } else {
      for (index_t j0 = 0; j0 < n; j0 += 256) {
        const index_t c = std::min<index_t>(256, n - j0);
        for (index_t j = 0; j < c; ++j) buf[j] = row[(j0 + j) * stride];
        f(static_cast<const float*>(buf), c);
      }
    }
    std::size_t d = R - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++index[d] < v.extent(d)) break;
      index[d] = 0;
    }
  }
}

/// Smallest and largest finite value of data[0..n); false when there is none.
inline bool finite_min_max(const float* data, index_t n, float& lo, float& hi) noexcept {
  bool any = false;
  for (index_t i = 0; i < n; ++i) {
    const float x = data[i];
    if (!std::isfinite(x)) continue;
    if (!any) {
      lo = hi = x;
      any = true;
    } else {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  return any;
}

}  // namespace detail

/// Tracks the smallest and largest finite value seen; params() covers exactly that range.
class minmax_observer {
 public:
  /// Feeds `count` floats.
  void observe(const float* data, index_t count) {
    check(count >= 0, "minmax_observer::observe", "count = ", static_cast<std::int64_t>(count), " must be >= 0");
    float lo = 0, hi = 0;
    if (!detail::finite_min_max(data, count, lo, hi)) return;
    min_ = seen_ ? std::min(min_, lo) : lo;
    max_ = seen_ ? std::max(max_, hi) : hi;
    seen_ = true;
  }
  /// Feeds every element of a view (any rank and strides).
  template <class T, std::size_t R>
  void observe(const tensor_view<T, R>& x) {
    detail::for_each_run(x, [&](const float* p, index_t n) { observe(p, n); });
  }
  /// True once a finite value has been seen.
  bool has_range() const noexcept { return seen_; }
  float min() const noexcept { return min_; }
  float max() const noexcept { return max_; }
  void reset() noexcept { *this = minmax_observer(); }
  /// params_from_range<DType>(min, max); an error before any finite value was observed.
  template <class DType>
  per_tensor_params<DType> params() const {
    check(seen_, "minmax_observer::params", "no finite value has been observed");
    return params_from_range<DType>(min_, max_);
  }

 private:
  float min_ = 0.0f, max_ = 0.0f;
  bool seen_ = false;
};

/// Exponential moving average of each batch's min and max: the first batch sets them, then
/// min += c * (batch_min - min) (likewise max) with averaging constant c in (0, 1].
class moving_average_minmax_observer {
 public:
  explicit moving_average_minmax_observer(float averaging_constant = 0.01f) : c_(averaging_constant) {
    if (!(averaging_constant > 0.0f && averaging_constant <= 1.0f))
      fail("moving_average_minmax_observer", "averaging_constant must be in (0, 1], got ", averaging_constant);
  }
  /// Feeds one batch of `count` floats (one averaging step).
  void observe(const float* data, index_t count) {
    check(count >= 0, "moving_average_minmax_observer::observe", "count = ", static_cast<std::int64_t>(count),
          " must be >= 0");
    float lo = 0, hi = 0;
    if (!detail::finite_min_max(data, count, lo, hi)) return;
    step(lo, hi);
  }
  /// Feeds one batch: every element of a view.
  template <class T, std::size_t R>
  void observe(const tensor_view<T, R>& x) {
    bool any = false;
    float lo = 0, hi = 0;
    detail::for_each_run(x, [&](const float* p, index_t n) {
      float l = 0, h = 0;
      if (!detail::finite_min_max(p, n, l, h)) return;
      lo = any ? std::min(lo, l) : l;
      hi = any ? std::max(hi, h) : h;
      any = true;
    });
    if (any) step(lo, hi);
  }
  bool has_range() const noexcept { return seen_; }
  float min() const noexcept { return static_cast<float>(min_); }
  float max() const noexcept { return static_cast<float>(max_); }
  void reset() noexcept {
    min_ = max_ = 0.0;
    seen_ = false;
  }
  template <class DType>
  per_tensor_params<DType> params() const {
    check(seen_, "moving_average_minmax_observer::params", "no finite value has been observed");
    return params_from_range<DType>(min(), max());
  }

 private:
  void step(float lo, float hi) noexcept {
    if (!seen_) {
      min_ = lo;
      max_ = hi;
      seen_ = true;
    } else {
      min_ += c_ * (lo - min_);
      max_ += c_ * (hi - max_);
    }
  }
  double c_;
  double min_ = 0.0, max_ = 0.0;
  bool seen_ = false;
};

/// A histogram of the finite values seen, over [lo, hi] split into `bins` equal bins. When a batch
/// falls outside, the range grows to cover it and the old counts move to the new bins by their
/// centres (an approximation of at most one new bin width per value).
class value_histogram {
 public:
  explicit value_histogram(index_t bins = 2048) : counts_(static_cast<std::size_t>(bins > 0 ? bins : 1), 0.0) {
    check(bins >= 16, "value_histogram", "bins = ", static_cast<std::int64_t>(bins), " must be >= 16");
  }
  void observe(const float* data, index_t count) {
    float lo = 0, hi = 0;
    if (!detail::finite_min_max(data, count, lo, hi)) return;
    extend(lo, hi);
    const double width = bin_width();
    const double b = static_cast<double>(bins());
    for (index_t i = 0; i < count; ++i) {
      const float x = data[i];
      if (!std::isfinite(x)) continue;
      counts_[index_of(x, width, b)] += 1.0;
      total_ += 1.0;
    }
  }
  template <class T, std::size_t R>
  void observe(const tensor_view<T, R>& x) {
    detail::for_each_run(x, [&](const float* p, index_t n) { observe(p, n); });
  }
  index_t bins() const noexcept { return static_cast<index_t>(counts_.size()); }
  double total() const noexcept { return total_; }
  double lo() const noexcept { return lo_; }
  double hi() const noexcept { return hi_; }
  /// Width of one bin (hi - lo) / bins; 0 while every value seen is the same.
  double bin_width() const noexcept { return (hi_ - lo_) / static_cast<double>(bins()); }
  const std::vector<double>& counts() const noexcept { return counts_; }

  /// The value below which `fraction` (0..1) of the observed values lie (linear within a bin).
  double quantile(double fraction) const noexcept {
    const double target = fraction * total_;
    double cumulative = 0.0;
    const double w = bin_width();
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      const double c = counts_[i];
      if (c > 0.0 && cumulative + c >= target) {
        const double within = (target - cumulative) / c;
        return lo_ + (static_cast<double>(i) + within) * w;
      }
      cumulative += c;
    }
    return hi_;
  }

 private:
  std::size_t index_of(double x, double width, double b) const noexcept {
    if (!(width > 0.0)) return 0;
    const double pos = (x - lo_) / width;
    if (!(pos > 0.0)) return 0;
    if (pos >= b) return counts_.size() - 1;
    return static_cast<std::size_t>(pos);
  }
  void extend(float lo, float hi) {
    if (total_ == 0.0) {
      lo_ = lo;
      hi_ = hi;
      return;
    }
    if (lo >= lo_ && hi <= hi_) return;
    const double new_lo = std::min<double>(lo_, lo), new_hi = std::max<double>(hi_, hi);
    std::vector<double> old(counts_.size(), 0.0);
    old.swap(counts_);
    const double old_lo = lo_, old_w = bin_width();
    lo_ = new_lo;
    hi_ = new_hi;
    const double w = bin_width(), b = static_cast<double>(bins());
    for (std::size_t i = 0; i < old.size(); ++i)
      if (old[i] > 0.0) counts_[index_of(old_lo + (static_cast<double>(i) + 0.5) * old_w, w, b)] += old[i];
  }
  std::vector<double> counts_;
  double lo_ = 0.0, hi_ = 0.0, total_ = 0.0;
};

/// Clips the range to the [100 - p, p] percentiles of the values seen (p in (50, 100], e.g. 99.99).
class percentile_observer {
 public:
  explicit percentile_observer(double percentile = 99.99, index_t bins = 2048) : p_(percentile), histogram_(bins) {
    if (!(percentile > 50.0 && percentile <= 100.0))
      fail("percentile_observer", "percentile must be in (50, 100], got ", percentile);
  }
  void observe(const float* data, index_t count) {
    check(count >= 0, "percentile_observer::observe", "count = ", static_cast<std::int64_t>(count), " must be >= 0");
    histogram_.observe(data, count);
  }
  template <class T, std::size_t R>
  void observe(const tensor_view<T, R>& x) {
    histogram_.observe(x);
  }
  /// The clipped range [quantile(1 - p/100), quantile(p/100)].
  float min() const noexcept { return static_cast<float>(histogram_.quantile(1.0 - p_ / 100.0)); }
  float max() const noexcept { return static_cast<float>(histogram_.quantile(p_ / 100.0)); }
  const value_histogram& histogram() const noexcept { return histogram_; }
  template <class DType>
  per_tensor_params<DType> params() const {
    check(histogram_.total() > 0.0, "percentile_observer::params", "no finite value has been observed");
    return params_from_range<DType>(min(), max());
  }

 private:
  double p_;
  value_histogram histogram_;
};

/// Chooses the clipping range that minimises the expected squared quantization error over a
/// histogram of the values seen. Each candidate range [a, b] (a from 0 down to the smallest value,
/// b from 0 up to the largest, `steps` + 1 positions each; symmetric types search a = -b) gives
/// params_from_range<DType>(a, b), whose representable range [r_lo, r_hi] is scored as
///   sum over bins outside [r_lo, r_hi]: count * ((centre - bound)^2 + width^2 / 12)   (clipping)
///   + values inside * scale^2 / 12                                                   (rounding)
/// using prefix sums, so each candidate costs O(1).
class mse_observer {
 public:
  explicit mse_observer(index_t bins = 2048, index_t steps = 256) : histogram_(bins), steps_(steps) {
    check(steps >= 8, "mse_observer", "steps = ", static_cast<std::int64_t>(steps), " must be >= 8");
  }
  void observe(const float* data, index_t count) {
    check(count >= 0, "mse_observer::observe", "count = ", static_cast<std::int64_t>(count), " must be >= 0");
    histogram_.observe(data, count);
  }
  template <class T, std::size_t R>
  void observe(const tensor_view<T, R>& x) {
    histogram_.observe(x);
  }
  const value_histogram& histogram() const noexcept { return histogram_; }

  template <class DType>
  per_tensor_params<DType> params() const {
    check(histogram_.total() > 0.0, "mse_observer::params", "no finite value has been observed");
    const scorer s(histogram_);
    const double lo = std::min(histogram_.lo(), 0.0), hi = std::max(histogram_.hi(), 0.0);
    const double steps = static_cast<double>(steps_);
    per_tensor_params<DType> best = params_from_range<DType>(static_cast<float>(lo), static_cast<float>(hi));
    double best_error = s.error(best, DType::qmin, DType::qmax);
    auto consider = [&](double a, double b) {
      if (!(b > a)) return;
      const per_tensor_params<DType> p = params_from_range<DType>(static_cast<float>(a), static_cast<float>(b));
      const double e = s.error(p, DType::qmin, DType::qmax);
      if (e < best_error) {
        best_error = e;
        best = p;
      }
    };
    if constexpr (DType::symmetric) {
      const double amax = std::max(-lo, hi);
      for (index_t k = 1; k <= steps_; ++k) consider(-amax * static_cast<double>(k) / steps, amax * static_cast<double>(k) / steps);
    } else {
      for (index_t i = 0; i <= steps_; ++i)
        for (index_t j = 0; j <= steps_; ++j)
          consider(lo * static_cast<double>(i) / steps, hi * static_cast<double>(j) / steps);
    }
    return best;
  }

 private:
  /// Prefix sums over bins of count, count * centre, count * centre^2.
  class scorer {
   public:
    explicit scorer(const value_histogram& h) : h_(h) {
      const auto& c = h.counts();
      n_.assign(c.size() + 1, 0.0);
      s1_.assign(c.size() + 1, 0.0);
      s2_.assign(c.size() + 1, 0.0);
      const double w = h.bin_width();
      for (std::size_t i = 0; i < c.size(); ++i) {
        const double x = h.lo() + (static_cast<double>(i) + 0.5) * w;
        n_[i + 1] = n_[i] + c[i];
        s1_[i + 1] = s1_[i] + c[i] * x;
        s2_[i + 1] = s2_[i] + c[i] * x * x;
      }
    }
    template <class DType>
    double error(const per_tensor_params<DType>& p, std::int32_t qmin, std::int32_t qmax) const {
      const double scale = p.scale();
      const double r_lo = scale * (qmin - p.zero_point()), r_hi = scale * (qmax - p.zero_point());
      const double w = h_.bin_width();
      const std::size_t bins = h_.counts().size();
      // bins [0, below) have centres < r_lo; bins [above, bins) have centres > r_hi
      std::size_t below = 0, above = bins;
      if (w > 0.0) {
        below = static_cast<std::size_t>(std::clamp(std::ceil((r_lo - h_.lo()) / w - 0.5), 0.0, static_cast<double>(bins)));
        above = static_cast<std::size_t>(std::clamp(std::floor((r_hi - h_.lo()) / w - 0.5) + 1.0, 0.0, static_cast<double>(bins)));
        above = std::max(above, below);
      } else {
        const double x = h_.lo();
        if (x < r_lo) below = bins;
        else if (x > r_hi) above = 0;
      }
      const double n_lo = n_[below], n_hi = n_[bins] - n_[above];
      const double e_lo = (s2_[below] - 2.0 * r_lo * s1_[below] + r_lo * r_lo * n_lo) + n_lo * w * w / 12.0;
      const double s1_hi = s1_[bins] - s1_[above], s2_hi = s2_[bins] - s2_[above];
      const double e_hi = (s2_hi - 2.0 * r_hi * s1_hi + r_hi * r_hi * n_hi) + n_hi * w * w / 12.0;
      const double inside = n_[bins] - n_lo - n_hi;
      return std::max(e_lo, 0.0) + std::max(e_hi, 0.0) + inside * scale * scale / 12.0;
    }

   private:
    const value_histogram& h_;
    std::vector<double> n_, s1_, s2_;
  };

  value_histogram histogram_;
  index_t steps_;
};

}  // namespace lightq
