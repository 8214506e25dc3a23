// attention_options (softmax scale, causal mask and its offset, key-length masks, threads) and
// the mask rule every attention kernel and the reference share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "lightq/core/error.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Options of scaled dot-product attention. Defaults: scale 1/sqrt(head_dim), no mask, 1 thread.
struct attention_options {
  /// Softmax scale applied to Q*K^T; 0 selects 1/sqrt(head_dim). Otherwise finite and > 0.
  float scale = 0.0f;
  /// Causal mask: query token i (0-based within the call) attends keys j <= causal_offset + i.
  bool causal = false;
  /// Absolute position of query token 0 for the causal mask; -1 (default) aligns the queries
  /// with the end of each sequence: causal_offset = key_length - query_tokens (decode: the
  /// single new query sees the whole cache; prefill with no cache: plain lower triangle).
  index_t causal_offset = -1;
  /// Per-sequence number of valid keys, one entry per batch element, each in [0, key tokens];
  /// keys at or beyond it are masked. Empty view: every key is valid.
  tensor_view<const index_t, 1> key_lengths{};
  /// Threads the call may use when no lightq::context is passed (std::threads live for the call
  /// when > 1; no hidden pool); with a context, its threads() decide. Decode splits long caches
  /// over threads and merges the partial softmax states.
  int threads = 1;
};

namespace detail {

/// The resolved mask of one sequence: query token i sees keys [0, limit(i)).
struct attention_mask {
  index_t key_length = 0;     ///< valid keys of this sequence
  index_t causal_offset = 0;  ///< absolute position of query token 0
  bool causal = false;

  index_t limit(index_t query_token) const noexcept {
    if (!causal) return key_length;
    const index_t reach = causal_offset + query_token + 1;
    return std::max<index_t>(0, std::min(key_length, reach));
  }
};

inline attention_mask make_attention_mask(const attention_options& options, index_t batch_index, index_t key_tokens,
                                          index_t query_tokens) noexcept {
  attention_mask mask;
  mask.key_length = options.key_lengths.empty() ? key_tokens : options.key_lengths(batch_index);
  mask.causal = options.causal;
  mask.causal_offset = options.causal_offset >= 0 ? options.causal_offset : mask.key_length - query_tokens;
  return mask;
}

inline float resolve_attention_scale(const attention_options& options, index_t head_dim) noexcept {
  return options.scale == 0.0f ? 1.0f / std::sqrt(static_cast<float>(std::max<index_t>(head_dim, 1))) : options.scale;
}

/// Validates the options against the shapes: scale, key lengths, offset, threads.
inline void check_attention_options(const attention_options& options, index_t batch, index_t key_tokens,
                                    const char* where) {
  if (options.scale != 0.0f) check_scale(options.scale, where, "options.scale");
  check(options.threads >= 1, where, "options.threads = ", options.threads, " must be >= 1");
  check(options.causal_offset >= -1, where, "options.causal_offset = ", options.causal_offset,
        " must be >= 0 (or -1 for end-aligned)");
  if (!options.key_lengths.empty()) {
    check_equal(options.key_lengths.extent(0), batch, where, "options.key_lengths size", "batch");
    for (index_t b = 0; b < batch; ++b) {
      const index_t length = options.key_lengths(b);
      if (length < 0 || length > key_tokens)
        fail(where, "options.key_lengths[", b, "] = ", length, " is outside [0, ", key_tokens, "] (key tokens)");
    }
  }
}

}  // namespace detail
}  // namespace lightq
