// Tests of tensor_view and tensor: access, strides, subviews, transpose, reshape, errors.
#include "test_common.hpp"

#include "lightq/core/error.hpp"
#include "lightq/tensor/tensor.hpp"

using namespace lightq;

TEST_CASE("tensor_view: contiguous access and strides") {
  float data[24];
  for (int i = 0; i < 24; ++i) data[i] = float(i);
  tensor_view<float, 3> v(data, {2, 3, 4});
  CHECK(v.size() == 24);
  CHECK(v.stride(0) == 12);
  CHECK(v.stride(1) == 4);
  CHECK(v.stride(2) == 1);
  CHECK(v.is_contiguous());
  CHECK(v(1, 2, 3) == 23.0f);
  CHECK(v[{1, 0, 2}] == 14.0f);
  v(0, 1, 1) = -5.0f;
  CHECK(data[5] == -5.0f);
  tensor_view<const float, 3> cv = v;  // mutable -> const
  CHECK(cv(0, 1, 1) == -5.0f);
  static_assert(!std::is_convertible_v<tensor_view<const float, 3>, tensor_view<float, 3>>,
                "const views must not convert to mutable ones");
}

TEST_CASE("tensor_view: subview, slice, select, transpose, permute") {
  std::vector<int> data(5 * 7);
  for (int i = 0; i < 35; ++i) data[i] = i;
  auto m = make_view(data.data(), extents_t<2>{5, 7});
  auto sub = m.subview({1, 2}, {3, 4});
  CHECK(sub.extent(0) == 3);
  CHECK(sub.extent(1) == 4);
  CHECK(sub(0, 0) == 9);
  CHECK(sub(2, 3) == 3 * 7 + 5);
  CHECK_FALSE(sub.is_contiguous());
  CHECK(sub.is_row_contiguous());
  auto rows = m.slice(0, 2, 2);
  CHECK(rows(0, 0) == 14);
  CHECK(rows.is_contiguous());
  auto col = m.select(1, 3);
  CHECK(col.extent(0) == 5);
  CHECK(col(4) == 4 * 7 + 3);
  auto t = m.transpose();
  CHECK(t.extent(0) == 7);
  CHECK(t(3, 2) == m(2, 3));
  CHECK_FALSE(t.is_contiguous());
  std::vector<int> d3(2 * 3 * 4);
  for (int i = 0; i < 24; ++i) d3[i] = i;
  auto v3 = make_view(d3.data(), extents_t<3>{2, 3, 4});
  auto p = v3.permute({2, 0, 1});
  CHECK(p.extent(0) == 4);
  CHECK(p(3, 1, 2) == v3(1, 2, 3));
  CHECK_THROWS_AS(v3.permute({0, 0, 1}), lightq::error);
}

TEST_CASE("tensor_view: out-of-range subviews are errors that name the problem") {
  std::vector<float> data(12);
  auto m = make_view(data.data(), extents_t<2>{3, 4});
  CHECK_THROWS_AS(m.subview({2, 0}, {2, 4}), lightq::error);
  CHECK_THROWS_AS(m.subview({-1, 0}, {1, 1}), lightq::error);
  CHECK_THROWS_AS(m.slice(1, 3, 2), lightq::error);
  CHECK_THROWS_AS(m.select(0, 3), lightq::error);
  CHECK_THROWS_WITH_AS(m.subview({0, 1}, {3, 4}), doctest::Contains("subview"), lightq::error);
  CHECK_NOTHROW(m.subview({3, 4}, {0, 0}));  // empty views at the end are fine
}

TEST_CASE("tensor_view: reshape of contiguous views only, element counts must agree") {
  std::vector<float> data(24);
  auto v = make_view(data.data(), extents_t<2>{4, 6});
  auto r = v.reshape<3>({2, 3, 4});
  CHECK(r.extent(2) == 4);
  CHECK(r.data() == data.data());
  CHECK_THROWS_WITH_AS(v.reshape<2>({5, 5}), doctest::Contains("reshape"), lightq::error);
  CHECK_THROWS_AS(v.transpose().reshape<1>({24}), lightq::error);
  CHECK_THROWS_AS(v.subview({0, 0}, {2, 3}).reshape<1>({6}), lightq::error);
}

TEST_CASE("tensor: owning, aligned, zero-filled, copyable") {
  tensor<float, 2> t({3, 5});
  CHECK(t.size() == 15);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (float x : t) CHECK(x == 0.0f);
  t(2, 4) = 7.0f;
  tensor<float, 2> copy = t;
  t(2, 4) = 1.0f;
  CHECK(copy(2, 4) == 7.0f);
  tensor_view<const float, 2> cv = copy.cview();
  CHECK(cv(2, 4) == 7.0f);
  CHECK_THROWS_AS((tensor<int, 1>({-1})), lightq::error);
  tensor<std::int8_t, 1> empty({0});
  CHECK(empty.size() == 0);
}

TEST_CASE("aliasing check on views") {
  std::vector<float> data(100);
  auto a = make_view(data.data(), extents_t<2>{4, 10});
  auto b = make_view(data.data() + 40, extents_t<2>{6, 10});
  auto c = make_view(data.data() + 35, extents_t<2>{2, 10});
  CHECK_NOTHROW(check_no_alias(a, b, "op", "out", "in"));
  CHECK_THROWS_WITH_AS(check_no_alias(a, c, "op", "out", "in"), doctest::Contains("out must not overlap in"),
                       lightq::error);
}
