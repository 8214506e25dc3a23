// Aligned heap storage (64-byte aligned; 2 MiB aligned and huge-page advised from 16 MiB) used
// by owning tensors, packed weights and scratch.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "lightq/config.hpp"
#include "lightq/core/error.hpp"

namespace lightq {

/// Size from which aligned_malloc uses 2 MiB alignment and (Linux) asks for transparent huge
/// pages: buffers this large are streamed from memory (GEMV weights, KV caches), where 4 KiB
/// pages cost a TLB walk per 4 KiB and stop the hardware prefetcher at every page boundary
/// (measured: int8 GEMV 1x8192x8192 ~7% faster with huge pages). At 16 MiB the rounding to
/// 2 MiB costs at most 1/8 of the buffer. Where THP is off or unavailable the advice does nothing.
inline constexpr std::size_t huge_page_threshold = std::size_t{16} << 20;
inline constexpr std::size_t huge_page_size = std::size_t{2} << 20;

/// Allocates `bytes` aligned to `alignment` (a power of two); release with aligned_free.
/// From `huge_from` bytes (huge_page_threshold unless the caller knows the buffer is streamed
/// whole, as a KV cache is) the alignment is at least huge_page_size and the range is advised
/// MADV_HUGEPAGE before its first touch.
inline void* aligned_malloc(std::size_t bytes, std::size_t alignment = LIGHTQ_ALIGNMENT,
                            std::size_t huge_from = huge_page_threshold) {
  if (bytes == 0) bytes = 1;
  const bool huge = bytes >= huge_from;
  if (huge && alignment < huge_page_size) alignment = huge_page_size;
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
#if defined(_MSC_VER)
  void* p = _aligned_malloc(rounded, alignment);
#else
  void* p = std::aligned_alloc(alignment, rounded);
#endif
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
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
