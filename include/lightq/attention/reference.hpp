// Naive attention reference (tests and the f32_naive benchmark only): materialises the
// [query tokens x key tokens] score matrix per head; defines the semantics of every kernel.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "lightq/attention/options.hpp"
#include "lightq/core/error.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// out[b, h, i, :] = sum_j softmax_j(scale * q[b,h,i,:] . k[b,h/G,j,:]) * v[b,h/G,j,:] over the
/// unmasked keys j (G = query heads / kv heads); a row with no unmasked key is zero.
/// q, out: [batch, heads, query tokens, head_dim]; k, v: [batch, kv heads, key tokens, head_dim];
/// any strides. `Acc` is the arithmetic type (float: the naive fp32 baseline; double: tests).
template <class Acc = float>
void attention_reference(tensor_view<const float, 4> q, tensor_view<const float, 4> k, tensor_view<const float, 4> v,
                         tensor_view<float, 4> out, const attention_options& options = {}) {
  const char* where = "attention_reference";
  const index_t batch = q.extent(0), heads = q.extent(1), tq = q.extent(2), dim = q.extent(3);
  const index_t kv_heads = k.extent(1), tk = k.extent(2);
  check_equal(k.extent(0), batch, where, "k batch", "q batch");
  check(k.extents() == v.extents(), where, "k extents ", k.extents_string(), " must equal v extents ",
        v.extents_string());
  check_equal(k.extent(3), dim, where, "k head_dim", "q head_dim");
  check(out.extents() == q.extents(), where, "out extents ", out.extents_string(), " must equal q extents ",
        q.extents_string());
  check(kv_heads > 0 ? heads % kv_heads == 0 : heads == 0, where, "query heads (", heads,
        ") must be a multiple of kv heads (", kv_heads, ")");
  detail::check_attention_options(options, batch, tk, where);
  const Acc scale = static_cast<Acc>(detail::resolve_attention_scale(options, dim));
  const index_t group = kv_heads > 0 ? heads / kv_heads : 1;
  std::vector<Acc> scores(static_cast<std::size_t>(tq * tk));
  std::vector<Acc> row(static_cast<std::size_t>(dim));
  for (index_t b = 0; b < batch; ++b) {
    const detail::attention_mask mask = detail::make_attention_mask(options, b, tk, tq);
    for (index_t h = 0; h < heads; ++h) {
      const index_t kvh = h / group;
      for (index_t i = 0; i < tq; ++i)  // the materialised score matrix
        for (index_t j = 0; j < tk; ++j) {
          Acc s = 0;
          for (index_t d = 0; d < dim; ++d) s += static_cast<Acc>(q(b, h, i, d)) * static_cast<Acc>(k(b, kvh, j, d));
          scores[static_cast<std::size_t>(i * tk + j)] = s * scale;
        }
      for (index_t i = 0; i < tq; ++i) {
        const index_t limit = mask.limit(i);
        Acc* s = scores.data() + i * tk;
        Acc m = -std::numeric_limits<Acc>::infinity();
        for (index_t j = 0; j < limit; ++j) m = std::max(m, s[j]);
        Acc sum = 0;
        for (index_t j = 0; j < limit; ++j) {
          s[j] = std::exp(s[j] - m);
          sum += s[j];
        }
        for (index_t d = 0; d < dim; ++d) row[static_cast<std::size_t>(d)] = 0;
        for (index_t j = 0; j < limit; ++j)
          for (index_t d = 0; d < dim; ++d) row[static_cast<std::size_t>(d)] += s[j] * static_cast<Acc>(v(b, kvh, j, d));
        for (index_t d = 0; d < dim; ++d)
          out(b, h, i, d) = limit > 0 ? static_cast<float>(row[static_cast<std::size_t>(d)] / sum) : 0.0f;
      }
    }
  }
}

}  // namespace lightq
