// tensor_view<T, Rank>: a non-owning strided view (pointer, extents, strides in elements).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/core/error.hpp"

namespace lightq {

/// Signed index type of every extent, stride and offset.
using index_t = std::ptrdiff_t;

template <std::size_t Rank>
using extents_t = std::array<index_t, Rank>;

/// Row-major (last dimension contiguous) strides for `extents`.
template <std::size_t Rank>
constexpr extents_t<Rank> row_major_strides(const extents_t<Rank>& extents) noexcept {
  extents_t<Rank> strides{};
  index_t s = 1;
  for (std::size_t i = Rank; i-- > 0;) {
    strides[i] = s;
    s *= extents[i];
  }
  return strides;
}

/// Product of the extents.
template <std::size_t Rank>
constexpr index_t element_count(const extents_t<Rank>& extents) noexcept {
  index_t n = 1;
  for (index_t e : extents) n *= e;
  return n;
}

namespace detail {
template <std::size_t Rank>
std::string extents_text(const extents_t<Rank>& e) {
  std::string s = "[";
  for (std::size_t i = 0; i < Rank; ++i) s += (i ? ", " : "") + std::to_string(e[i]);
  return s + "]";
}
}  // namespace detail

/// A view of a Rank-dimensional array of T: `data()[sum_i index[i] * stride(i)]`.
/// Cheap to copy; `tensor_view<const T, R>` converts implicitly from `tensor_view<T, R>`.
/// Strides are in elements and may be any value (zero for broadcast, negative for reversed).
template <class T, std::size_t Rank>
class tensor_view {
  static_assert(Rank >= 1, "tensor_view needs rank >= 1");

 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  static constexpr std::size_t rank = Rank;

  constexpr tensor_view() noexcept = default;
  /// Contiguous row-major view of `extents` elements at `data`.
  constexpr tensor_view(T* data, const extents_t<Rank>& extents) noexcept
      : data_(data), extents_(extents), strides_(row_major_strides<Rank>(extents)) {}
  /// Strided view; `strides` in elements.
  constexpr tensor_view(T* data, const extents_t<Rank>& extents, const extents_t<Rank>& strides) noexcept
      : data_(data), extents_(extents), strides_(strides) {}
  /// Mutable-to-const conversion.
  template <class U, std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>, int> = 0>
  constexpr tensor_view(const tensor_view<U, Rank>& other) noexcept
      : data_(other.data()), extents_(other.extents()), strides_(other.strides()) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr const extents_t<Rank>& extents() const noexcept { return extents_; }
  constexpr const extents_t<Rank>& strides() const noexcept { return strides_; }
  constexpr index_t extent(std::size_t dim) const noexcept { return extents_[dim]; }
  constexpr index_t stride(std::size_t dim) const noexcept { return strides_[dim]; }
  /// Number of elements.
  constexpr index_t size() const noexcept { return element_count<Rank>(extents_); }
  constexpr bool empty() const noexcept { return size() == 0; }

  /// Element access; no bounds check.
  template <class... I>
  constexpr T& operator()(I... index) const noexcept {
    static_assert(sizeof...(I) == Rank, "one index per dimension");
    const index_t idx[Rank] = {static_cast<index_t>(index)...};
    index_t offset = 0;
    for (std::size_t d = 0; d < Rank; ++d) offset += idx[d] * strides_[d];
    return data_[offset];
  }
  constexpr T& operator[](const extents_t<Rank>& index) const noexcept {
    index_t offset = 0;
    for (std::size_t d = 0; d < Rank; ++d) offset += index[d] * strides_[d];
    return data_[offset];
  }

  /// True when the elements are dense in row-major order (unit innermost stride, no gaps).
  constexpr bool is_contiguous() const noexcept {
    index_t expected = 1;
    for (std::size_t d = Rank; d-- > 0;) {
      if (extents_[d] != 1 && strides_[d] != expected) return false;
      expected *= extents_[d];
    }
    return true;
  }
  /// True when the innermost dimension has unit stride (rows may be padded).
  constexpr bool is_row_contiguous() const noexcept { return extents_[Rank - 1] <= 1 || strides_[Rank - 1] == 1; }

  /// The sub-block starting at `offsets` with `extents`; an error if it leaves this view.
  tensor_view subview(const extents_t<Rank>& offsets, const extents_t<Rank>& extents) const {
    index_t offset = 0;
    for (std::size_t d = 0; d < Rank; ++d) {
      if (offsets[d] < 0 || extents[d] < 0 || offsets[d] > extents_[d] - extents[d])
        fail("tensor_view::subview", "offsets ", detail::extents_text<Rank>(offsets), " + extents ",
             detail::extents_text<Rank>(extents), " exceed the view's extents ",
             detail::extents_text<Rank>(extents_), " in dimension ", d);
      offset += offsets[d] * strides_[d];
    }
    return tensor_view(data_ + offset, extents, strides_);
  }
  /// Elements [begin, begin + count) of dimension `dim`.
  tensor_view slice(std::size_t dim, index_t begin, index_t count) const {
    check(dim < Rank, "tensor_view::slice", "dim = ", dim, " must be < rank ", Rank);
    extents_t<Rank> offsets{};
    extents_t<Rank> extents = extents_;
    offsets[dim] = begin;
    extents[dim] = count;
    return subview(offsets, extents);
  }
  /// The (Rank-1)-dimensional view at `index` of dimension `dim`.
  template <std::size_t R = Rank, std::enable_if_t<(R > 1), int> = 0>
  tensor_view<T, Rank - 1> select(std::size_t dim, index_t index) const {
    check(dim < Rank, "tensor_view::select", "dim = ", dim, " must be < rank ", Rank);
    if (index < 0 || index >= extents_[dim])
      fail("tensor_view::select", "index ", index, " is outside [0, ", extents_[dim], ") in dimension ", dim);
    extents_t<Rank - 1> e{}, s{};
    for (std::size_t d = 0, o = 0; d < Rank; ++d) {
      if (d == dim) continue;
      e[o] = extents_[d];
      s[o] = strides_[d];
      ++o;
    }
    return tensor_view<T, Rank - 1>(data_ + index * strides_[dim], e, s);
  }
  /// The view with dimensions `a` and `b` swapped (no data moves).
  tensor_view transpose(std::size_t a = 0, std::size_t b = 1) const {
    check(a < Rank && b < Rank, "tensor_view::transpose", "dimensions (", a, ", ", b, ") must be < rank ", Rank);
    tensor_view v = *this;
    std::swap(v.extents_[a], v.extents_[b]);
    std::swap(v.strides_[a], v.strides_[b]);
    return v;
  }
  /// The view with dimensions reordered: result dimension i is this view's dimension order[i].
  tensor_view permute(const std::array<std::size_t, Rank>& order) const {
    tensor_view v = *this;
    std::array<bool, Rank> seen{};
    for (std::size_t i = 0; i < Rank; ++i) {
      if (order[i] >= Rank || seen[order[i]]) fail("tensor_view::permute", "order is not a permutation of 0..", Rank - 1);
      seen[order[i]] = true;
      v.extents_[i] = extents_[order[i]];
      v.strides_[i] = strides_[order[i]];
    }
    return v;
  }
  /// A contiguous view of the same elements with other extents; an error unless this view is
  /// contiguous and the element counts agree.
  template <std::size_t NewRank>
  tensor_view<T, NewRank> reshape(const extents_t<NewRank>& extents) const {
    if (!is_contiguous()) fail("tensor_view::reshape", "the view is not contiguous");
    if (element_count<NewRank>(extents) != size())
      fail("tensor_view::reshape", "new extents ", detail::extents_text<NewRank>(extents), " hold ",
           element_count<NewRank>(extents), " elements, the view ", detail::extents_text<Rank>(extents_), " holds ",
           size());
    return tensor_view<T, NewRank>(data_, extents);
  }

  /// "[2, 3]" — for error messages.
  std::string extents_string() const { return detail::extents_text<Rank>(extents_); }

 private:
  T* data_ = nullptr;
  extents_t<Rank> extents_{};
  extents_t<Rank> strides_{};
};

/// Contiguous row-major view over `data` (deduces T and Rank).
template <class T, std::size_t Rank>
constexpr tensor_view<T, Rank> make_view(T* data, const extents_t<Rank>& extents) noexcept {
  return tensor_view<T, Rank>(data, extents);
}
/// Strided view over `data`.
template <class T, std::size_t Rank>
constexpr tensor_view<T, Rank> make_view(T* data, const extents_t<Rank>& extents, const extents_t<Rank>& strides) noexcept {
  return tensor_view<T, Rank>(data, extents, strides);
}

template <class T>
using matrix_view = tensor_view<T, 2>;
template <class T>
using vector_view = tensor_view<T, 1>;

/// Lowest and highest byte address touched by a view (for aliasing checks); {0,0} when empty.
template <class T, std::size_t Rank>
std::pair<const void*, std::size_t> byte_span(const tensor_view<T, Rank>& v) noexcept {
  if (v.empty()) return {nullptr, 0};
  index_t lo = 0, hi = 0;
  for (std::size_t d = 0; d < Rank; ++d) {
    const index_t reach = (v.extent(d) - 1) * v.stride(d);
    if (reach < 0) lo += reach; else hi += reach;
  }
  const auto* base = reinterpret_cast<const unsigned char*>(v.data() + lo);
  return {base, static_cast<std::size_t>(hi - lo + 1) * sizeof(T)};
}

/// Error unless `out` and `in` touch disjoint memory.
template <class T, std::size_t R1, class U, std::size_t R2>
void check_no_alias(const tensor_view<T, R1>& out, const tensor_view<U, R2>& in, const char* where,
                    const char* out_name, const char* in_name) {
  auto a = byte_span(out);
  auto b = byte_span(in);
  check_no_alias(a.first, a.second, b.first, b.second, where, out_name, in_name);
}

}  // namespace lightq
