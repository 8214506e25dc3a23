// lightq::error and the argument checks every public op uses (DESIGN.md §6).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "lightq/config.hpp"

namespace lightq {

/// Thrown (or passed to the error handler) when a public op is given bad input.
/// The message names the function, the argument and the offending values.
class error : public std::invalid_argument {
 public:
  explicit error(const std::string& what) : std::invalid_argument(what) {}
};

/// Called with the message when exceptions are disabled; the default prints it and aborts.
/// A handler that returns is followed by std::abort().
using error_handler = void (*)(const char* message);

namespace detail {
inline error_handler& error_handler_slot() noexcept {
  static error_handler handler = nullptr;
  return handler;
}
}  // namespace detail

/// Installs `handler` for builds without exceptions; returns the previous one.
inline error_handler set_error_handler(error_handler handler) noexcept {
  error_handler previous = detail::error_handler_slot();
  detail::error_handler_slot() = handler;
  return previous;
}

/// Reports bad input: throws lightq::error, or (without exceptions) calls the handler and aborts.
[[noreturn]] inline void raise_error(const std::string& message) {
#if defined(LIGHTQ_NO_EXCEPTIONS)
  if (error_handler handler = detail::error_handler_slot()) handler(message.c_str());
  std::fprintf(stderr, "lightq::error: %s\n", message.c_str());
  std::abort();
#else
  throw error(message);
#endif
}

namespace detail {

inline std::string to_text(const std::string& s) { return s; }
inline std::string to_text(const char* s) { return s; }
inline std::string to_text(bool v) { return v ? "true" : "false"; }
template <class T>
std::string to_text(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else {
    return v.to_string();
  }
}

}  // namespace detail

/// Builds "where: message" from pieces: fail("gemm", "K = ", k, " exceeds ", limit).
template <class... Parts>
[[noreturn]] void fail(const char* where, const Parts&... parts) {
  std::string message = std::string(where) + ": ";
  ((message += detail::to_text(parts)), ...);
  raise_error(message);
}

/// Checks a condition; on failure reports "where: <parts>".
template <class... Parts>
inline void check(bool condition, const char* where, const Parts&... parts) {
  if (LIGHTQ_UNLIKELY(!condition)) fail(where, parts...);
}

/// Checks that a scale is finite and > 0.
inline void check_scale(float scale, const char* where, const char* argument) {
  if (!(std::isfinite(scale) && scale > 0.0f))
    fail(where, argument, " must be finite and > 0, got ", scale);
}

/// Checks lo <= value <= hi for an integer argument (zero points, sizes).
inline void check_range(std::int64_t value, std::int64_t lo, std::int64_t hi, const char* where,
                        const char* argument) {
  if (value < lo || value > hi) fail(where, argument, " = ", value, " is outside [", lo, ", ", hi, "]");
}

/// Checks that two extents agree: "where: a_name (3) != b_name (4)".
inline void check_equal(std::int64_t a, std::int64_t b, const char* where, const char* a_name,
                        const char* b_name) {
  if (a != b) fail(where, a_name, " (", a, ") must equal ", b_name, " (", b, ")");
}

/// Checks that [a, a + a_bytes) and [b, b + b_bytes) do not overlap (output aliasing an input).
inline void check_no_alias(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes,
                           const char* where, const char* a_name, const char* b_name) {
  if (a_bytes == 0 || b_bytes == 0) return;
  const auto pa = reinterpret_cast<std::uintptr_t>(a);
  const auto pb = reinterpret_cast<std::uintptr_t>(b);
  if (pa < pb + b_bytes && pb < pa + a_bytes) fail(where, a_name, " must not overlap ", b_name);
}

}  // namespace lightq
