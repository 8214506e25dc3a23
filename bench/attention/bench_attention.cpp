// Attention benchmarks: decode (one query per head, long KV cache streamed from memory) and
// prefill (many queries, compute-bound), fp32 naive reference vs the fused kernel over fp32,
// fp16 and int8 caches.
//
//   BM_attention/decode/<f32_naive|f32|f16|qs8|qs8b16>/<backend>/<cache tokens>/<head_dim>
//     batch 1, 32 query heads over 8 KV heads (GQA 4), tokens 1k..32k. Caches rotate through
//     copies worth out_of_cache_bytes() so every call streams its cache from DRAM; qs8b16: int8
//     with one K and one V scale per block of 16 tokens (kv_cache_options::scale_block); "%peak" is the
//     rate of cache bytes over the one-core DRAM read bandwidth; model_bytes = KV-cache bytes.
//   BM_attention/prefill/<f32_naive|f32|f16|qs8>/<backend>/<tokens>/<head_dim>
//     batch 1, 2 query heads over 1 KV head, tokens x tokens (no mask); K/V in cache (no rotation:
//     prefill is compute-bound). "%peak" over the fp32 FMA peak (f32, f16, naive) or the int8 peak
//     (qs8). GOP/s counts 4 * heads * Tq * Tk * head_dim (Q*K^T and P*V multiply-adds).
//   BM_attention/decode_threads/<f32|f16|qs8>/<backend>/32768/128/<threads>
//     the decode above at 32k tokens with 1, 2, 4, ... threads up to the hardware's count
//     (a lightq::context; wall-clock time): the cache is split into key chunks over the threads
//     and the partial softmax states are merged.
//   BM_attention/decode_split/<f32|f16|qs8>/<backend>/32768/128/<kv heads>/<threads>
//     ONE sequence with 1 or 2 KV heads (4 query heads each), 1 and 2 threads (wall-clock time):
//     with 1 KV head and 2 threads the keys are split over the threads and the partial softmax
//     states merged; with 2 KV heads and 2 threads each thread takes one head (for comparison).
// Single thread unless named. Every call reuses one lightq::context (scratch sized once). The KV
// append (and int8 quantization) is not timed.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "lightq/attention/attention.hpp"
#include "lightq/attention/reference.hpp"
#include "lightq/tensor/tensor.hpp"

namespace {

using lightq::index_t;
using lightq::kv_cache;
using lightq::kv_storage;
using lightq::tensor;
using lightq::bench::peak_kind;
using arch = lightq::default_arch;

enum class variant { f32_naive, f32, f16, qs8, qs8_block16 };
const char* variant_name(variant v) {
  switch (v) {
    case variant::f32_naive: return "f32_naive";
    case variant::f32: return "f32";
    case variant::f16: return "f16";
    case variant::qs8: return "qs8";
    case variant::qs8_block16: return "qs8b16";
  }
  return "?";
}
kv_storage storage_of(variant v) {
  return v == variant::f16 ? kv_storage::f16 : v == variant::qs8 || v == variant::qs8_block16 ? kv_storage::qs8 : kv_storage::f32;
}
index_t scale_block_of(variant v) { return v == variant::qs8_block16 ? 16 : 1; }

tensor<float, 4> random_tensor(const lightq::extents_t<4>& e, std::uint64_t seed) {
  tensor<float, 4> t(e);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& x : t) x = dist(rng);
  return t;
}

// The rotation set of the running benchmark: kept between the calls Google Benchmark makes for
// one benchmark, rebuilt (and the old one freed) when the configuration changes.
struct cache_set {
  kv_storage storage{};
  index_t scale_block = 1;
  index_t kv_heads = 0, tokens = 0, dim = 0;
  std::size_t rotate = 0;
  std::vector<kv_cache> caches;
  std::size_t next = 0;
};

cache_set& caches_for(kv_storage storage, index_t kv_heads, index_t tokens, index_t dim, bool rotate,
                      index_t scale_block = 1) {
  static cache_set set;
  if (set.storage == storage && set.scale_block == scale_block && set.kv_heads == kv_heads && set.tokens == tokens && set.dim == dim &&
      set.rotate == rotate && !set.caches.empty())
    return set;
  set.caches.clear();
  set.caches.shrink_to_fit();
  set.storage = storage;
  set.scale_block = scale_block;
  set.kv_heads = kv_heads;
  set.tokens = tokens;
  set.dim = dim;
  set.rotate = rotate;
  set.next = 0;
  const auto k = random_tensor({1, kv_heads, tokens, dim}, 1);
  const auto v = random_tensor({1, kv_heads, tokens, dim}, 2);
  lightq::kv_cache_options options;
  options.scale_block = scale_block;
  kv_cache first(1, kv_heads, tokens, dim, storage, options);
  first.append<arch>(k.cview(), v.cview());
  const std::size_t copies =
      rotate ? lightq::bench::rotation_count(first.capacity_bytes(), lightq::bench::out_of_cache_bytes()) : 1;
  set.caches.reserve(copies);
  set.caches.push_back(std::move(first));
  for (std::size_t i = 1; i < copies; ++i) set.caches.push_back(set.caches[0]);
  return set;
}

// An fp32 cache seen as [1, kv heads, tokens, dim] views (for the naive reference).
lightq::tensor_view<const float, 4> key_view(const kv_cache& c) {
  const index_t cap = c.padded_capacity(), dim = c.head_dim();
  return {c.key_f32(0), {1, c.kv_heads(), c.tokens(), dim}, {c.kv_heads() * cap * dim, cap * dim, dim, 1}};
}
lightq::tensor_view<const float, 4> value_view(const kv_cache& c) {
  const index_t cap = c.padded_capacity(), dim = c.head_dim();
  return {c.value_f32(0), {1, c.kv_heads(), c.tokens(), dim}, {c.kv_heads() * cap * dim, cap * dim, dim, 1}};
}

void run_attention(variant v, const tensor<float, 4>& q, const kv_cache& cache, tensor<float, 4>& out,
                   lightq::context& ctx) {
  if (v == variant::f32_naive)
    lightq::attention_reference<float>(q.cview(), key_view(cache), value_view(cache), out.view());
  else
    lightq::attention<arch>(q.cview(), cache, out.view(), {}, &ctx);
}

void decode_benchmark(benchmark::State& state, variant v, index_t tokens, index_t dim, index_t threads = 1,
                      index_t kv_heads = 8) {
  const index_t heads = 4 * kv_heads;
  cache_set& set = caches_for(storage_of(v), kv_heads, tokens, dim, true, scale_block_of(v));
  const auto q = random_tensor({1, heads, 1, dim}, 3);
  tensor<float, 4> out(q.extents());
  lightq::context ctx(threads);
  for (auto _ : state) {
    const kv_cache& cache = set.caches[set.next];
    set.next = set.next + 1 == set.caches.size() ? 0 : set.next + 1;
    run_attention(v, q, cache, out, ctx);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(set.caches[0].bytes());
  lightq::bench::report(state, 4.0 * static_cast<double>(heads) * static_cast<double>(tokens) * static_cast<double>(dim), bytes,
                        peak_kind::bandwidth);
  lightq::bench::set_model_bytes(state, bytes);
  state.counters["rotation"] = static_cast<double>(set.caches.size());
  if (threads > 1) state.counters["threads"] = static_cast<double>(threads);
  if (kv_heads != 8) state.counters["kv_heads"] = static_cast<double>(kv_heads);
}

void prefill_benchmark(benchmark::State& state, variant v, index_t tokens, index_t dim) {
  constexpr index_t heads = 2, kv_heads = 1;
  cache_set& set = caches_for(storage_of(v), kv_heads, tokens, dim, false);
  const auto q = random_tensor({1, heads, tokens, dim}, 4);
  tensor<float, 4> out(q.extents());
  lightq::context ctx;
  for (auto _ : state) {
    run_attention(v, q, set.caches[0], out, ctx);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double ops = 4.0 * heads * static_cast<double>(tokens) * static_cast<double>(tokens) * static_cast<double>(dim);
  const double bytes = static_cast<double>(set.caches[0].bytes()) + 2.0 * static_cast<double>(q.size()) * sizeof(float);
  lightq::bench::report(state, ops, bytes, v == variant::qs8 ? peak_kind::int8 : peak_kind::fp32);
  lightq::bench::set_model_bytes(state, static_cast<double>(set.caches[0].bytes()));
}

const bool registered = [] {
  const std::string impl = lightq::bench::backend_name();
  const variant variants[] = {variant::f32_naive, variant::f32, variant::f16, variant::qs8};
  const variant decode_variants[] = {variant::f32_naive, variant::f32, variant::f16, variant::qs8, variant::qs8_block16};
  for (index_t dim : {64, 128})
    for (index_t tokens : {1024, 2048, 4096, 8192, 16384, 32768})
      for (variant v : decode_variants) {
        const std::string name = lightq::bench::bench_name("attention", std::string("decode/") + variant_name(v), impl,
                                                           {static_cast<long long>(tokens), static_cast<long long>(dim)});
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { decode_benchmark(s, v, tokens, dim); })
            ->Unit(benchmark::kMicrosecond);
      }
  for (index_t dim : {64, 128})
    for (index_t tokens : {128, 256, 512, 1024, 2048})
      for (variant v : variants) {
        const std::string name = lightq::bench::bench_name("attention", std::string("prefill/") + variant_name(v), impl,
                                                           {static_cast<long long>(tokens), static_cast<long long>(dim)});
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { prefill_benchmark(s, v, tokens, dim); })
            ->Unit(benchmark::kMicrosecond);
      }
  const index_t hw = std::max<index_t>(1, static_cast<index_t>(std::thread::hardware_concurrency()));
  for (variant v : {variant::f32, variant::f16, variant::qs8})
    for (index_t t = 1; t <= std::min<index_t>(hw, 64); t *= 2) {
      const std::string name =
          lightq::bench::bench_name("attention", std::string("decode_threads/") + variant_name(v), impl,
                                    {32768, 128, static_cast<long long>(t)});
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { decode_benchmark(s, v, 32768, 128, t); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  // ONE long cache (batch 1, 1 or 2 kv heads, GQA 4): with 1 kv head and 2 threads the keys are
  // split into chunks and the partial softmax states merged (decode_threads, 8 heads, never is).
  for (variant v : {variant::f32, variant::f16, variant::qs8})
    for (index_t kv : {1, 2})
      for (index_t t = 1; t <= std::min<index_t>(hw, 2); ++t) {
        const std::string name =
            lightq::bench::bench_name("attention", std::string("decode_split/") + variant_name(v), impl,
                                      {32768, 128, static_cast<long long>(kv), static_cast<long long>(t)});
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { decode_benchmark(s, v, 32768, 128, t, kv); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
  return true;
}();

}  // namespace
