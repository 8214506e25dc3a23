// Helpers of the GEMM tests: naive int64/double references, strided test matrices.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lightq/gemm/gemm.hpp"
#include "test_common.hpp"

namespace lightq {
namespace test {

/// A matrix with its own storage, viewed with padded rows (and optionally a transposed,
/// non-unit column stride) when `strided` is set.
template <class T>
struct test_matrix {
  index_t rows = 0, cols = 0;
  std::vector<T> storage;
  matrix_view<T> view;

  test_matrix(index_t r, index_t c, bool strided, bool column_major = false) : rows(r), cols(c) {
    const index_t pad = strided ? 3 : 0;
    if (column_major) {
      const index_t ld = r + pad;
      storage.assign(static_cast<std::size_t>(std::max<index_t>(1, ld * c)), T{});
      view = matrix_view<T>(storage.data(), {r, c}, {1, ld});
    } else {
      const index_t ld = c + pad;
      storage.assign(static_cast<std::size_t>(std::max<index_t>(1, ld * r)), T{});
      view = matrix_view<T>(storage.data(), {r, c}, {ld, 1});
    }
  }
  void fill(const std::vector<T>& values) {
    for (index_t i = 0; i < rows; ++i)
      for (index_t j = 0; j < cols; ++j) view(i, j) = values[static_cast<std::size_t>(i * cols + j)];
  }
  matrix_view<const T> cview() const { return view; }
};

/// Output matrix inside a guarded buffer (row stride ld >= cols).
template <class T>
struct guarded_matrix {
  index_t rows, cols, ld;
  guarded_buffer<T> buffer;
  guarded_matrix(index_t r, index_t c, bool strided)
      : rows(r), cols(c), ld(c + (strided ? 5 : 0)), buffer(static_cast<std::size_t>(std::max<index_t>(1, r * (c + (strided ? 5 : 0))))) {
    std::memset(buffer.data(), 0, buffer.size() * sizeof(T));
  }
  matrix_view<T> view() { return matrix_view<T>(buffer.data(), {rows, cols}, {ld, 1}); }
  T at(index_t i, index_t j) { return buffer.data()[i * ld + j]; }
};

/// sum_k (x[i][k] - zx_i) * w[j][k] in int64.
template <class X>
std::int64_t naive_dot(const matrix_view<const X>& x, index_t i, std::int32_t zx, const matrix_view<const std::int8_t>& w,
                       index_t j) {
  std::int64_t s = 0;
  for (index_t k = 0; k < x.extent(1); ++k) s += (std::int64_t(x(i, k)) - zx) * std::int64_t(w(j, k));
  return s;
}

}  // namespace test
}  // namespace lightq
