// Scaled dot-product attention (fused, flash-style) over [batch, heads, tokens, head_dim] views
// or a kv_cache: grouped-query heads, causal and key-length masks, fp32 or fp16 output.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "lightq/attention/detail/flash.hpp"
#include "lightq/attention/kv_cache.hpp"
#include "lightq/attention/options.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/half.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// Query rows per block: the K/V tile read for a block is reused from L1/L2 by its rows.
inline constexpr index_t attention_block_rows = 32;

template <class Arch, class Out>
LIGHTQ_ALWAYS_INLINE void attention_store(Out* dst, float x) noexcept {
  if constexpr (std::is_same_v<Out, half>)
    *dst = half::from_bits(lightq::float_to_half_bits(x));
  else
    *dst = x;
}

/// Writes rows [r0, r0 + rows) of item (b, kv): out = o / l (zeros where l == 0).
template <class Arch, class Out>
void attention_write(const attention_item& item, const tensor_view<Out, 4>& out, index_t b, index_t kv, index_t r0,
                     index_t rows, const attention_state& st) noexcept {
  for (index_t r = 0; r < rows; ++r) {
    const index_t row = r0 + r;
    Out* dst = &out(b, kv * item.group + row % item.group, row / item.group, 0);
    const float l = st.l[r];
    const float inverse = l > 0.0f ? 1.0f / l : 0.0f;
    const float* o = st.o + r * st.ld;
    for (index_t d = 0; d < item.dim; ++d) attention_store<Arch>(dst + d, o[d] * inverse);
  }
}

/// Merges partial states (m, l, o) of `parts` key chunks into the first one.
inline void attention_merge(attention_state* parts, index_t count, index_t rows) noexcept {
  const attention_state& dst = parts[0];
  for (index_t r = 0; r < rows; ++r) {
    float m = -std::numeric_limits<float>::infinity();
    for (index_t p = 0; p < count; ++p) m = std::max(m, parts[p].m[r]);
    if (m == -std::numeric_limits<float>::infinity()) continue;  // nothing seen: stays zero
    for (index_t p = 0; p < count; ++p) {
      const float factor = parts[p].m[r] == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(parts[p].m[r] - m);
      float* o = parts[p].o + r * parts[p].ld;
      if (p == 0) {
        dst.l[r] *= factor;
        for (index_t d = 0; d < dst.ld; ++d) o[d] *= factor;
      } else {
        dst.l[r] += parts[p].l[r] * factor;
        float* od = dst.o + r * dst.ld;
        for (index_t d = 0; d < dst.ld; ++d) od[d] += o[d] * factor;
      }
    }
    dst.m[r] = m;
  }
}

/// Scratch slots of an attention call in the context arena.
enum attention_scratch_slot : std::size_t {
  attention_slot_states = 0,     ///< running (m, l, o) of every task or worker
  attention_slot_parts = 1,      ///< the chunk states of one merge
  attention_slot_workspaces = 2  ///< one attention_workspace per worker
};

/// Runs every (batch, kv head, row block[, key chunk]) task on the context's threads; scratch
/// comes from the context (no allocation once it is sized).
/// item_of(b, kv) -> attention_item; source_of(b, kv) -> source.
template <class Arch, class Source, class ItemOf, class SourceOf, class Out>
void attention_execute(index_t batch, index_t kv_heads, index_t key_tokens, index_t groups, ItemOf item_of,
                       SourceOf source_of, const tensor_view<Out, 4>& out, context& ctx) {
  if (batch == 0 || kv_heads == 0) return;
  const attention_item first = item_of(0, 0);
  const index_t rows = first.rows(), dim = first.dim;
  if (rows == 0 || dim == 0) return;
  const Source first_source = source_of(0, 0);
  const index_t ld = first_source.out_dim(dim);
  constexpr index_t tile = Source::key_tile;
  const index_t threads = ctx.threads();
  const index_t block_rows = std::min(rows, attention_block_rows);
  const index_t blocks = (rows + block_rows - 1) / block_rows;
  const index_t items = batch * kv_heads * blocks;
  // Key chunks: only when there are fewer (item, block) tasks than threads (decode).
  index_t chunks = 1;
  if (threads > 1 && items < threads) {
    const index_t tiles = (key_tokens + tile - 1) / tile;
    chunks = std::max<index_t>(1, std::min<index_t>((threads + items - 1) / items, tiles / 4));
  }
  const index_t chunk_keys = chunks > 1 ? ((key_tokens + chunks - 1) / chunks + tile - 1) / tile * tile : key_tokens;
  const index_t tasks = items * chunks;
  const index_t workers = std::max<index_t>(1, std::min<index_t>(threads, tasks));
  const index_t value_dim = ld;

  // Partial states: one per task (chunked) or one per worker (direct).
  const index_t state_count = chunks > 1 ? tasks : workers;
  const index_t state_floats = block_rows * (ld + 2);
  float* state_memory = ctx.scratch_as<float>(attention_slot_states, static_cast<std::size_t>(state_count * state_floats));
  auto state_at = [&](index_t i) {
    float* base = state_memory + i * state_floats;
    return attention_state{base, base + block_rows, base + 2 * block_rows, ld};
  };
  attention_state* parts =
      chunks > 1 ? ctx.scratch_as<attention_state>(attention_slot_parts, static_cast<std::size_t>(chunks)) : nullptr;
  const std::size_t space_bytes = attention_workspace::bytes(block_rows, dim, groups, value_dim, tile);
  auto* space_memory = ctx.scratch_as<unsigned char>(attention_slot_workspaces, static_cast<std::size_t>(workers) * space_bytes);

  std::atomic<index_t> next{0};
  ctx.run(workers, [&](index_t worker) {
    attention_carver carver{space_memory + static_cast<std::size_t>(worker) * space_bytes};
    attention_workspace ws(carver, block_rows, dim, groups, value_dim, tile);
    for (;;) {
      const index_t task = next.fetch_add(1, std::memory_order_relaxed);
      if (task >= tasks) break;
      const index_t chunk = task % chunks, item_index = task / chunks;
      const index_t block = item_index % blocks, bk = item_index / blocks;
      const index_t b = bk / kv_heads, kv = bk % kv_heads;
      const attention_item item = item_of(b, kv);
      const Source source = source_of(b, kv);
      const index_t r0 = block * block_rows, nrows = std::min(block_rows, rows - r0);
      const attention_state st = state_at(chunks > 1 ? task : worker);
      attention_state_reset(st, nrows);
      const index_t k0 = chunk * chunk_keys, k1 = std::min(key_tokens, k0 + chunk_keys);
      if (k0 < k1) attention_block<Arch>(item, source, r0, nrows, k0, k1, st, ws);
      if (chunks == 1) attention_write<Arch>(item, out, b, kv, r0, nrows, st);
    }
  });
  if (chunks > 1) {
    for (index_t item_index = 0; item_index < items; ++item_index) {
      const index_t block = item_index % blocks, bk = item_index / blocks;
      const index_t b = bk / kv_heads, kv = bk % kv_heads;
      const index_t r0 = block * block_rows, nrows = std::min(block_rows, rows - r0);
      for (index_t c = 0; c < chunks; ++c) parts[c] = state_at(item_index * chunks + c);
      attention_merge(parts, chunks, nrows);
      attention_write<Arch>(item_of(b, kv), out, b, kv, r0, nrows, parts[0]);
    }
  }
}

/// The context of a call: the caller's, or a local one with options.threads threads.
struct attention_context {
  context local;
  context& ctx;
  attention_context(context* user, const attention_options& options)
      : local(user ? 1 : std::max(1, options.threads)), ctx(user ? *user : local) {}
};

template <class T, std::size_t R>
void attention_check_unit_inner_stride(const tensor_view<T, R>& v, const char* where, const char* name) {
  if (v.extent(R - 1) > 1 && v.stride(R - 1) != 1)
    fail(where, name, " must have unit stride in head_dim (got stride ", v.stride(R - 1), ")");
}

/// Validates q and out against batch, kv heads, key tokens and head_dim; returns the group size.
template <class Out>
index_t attention_check_query(const tensor_view<const float, 4>& q, const tensor_view<Out, 4>& out, index_t batch,
                              index_t kv_heads, index_t key_tokens, index_t head_dim, const attention_options& options,
                              const char* where) {
  check_equal(q.extent(0), batch, where, "q batch", "k batch");
  check_equal(q.extent(3), head_dim, where, "q head_dim", "k head_dim");
  if (kv_heads == 0) {
    check(q.extent(1) == 0, where, "query heads (", q.extent(1), ") must be a multiple of kv heads (0)");
  } else if (q.extent(1) % kv_heads != 0) {
    fail(where, "query heads (", q.extent(1), ") must be a multiple of kv heads (", kv_heads, ")");
  }
  check(out.extents() == q.extents(), where, "out extents ", out.extents_string(), " must equal q extents ",
        q.extents_string());
  attention_check_unit_inner_stride(q, where, "q");
  attention_check_unit_inner_stride(out, where, "out");
  check_no_alias(out, q, where, "out", "q");
  check_attention_options(options, batch, key_tokens, where);
  return kv_heads > 0 ? q.extent(1) / kv_heads : 1;
}

template <class Arch>
attention_item attention_item_for(const tensor_view<const float, 4>& q, index_t b, index_t kv, index_t group,
                                  index_t key_tokens, float scale, const attention_options& options) noexcept {
  attention_item item;
  item.group = group;
  item.query_tokens = q.extent(2);
  item.dim = q.extent(3);
  item.scale = scale;
  item.q_head_stride = q.stride(1);
  item.q_token_stride = q.stride(2);
  item.q = q.data() + b * q.stride(0) + kv * group * q.stride(1);
  item.mask = make_attention_mask(options, b, key_tokens, item.query_tokens);
  return item;
}

template <class Arch, class KV, class Out>
void attention_views(tensor_view<const float, 4> q, tensor_view<const KV, 4> k, tensor_view<const KV, 4> v,
                     tensor_view<Out, 4> out, const attention_options& options, context* user_ctx) {
  static_assert(arch_compiled_v<Arch>, "lightq::attention: the compiler flags do not allow this backend");
  const char* where = "attention";
  check(k.extents() == v.extents(), where, "k extents ", k.extents_string(), " must equal v extents ",
        v.extents_string());
  const index_t batch = k.extent(0), kv_heads = k.extent(1), key_tokens = k.extent(2), dim = k.extent(3);
  const index_t group = attention_check_query(q, out, batch, kv_heads, key_tokens, dim, options, where);
  attention_check_unit_inner_stride(k, where, "k");
  attention_check_unit_inner_stride(v, where, "v");
  check_no_alias(out, k, where, "out", "k");
  check_no_alias(out, v, where, "out", "v");
  const float scale = resolve_attention_scale(options, dim);
  attention_context run(user_ctx, options);
  using bits = std::conditional_t<std::is_same_v<KV, half>, std::uint16_t, float>;
  using source = attention_dense_source<bits>;
  attention_execute<Arch, source>(
      batch, kv_heads, key_tokens, 1,
      [&](index_t b, index_t kv) { return attention_item_for<Arch>(q, b, kv, group, key_tokens, scale, options); },
      [&](index_t b, index_t kv) {
        source s;
        s.k = reinterpret_cast<const bits*>(k.data() + b * k.stride(0) + kv * k.stride(1));
        s.k_stride = k.stride(2);
        s.v = reinterpret_cast<const bits*>(v.data() + b * v.stride(0) + kv * v.stride(1));
        s.v_stride = v.stride(2);
        return s;
      },
      out, run.ctx);
}

template <class Arch, class Out>
void attention_cache(tensor_view<const float, 4> q, const kv_cache& cache, tensor_view<Out, 4> out,
                     const attention_options& options, context* user_ctx) {
  static_assert(arch_compiled_v<Arch>, "lightq::attention: the compiler flags do not allow this backend");
  const char* where = "attention (kv_cache)";
  const index_t batch = cache.batch(), kv_heads = cache.kv_heads(), key_tokens = cache.tokens(), dim = cache.head_dim();
  const index_t group = attention_check_query(q, out, batch, kv_heads, key_tokens, dim, options, where);
  const float scale = resolve_attention_scale(options, dim);
  attention_context run(user_ctx, options);
  auto item_of = [&](index_t b, index_t kv) {
    return attention_item_for<Arch>(q, b, kv, group, key_tokens, scale, options);
  };
  switch (cache.storage()) {
    case kv_storage::f32:
      attention_execute<Arch, attention_dense_source<float>>(
          batch, kv_heads, key_tokens, 1, item_of,
          [&](index_t b, index_t kv) {
            const index_t slab = b * kv_heads + kv;
            return attention_dense_source<float>{cache.key_f32(slab), dim, cache.value_f32(slab), dim};
          },
          out, run.ctx);
      break;
    case kv_storage::f16:
      attention_execute<Arch, attention_dense_source<std::uint16_t>>(
          batch, kv_heads, key_tokens, 1, item_of,
          [&](index_t b, index_t kv) {
            const index_t slab = b * kv_heads + kv;
            return attention_dense_source<std::uint16_t>{cache.key_f16(slab), dim, cache.value_f16(slab), dim, true};
          },
          out, run.ctx);
      break;
    case kv_storage::qs8:
      attention_execute<Arch, attention_qs8_source>(
          batch, kv_heads, key_tokens, cache.key_groups(), item_of,
          [&](index_t b, index_t kv) {
            const index_t slab = b * kv_heads + kv;
            attention_qs8_source s;
            s.keys = cache.key_qs8(slab);
            s.key_scales = cache.key_scales(slab);
            s.key_sums = cache.key_sums(slab);
            s.groups = cache.key_groups();
            s.values = cache.value_qs8(slab);
            s.value_scales = cache.value_scales(slab);
            s.value_dim = cache.value_dim();
            s.channel_scales = cache.key_channel_scales(slab);
            s.scale_block = cache.scale_block();
            return s;
          },
          out, run.ctx);
      break;
  }
}

}  // namespace detail

/// Fused scaled dot-product attention, fp32 K and V:
///   out[b, h, i, :] = sum_j softmax_j(scale * q[b,h,i,:] . k[b,h/G,j,:]) v[b,h/G,j,:]
/// q, out: [batch, query heads, query tokens, head_dim]; k, v: [batch, kv heads, key tokens,
/// head_dim]; query heads = G * kv heads (grouped-query attention); head_dim contiguous (unit
/// stride), other strides free. Masks and scale in `options`; a row with no visible key is zero.
/// out may be fp32 or lightq::half. Errors (lightq::error) name the bad argument.
/// `ctx` (optional): threads and scratch. With a context, its threads() are used (options.threads
/// is ignored) and scratch is taken from its arena, so repeated calls allocate nothing once it
/// is sized; without one, a local context with options.threads threads serves the call.
template <class Arch = default_arch, class Out>
void attention(tensor_view<const float, 4> q, tensor_view<const float, 4> k, tensor_view<const float, 4> v,
               tensor_view<Out, 4> out, const attention_options& options = {}, context* ctx = nullptr) {
  static_assert(std::is_same_v<Out, float> || std::is_same_v<Out, half>, "attention: out is float or lightq::half");
  detail::attention_views<Arch, float>(q, k, v, out, options, ctx);
}

/// The same with fp16 K and V (converted to fp32 in registers; accumulation in fp32).
template <class Arch = default_arch, class Out>
void attention(tensor_view<const float, 4> q, tensor_view<const half, 4> k, tensor_view<const half, 4> v,
               tensor_view<Out, 4> out, const attention_options& options = {}, context* ctx = nullptr) {
  static_assert(std::is_same_v<Out, float> || std::is_same_v<Out, half>, "attention: out is float or lightq::half");
  detail::attention_views<Arch, half>(q, k, v, out, options, ctx);
}

/// Attention of q over the tokens of `cache` (fp32, fp16 or int8 storage). Key length per
/// sequence = cache.tokens() unless options.key_lengths says less; the causal mask (if asked)
/// aligns the queries to the end of each sequence unless options.causal_offset is set.
/// int8 caches: Q is quantized per row (symmetric int8), Q*K^T runs in exact int8 dot
/// products, softmax in fp32, P (times each token's V scale) is quantized per row and key tile
/// to [0, 127] and P*V runs in exact int8 dot products, rescaled into the fp32 output.
template <class Arch = default_arch, class Out>
void attention(tensor_view<const float, 4> q, const kv_cache& cache, tensor_view<Out, 4> out,
               const attention_options& options = {}, context* ctx = nullptr) {
  static_assert(std::is_same_v<Out, float> || std::is_same_v<Out, half>, "attention: out is float or lightq::half");
  detail::attention_cache<Arch>(q, cache, out, options, ctx);
}

}  // namespace lightq
