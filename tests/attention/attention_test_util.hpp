// Helpers of the attention tests: random q/k/v tensors, structured inputs, error metrics and the
// documented fp32 bound of the fused kernel against the double-precision reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lightq/attention/attention.hpp"
#include "lightq/attention/reference.hpp"
#include "lightq/tensor/tensor.hpp"
#include "test_common.hpp"

namespace lightq {
namespace test {

/// One attention problem.
struct attention_shape {
  index_t batch, heads, kv_heads, query_tokens, key_tokens, dim;
  std::string to_string() const {
    return "B=" + std::to_string(batch) + " H=" + std::to_string(heads) + " Hkv=" + std::to_string(kv_heads) +
           " Tq=" + std::to_string(query_tokens) + " Tk=" + std::to_string(key_tokens) + " D=" + std::to_string(dim);
  }
};

struct attention_data {
  tensor<float, 4> q, k, v;
};

inline void fill_gaussian(tensor<float, 4>& t, std::mt19937_64& rng, float stddev = 1.0f) {
  std::normal_distribution<float> dist(0.0f, stddev);
  for (float& x : t) x = dist(rng);
}

inline attention_data make_attention_data(const attention_shape& s, std::uint64_t salt, float q_scale = 1.0f) {
  auto rng = make_rng(salt);
  attention_data d{tensor<float, 4>({s.batch, s.heads, s.query_tokens, s.dim}),
                   tensor<float, 4>({s.batch, s.kv_heads, s.key_tokens, s.dim}),
                   tensor<float, 4>({s.batch, s.kv_heads, s.key_tokens, s.dim})};
  fill_gaussian(d.q, rng, q_scale);
  fill_gaussian(d.k, rng);
  fill_gaussian(d.v, rng);
  return d;
}

inline float max_abs(const tensor<float, 4>& t) {
  float m = 0.0f;
  for (float x : t) m = std::max(m, std::fabs(x));
  return m;
}

inline float max_abs_diff(const tensor<float, 4>& a, const tensor<float, 4>& b) {
  float m = 0.0f;
  for (index_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

inline bool all_finite(const tensor<float, 4>& t) {
  for (float x : t)
    if (!std::isfinite(x)) return false;
  return true;
}

inline tensor<float, 4> reference_output(const attention_data& d, const attention_options& o = {}) {
  tensor<float, 4> out(d.q.extents());
  attention_reference<double>(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), o);
  return out;
}

/// The documented bound of fused fp32 attention against the exact result:
///   |out - exact| <= 4 * eps * max|v| * (scale * max|q| * max|k| * D + sqrt(Tk) + 1)
/// (the first term bounds the fp32 rounding of a logit, which moves the softmax weights; the
/// second the rounding of the P*V sum and of the running sum).
inline float fused_f32_bound(const attention_data& d, const attention_options& o = {}) {
  const float eps = std::numeric_limits<float>::epsilon();
  const index_t dim = d.q.extent(3), tk = d.k.extent(2);
  const float scale = o.scale == 0.0f ? 1.0f / std::sqrt(static_cast<float>(std::max<index_t>(dim, 1))) : o.scale;
  const float logits = scale * max_abs(d.q) * max_abs(d.k) * static_cast<float>(dim);
  return 4.0f * eps * max_abs(d.v) * (logits + std::sqrt(static_cast<float>(tk)) + 1.0f);
}

inline double cosine(const tensor<float, 4>& a, const tensor<float, 4>& b) {
  return cosine_similarity(a.data(), b.data(), static_cast<std::size_t>(a.size()));
}

}  // namespace test
}  // namespace lightq
