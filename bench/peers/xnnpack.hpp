// XNNPACK peer: fully-connected operators (fp32, fp16, qs8) of Debian's 2022 snapshot API.
//
// y[M,N] = x[M,K] * W[N,K]^T: XNNPACK's kernel layout is [output_channels, input_channels],
// which is W as lightq holds it. Weights are packed when the operator is created (as lightq's
// packed_weights are), so a benchmark that rotates weight copies creates one operator per copy.
// Runs on the calling thread (null pthreadpool). The 2022 qs8 operator has one weight scale
// per tensor (dtype token qs8_qs8w); its speed is that of a per-channel one. Available when
// LIGHTQ_BENCH_HAVE_XNNPACK is defined (bench/CMakeLists.txt).
#pragma once

#if defined(LIGHTQ_BENCH_HAVE_XNNPACK)
#include <xnnpack.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace lightq::bench::peers::xnnpack {

inline constexpr const char* name = "xnnpack";

/// One-time xnn_initialize. Returns true when XNNPACK runs on this CPU.
inline bool init() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

/// Owns one fully-connected operator; move-only.
class fully_connected {
 public:
  fully_connected() = default;
  fully_connected(const fully_connected&) = delete;
  fully_connected& operator=(const fully_connected&) = delete;
  fully_connected(fully_connected&& o) noexcept : op_(std::exchange(o.op_, nullptr)), kind_(o.kind_) {}
  fully_connected& operator=(fully_connected&& o) noexcept {
    std::swap(op_, o.op_);
    std::swap(kind_, o.kind_);
    return *this;
  }
  ~fully_connected() {
    if (op_) xnn_delete_operator(op_);
  }

  /// fp32: W[N,K] fp32, no bias, no clamp.
  static fully_connected f32(std::size_t n, std::size_t k, const float* w) {
    fully_connected fc;
    fc.kind_ = kind::f32;
    if (init() && xnn_create_fully_connected_nc_f32(k, n, k, n, w, nullptr, -std::numeric_limits<float>::infinity(),
                                                    std::numeric_limits<float>::infinity(), 0,
                                                    &fc.op_) != xnn_status_success)
      fc.op_ = nullptr;
    return fc;
  }

  /// fp16 activations and weights (IEEE half bits), fp16 out; unsupported on CPUs without
  /// native fp16 arithmetic (then valid() is false).
  static fully_connected f16(std::size_t n, std::size_t k, const std::uint16_t* w) {
    fully_connected fc;
    fc.kind_ = kind::f16;
    if (init() && xnn_create_fully_connected_nc_f16(k, n, k, n, w, nullptr, -65504.0f, 65504.0f, 0, &fc.op_) !=
                      xnn_status_success)
      fc.op_ = nullptr;
    return fc;
  }

  /// qs8: x int8 (zero point 0, scale 0.05), W[N,K] int8 (one scale), y int8.
  static fully_connected qs8(std::size_t n, std::size_t k, const std::int8_t* w) {
    fully_connected fc;
    fc.kind_ = kind::qs8;
    if (init() && xnn_create_fully_connected_nc_qs8(k, n, k, n, 0, 0.05f, 0.01f, w, nullptr, 0, 0.5f, -128, 127, 0,
                                                    &fc.op_) != xnn_status_success)
      fc.op_ = nullptr;
    return fc;
  }

  bool valid() const noexcept { return op_ != nullptr; }

  /// Sets input and output (batch M rows) and runs on this thread. Returns false on error.
  bool run(std::size_t m, const void* x, void* y) {
    if (!op_) return false;
    xnn_status s = xnn_status_invalid_state;
    switch (kind_) {
      case kind::f32:
        s = xnn_setup_fully_connected_nc_f32(op_, m, static_cast<const float*>(x), static_cast<float*>(y), nullptr);
        break;
      case kind::f16:
        s = xnn_setup_fully_connected_nc_f16(op_, m, x, y, nullptr);
        break;
      case kind::qs8:
        s = xnn_setup_fully_connected_nc_qs8(op_, m, static_cast<const std::int8_t*>(x), static_cast<std::int8_t*>(y),
                                             nullptr);
        break;
    }
    return s == xnn_status_success && xnn_run_operator(op_, nullptr) == xnn_status_success;
  }

 private:
  enum class kind { f32, f16, qs8 };
  xnn_operator_t op_ = nullptr;
  kind kind_ = kind::f32;
};

}  // namespace lightq::bench::peers::xnnpack
#endif  // LIGHTQ_BENCH_HAVE_XNNPACK
