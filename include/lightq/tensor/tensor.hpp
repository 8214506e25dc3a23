// tensor<T, Rank>: an owning, 64-byte aligned, row-major array with views.
#pragma once

#include "lightq/core/aligned.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Owns `size()` elements of T in 64-byte aligned, row-major storage. Copyable and movable.
/// New tensors are zero-filled.
template <class T, std::size_t Rank>
class tensor {
 public:
  using value_type = T;
  static constexpr std::size_t rank = Rank;

  tensor() = default;
  explicit tensor(const extents_t<Rank>& extents) : extents_(extents) {
    for (std::size_t d = 0; d < Rank; ++d)
      check(extents[d] >= 0, "tensor", "extent ", extents[d], " in dimension ", d, " must be >= 0");
    storage_ = aligned_buffer<T>(static_cast<std::size_t>(element_count<Rank>(extents)));
    for (T& x : storage_) x = T{};
  }
  tensor(const extents_t<Rank>& extents, const T& fill) : tensor(extents) {
    for (T& x : storage_) x = fill;
  }

  T* data() noexcept { return storage_.data(); }
  const T* data() const noexcept { return storage_.data(); }
  const extents_t<Rank>& extents() const noexcept { return extents_; }
  index_t extent(std::size_t dim) const noexcept { return extents_[dim]; }
  index_t size() const noexcept { return static_cast<index_t>(storage_.size()); }

  tensor_view<T, Rank> view() noexcept { return tensor_view<T, Rank>(data(), extents_); }
  tensor_view<const T, Rank> view() const noexcept { return tensor_view<const T, Rank>(data(), extents_); }
  tensor_view<const T, Rank> cview() const noexcept { return view(); }
  operator tensor_view<T, Rank>() noexcept { return view(); }
  operator tensor_view<const T, Rank>() const noexcept { return view(); }

  template <class... I>
  T& operator()(I... index) noexcept { return view()(index...); }
  template <class... I>
  const T& operator()(I... index) const noexcept { return view()(index...); }

  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size(); }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size(); }

 private:
  extents_t<Rank> extents_{};
  aligned_buffer<T> storage_;
};

}  // namespace lightq
