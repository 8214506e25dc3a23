// Aligned heap storage (64-byte aligned) used by owning tensors, packed weights and scratch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "lightq/config.hpp"
#include "lightq/core/error.hpp"

namespace lightq {

/// Allocates `bytes` aligned to `alignment` (a power of two); release with aligned_free.
inline void* aligned_malloc(std::size_t bytes, std::size_t alignment = LIGHTQ_ALIGNMENT) {
  if (bytes == 0) bytes = 1;
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
#if defined(_MSC_VER)
  void* p = _aligned_malloc(rounded, alignment);
#else
  void* p = std::aligned_alloc(alignment, rounded);
#endif
  if (!p) throw std::bad_alloc();
  return p;
}

inline void aligned_free(void* p) noexcept {
#if defined(_MSC_VER)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

/// A move-only, 64-byte aligned array of trivially copyable T; elements are not initialised.
template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds trivially copyable types");

 public:
  aligned_buffer() noexcept = default;
  explicit aligned_buffer(std::size_t count)
      : data_(count ? static_cast<T*>(aligned_malloc(count * sizeof(T))) : nullptr), size_(count) {}
  aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
    if (size_) std::memcpy(data_, other.data_, size_ * sizeof(T));
  }
  aligned_buffer(aligned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  aligned_buffer& operator=(aligned_buffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~aligned_buffer() { aligned_free(data_); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lightq
