// kv_cache (fp32, fp16, int8) and attention over it: accuracy against the fp32 reference on
// random and structured inputs, decode vs prefill, threads, the int8 dot products bit-exact
// against the scalar twin, bytes, and errors.
#include "attention_test_util.hpp"

using namespace lightq;
using namespace lightq::test;

namespace {

kv_cache make_cache(const attention_data& d, kv_storage storage, index_t capacity = -1, kv_cache_options options = {}) {
  const index_t tk = d.k.extent(2);
  kv_cache cache(d.k.extent(0), d.k.extent(1), capacity < 0 ? tk : capacity, d.k.extent(3), storage, options);
  cache.append<test_arch>(d.k.cview(), d.v.cview());
  return cache;
}

template <class Arch>
tensor<float, 4> cached(const attention_data& d, const kv_cache& cache, const attention_options& o = {}) {
  tensor<float, 4> out(d.q.extents());
  attention<Arch>(d.q.cview(), cache, out.view(), o);
  return out;
}

struct accuracy {
  double worst_cosine = 1.0;
  float worst_error = 0.0f;  // max |out - ref| / max|v|
  void add(const tensor<float, 4>& out, const tensor<float, 4>& ref, float v_max) {
    worst_cosine = std::min(worst_cosine, cosine(out, ref));
    worst_error = std::max(worst_error, max_abs_diff(out, ref) / v_max);
  }
};

// Structured inputs: 0 random (logits ~ N(0, 1)), 1 large logits (q x 3: logits ~ N(0, 9), the
// softmax concentrated on a few keys), 2 outlier channels in K (two channels with a large common
// offset, +20 and -15, and a 10x spread), 3 outliers + large logits.
attention_data structured(const attention_shape& s, int kind, std::uint64_t salt, float large = 3.0f) {
  auto d = make_attention_data(s, salt, kind == 1 || kind == 3 ? large : 1.0f);
  if (kind >= 2) {
    for (index_t b = 0; b < s.batch; ++b)
      for (index_t h = 0; h < s.kv_heads; ++h)
        for (index_t t = 0; t < s.key_tokens; ++t) {
          d.k(b, h, t, 0) = 20.0f + 10.0f * d.k(b, h, t, 0);
          d.k(b, h, t, s.dim / 2) = -15.0f + 10.0f * d.k(b, h, t, s.dim / 2);
        }
  }
  return d;
}

}  // namespace

TEST_CASE("kv_cache: f32 cache attention equals view attention; bytes are reported") {
  attention_shape s{2, 4, 2, 3, 70, 24};
  auto d = make_attention_data(s, 21);
  auto cache = make_cache(d, kv_storage::f32, 100);
  CHECK(cache.tokens() == 70);
  CHECK(cache.bytes() == std::size_t(2 * 2 * 70 * 2 * 24 * 4));
  tensor<float, 4> ref(d.q.extents());
  attention<test_arch>(d.q.cview(), d.k.cview(), d.v.cview(), ref.view());
  auto out = cached<test_arch>(d, cache);
  CHECK(max_abs_diff(out, ref) == 0.0f);
  kv_cache c16(2, 2, 100, 24, kv_storage::f16), c8(2, 2, 100, 24, kv_storage::qs8);
  CHECK(c16.bytes_per_token() == std::size_t(2 * 24 * 2));
  CHECK(c8.bytes_per_token() == std::size_t(24 + 32 + 12));  // K 24 B, V padded to 32 B, 2 scales, 1 key sum
}

TEST_CASE("kv_cache: fp16 and int8 attention against the fp32 reference (random and structured)") {
  // Bounds asserted (documented in docs/attention.md):
  //   fp16: cosine >= 0.9999, max|err| <= 0.02 max|v| everywhere;
  //   int8, per-token scales: cosine >= 0.999, max|err| <= 0.06 max|v|;
  //   int8, one scale per block of 16 or 64 tokens: cosine >= 0.999, max|err| <= 0.08 max|v|.
  const std::vector<attention_shape> shapes = {
      {1, 4, 1, 1, 600, 64},    // decode, GQA 4
      {1, 2, 2, 1, 300, 128},   // decode
      {2, 4, 2, 33, 97, 64},    // prefill with a short cache
      {1, 2, 1, 5, 130, 40},    // head_dim not a multiple of 16
      {1, 1, 1, 2, 17, 3},      // tiny
  };
  accuracy f16, i8_wide, i8_small, i8_block[2];
  const index_t blocks[2] = {16, 64};
  std::uint64_t salt = 400;
  for (const auto& s : shapes)
    for (int kind = 0; kind < 4; ++kind)
      for (bool causal : {false, true}) {
        CAPTURE(s.to_string());
        CAPTURE(kind);
        CAPTURE(causal);
        auto d = structured(s, kind, ++salt);
        attention_options o;
        o.causal = causal;
        auto ref = reference_output(d, o);
        const float v_max = max_abs(d.v);
        auto out16 = cached<test_arch>(d, make_cache(d, kv_storage::f16), o);
        auto out8 = cached<test_arch>(d, make_cache(d, kv_storage::qs8), o);
        REQUIRE(all_finite(out16));
        REQUIRE(all_finite(out8));
        f16.add(out16, ref, v_max);
        CHECK(cosine(out16, ref) >= 0.9999);
        CHECK(max_abs_diff(out16, ref) <= 0.02f * v_max);
        const bool wide = s.dim >= 64;
        (wide ? i8_wide : i8_small).add(out8, ref, v_max);
        CHECK(cosine(out8, ref) >= 0.999);
        CHECK(max_abs_diff(out8, ref) <= 0.06f * v_max);
        for (int i = 0; i < 2; ++i) {
          CAPTURE(blocks[i]);
          kv_cache_options co;
          co.scale_block = blocks[i];
          auto out_block = cached<test_arch>(d, make_cache(d, kv_storage::qs8, -1, co), o);
          REQUIRE(all_finite(out_block));
          i8_block[i].add(out_block, ref, v_max);
          CHECK(cosine(out_block, ref) >= 0.999);
          CHECK(max_abs_diff(out_block, ref) <= 0.08f * v_max);
        }
      }
  MESSAGE("fp16 cache: worst cosine " << f16.worst_cosine << ", worst max|err|/max|v| " << f16.worst_error);
  MESSAGE("int8 cache, head_dim >= 64: worst cosine " << i8_wide.worst_cosine << ", worst max|err|/max|v| "
                                                      << i8_wide.worst_error);
  MESSAGE("int8 cache, head_dim 3 and 40: worst cosine " << i8_small.worst_cosine << ", worst max|err|/max|v| "
                                                         << i8_small.worst_error);
  for (int i = 0; i < 2; ++i)
    MESSAGE("int8 cache, one scale per block of " << blocks[i] << " tokens: worst cosine " << i8_block[i].worst_cosine
                                                 << ", worst max|err|/max|v| " << i8_block[i].worst_error);
}

TEST_CASE("kv_cache: per-block scales, appending token by token gives the bytes of one append") {
  attention_shape s{2, 4, 2, 1, 75, 24};
  auto d = structured(s, 2, 81);
  // Token norms that grow and shrink inside a block force requantization of earlier rows.
  for (index_t t = 0; t < s.key_tokens; ++t)
    for (index_t i = 0; i < s.dim; ++i) d.v(1, 1, t, i) *= 1.0f + static_cast<float>((t * 7) % 16);
  for (index_t block : {1, 4, 16, 64}) {
    CAPTURE(block);
    kv_cache_options co;
    co.scale_block = block;
    auto whole = make_cache(d, kv_storage::qs8, 80, co);
    kv_cache steps(2, 2, 80, 24, kv_storage::qs8, co);
    steps.append<test_arch>(d.k.cview().slice(2, 0, 5), d.v.cview().slice(2, 0, 5));  // centre from 5 tokens
    whole = kv_cache(2, 2, 80, 24, kv_storage::qs8, co);
    whole.append<test_arch>(d.k.cview().slice(2, 0, 5), d.v.cview().slice(2, 0, 5));
    whole.append<test_arch>(d.k.cview().slice(2, 5, 70), d.v.cview().slice(2, 5, 70));
    for (index_t t = 5; t < 75; ++t) steps.append<test_arch>(d.k.cview().slice(2, t, 1), d.v.cview().slice(2, t, 1));
    REQUIRE(steps.tokens() == whole.tokens());
    for (index_t slab = 0; slab < 4; ++slab) {
      const index_t tokens = steps.padded_capacity();
      for (index_t i = 0; i < tokens * steps.key_groups() * 4; ++i) REQUIRE(steps.key_qs8(slab)[i] == whole.key_qs8(slab)[i]);
      for (index_t i = 0; i < tokens * steps.value_dim(); ++i) REQUIRE(steps.value_qs8(slab)[i] == whole.value_qs8(slab)[i]);
      for (index_t t = 0; t < 75; ++t) REQUIRE(steps.key_sums(slab)[t] == whole.key_sums(slab)[t]);
      for (index_t i = 0; i < (75 + block - 1) / block; ++i) {
        REQUIRE(steps.key_scales(slab)[i] == whole.key_scales(slab)[i]);
        REQUIRE(steps.value_scales(slab)[i] == whole.value_scales(slab)[i]);
      }
    }
    // Bytes: K 24 + V 32 + key sum 4 per token, 8 per block of scales.
    CHECK(steps.bytes() == std::size_t(4 * (75 * 60 + (75 + block - 1) / block * 8)));
    CHECK(steps.scale_block() == block);
  }
}

TEST_CASE("kv_cache: int8 accuracy against the logit scale (characterisation)") {
  attention_shape s{1, 4, 1, 1, 1000, 128};
  for (float q_scale : {1.0f, 2.0f, 4.0f, 8.0f}) {
    accuracy i8;
    for (int kind : {1, 3}) {
      auto d = structured(s, kind, 90 + static_cast<std::uint64_t>(q_scale), q_scale);
      auto ref = reference_output(d);
      i8.add(cached<test_arch>(d, make_cache(d, kv_storage::qs8)), ref, max_abs(d.v));
    }
    MESSAGE("int8, logits ~ N(0, " << q_scale * q_scale << "): cosine " << i8.worst_cosine << ", max|err|/max|v| "
                                   << i8.worst_error);
    // Asserted: >= 0.999 up to logits ~ N(0, 4); >= 0.998 for the very peaked N(0, 16), N(0, 64).
    CHECK(i8.worst_cosine >= (q_scale <= 2.0f ? 0.999 : 0.998));
  }
}

TEST_CASE("kv_cache: int8 with outlier channels, with and without key centring") {
  attention_shape s{1, 2, 1, 4, 200, 64};
  auto d = structured(s, 3, 77);
  auto ref = reference_output(d);
  kv_cache plain(1, 1, 200, 64, kv_storage::qs8, kv_cache_options{false});
  plain.append<test_arch>(d.k.cview(), d.v.cview());
  auto centered = cached<test_arch>(d, make_cache(d, kv_storage::qs8));
  auto uncentered = cached<test_arch>(d, plain);
  MESSAGE("outlier K, int8: cosine centred " << cosine(centered, ref) << ", uncentred " << cosine(uncentered, ref));
  CHECK(cosine(centered, ref) >= 0.999);
}

TEST_CASE("kv_cache: decode token by token equals causal prefill rows") {
  attention_shape s{1, 4, 2, 40, 40, 32};
  auto d = make_attention_data(s, 31);
  for (kv_storage storage : {kv_storage::f32, kv_storage::f16, kv_storage::qs8}) {
    CAPTURE(to_string(storage));
    kv_cache cache(1, 2, 64, 32, storage);
    // Prefill 25 tokens, then decode 15 one at a time.
    cache.append<test_arch>(d.k.cview().slice(2, 0, 25), d.v.cview().slice(2, 0, 25));
    attention_options o;
    o.causal = true;
    tensor<float, 4> prefill({1, 4, 25, 32});
    attention<test_arch>(d.q.cview().slice(2, 0, 25), cache, prefill.view(), o);
    auto ref = reference_output(d, o);
    const float v_max = max_abs(d.v);
    for (index_t t = 0; t < 25; ++t)
      for (index_t h = 0; h < 4; ++h)
        for (index_t i = 0; i < 32; ++i) REQUIRE(std::fabs(prefill(0, h, t, i) - ref(0, h, t, i)) <= 0.06f * v_max);
    for (index_t t = 25; t < 40; ++t) {
      cache.append<test_arch>(d.k.cview().slice(2, t, 1), d.v.cview().slice(2, t, 1));
      tensor<float, 4> step({1, 4, 1, 32});
      attention<test_arch>(d.q.cview().slice(2, t, 1), cache, step.view(), o);
      for (index_t h = 0; h < 4; ++h)
        for (index_t i = 0; i < 32; ++i) REQUIRE(std::fabs(step(0, h, 0, i) - ref(0, h, t, i)) <= 0.06f * v_max);
    }
    CHECK(cache.tokens() == 40);
    CHECK_THROWS_AS(cache.append<test_arch>(d.k.cview().slice(2, 0, 25), d.v.cview().slice(2, 0, 25)), lightq::error);
  }
}

TEST_CASE("kv_cache: SIMD backend vs scalar twin, and threads vs one thread") {
  attention_shape s{1, 8, 2, 1, 1200, 128};
  auto d = make_attention_data(s, 41);
  for (kv_storage storage : {kv_storage::f32, kv_storage::f16, kv_storage::qs8}) {
    CAPTURE(to_string(storage));
    auto cache = make_cache(d, storage);
    auto simd = cached<test_arch>(d, cache);
    auto twin = cached<arch::scalar>(d, cache);
    attention_options o;
    o.threads = 4;
    auto threaded = cached<test_arch>(d, cache, o);
    // fp32 / fp16: the fp32 bound; int8: the same integer logits, P quantized after a float exp
    // that may differ by an ulp -> one P step (1/254 of the row's largest weight) at most.
    const float bound = storage == kv_storage::qs8 ? 0.01f * max_abs(d.v) : fused_f32_bound(d);
    CHECK(max_abs_diff(simd, twin) <= bound);
    CHECK(max_abs_diff(simd, threaded) <= bound);
  }
  kv_cache_options co;
  co.scale_block = 16;
  auto blocked = make_cache(d, kv_storage::qs8, 1210, co);  // last block partly filled
  CHECK(max_abs_diff(cached<test_arch>(d, blocked), cached<arch::scalar>(d, blocked)) <= 0.01f * max_abs(d.v));
}

TEST_CASE("int8 micro-kernels: Q*K^T and P*V dot products are bit-exact against the scalar twin") {
  using simd_ops = detail::attention_int8_ops<test_arch>;
  using twin_ops = detail::attention_int8_ops<arch::scalar>;
  auto rng = make_rng(51);
  for (index_t groups : {1, 2, 3, 5, 16, 32, 33}) {
    for (int pattern = 0; pattern < 3; ++pattern) {
      CAPTURE(groups);
      CAPTURE(pattern);
      // pattern 0: random; 1: all +-127 (the extremes the +128 trick and pairs must carry); 2: mixed zeros.
      auto q = random_ints<std::int8_t>(rng, static_cast<std::size_t>(groups * 4), -127, 127);
      auto tile = random_ints<std::int8_t>(rng, static_cast<std::size_t>(groups * 64), -127, 127);
      if (pattern == 1) {
        for (auto& x : q) x = static_cast<std::int8_t>(x >= 0 ? 127 : -127);
        for (auto& x : tile) x = static_cast<std::int8_t>(x >= 0 ? 127 : -127);
      } else if (pattern == 2) {
        for (std::size_t i = 0; i < q.size(); i += 3) q[i] = 0;
      }
      std::vector<std::int32_t> sums(16, 0);
      for (index_t t = 0; t < 16; ++t)
        for (index_t g = 0; g < groups; ++g)
          for (index_t c = 0; c < 4; ++c) sums[static_cast<std::size_t>(t)] += tile[static_cast<std::size_t>(g * 64 + t * 4 + c)];
      std::vector<std::uint8_t> prepared_simd(q.size()), prepared_twin(q.size());
      simd_ops::prepare_query(q.data(), groups, prepared_simd.data());
      twin_ops::prepare_query(q.data(), groups, prepared_twin.data());
      std::int32_t dots_simd[16], dots_twin[16];
      simd_ops::dot_key_tile(prepared_simd.data(), tile.data(), sums.data(), groups, dots_simd);
      twin_ops::dot_key_tile(prepared_twin.data(), tile.data(), sums.data(), groups, dots_twin);
      for (int t = 0; t < 16; ++t) REQUIRE(dots_simd[t] == dots_twin[t]);
      // Three rows x two digits in one call (the fused multi-row kernel where a backend has one).
      auto rows = random_ints<std::int8_t>(rng, static_cast<std::size_t>(3 * 2 * groups * 4), -127, 127);
      std::vector<std::uint8_t> rows_simd(rows.size()), rows_twin(rows.size());
      for (std::size_t i = 0; i < rows.size(); i += static_cast<std::size_t>(groups * 4)) {
        simd_ops::prepare_query(rows.data() + i, groups, rows_simd.data() + i);
        twin_ops::prepare_query(rows.data() + i, groups, rows_twin.data() + i);
      }
      const std::uint8_t* ps[3] = {rows_simd.data(), rows_simd.data() + 2 * groups * 4, rows_simd.data() + 4 * groups * 4};
      const std::uint8_t* pt[3] = {rows_twin.data(), rows_twin.data() + 2 * groups * 4, rows_twin.data() + 4 * groups * 4};
      std::vector<std::int32_t> multi_simd(6 * 20, -1), multi_twin(6 * 20, -1);
      detail::attention_dot_key_tile_rows<test_arch, 3, simd_ops>(ps, tile.data(), sums.data(), groups, multi_simd.data(), 20);
      detail::attention_dot_key_tile_rows<arch::scalar, 3, twin_ops>(pt, tile.data(), sums.data(), groups, multi_twin.data(), 20);
      REQUIRE(multi_simd == multi_twin);
    }
  }
  for (index_t value_dim : {16, 32, 48, 64, 128, 144}) {
    for (index_t count : {1, 4, 16}) {
      CAPTURE(value_dim);
      CAPTURE(count);
      auto w = random_ints<std::uint8_t>(rng, static_cast<std::size_t>(count * 4), 0, 127);
      auto values = random_ints<std::int8_t>(rng, static_cast<std::size_t>(count * 4 * value_dim), -127, 127);
      w[0] = 127;
      values[0] = -127;
      std::vector<std::int32_t> acc_simd(static_cast<std::size_t>(value_dim), 5), acc_twin(static_cast<std::size_t>(value_dim), 5);
      simd_ops::accumulate_values(w.data(), values.data(), count, value_dim, acc_simd.data());
      twin_ops::accumulate_values(w.data(), values.data(), count, value_dim, acc_twin.data());
      REQUIRE(acc_simd == acc_twin);
      // Four rows sharing every V load.
      auto w4 = random_ints<std::uint8_t>(rng, static_cast<std::size_t>(4 * count * 4), 0, 127);
      std::vector<std::int32_t> acc4_simd(static_cast<std::size_t>(4 * value_dim), 7), acc4_twin(acc4_simd);
      const std::uint8_t* wr[4];
      std::int32_t* as[4];
      std::int32_t* at[4];
      for (std::size_t r = 0; r < 4; ++r) {
        wr[r] = w4.data() + r * static_cast<std::size_t>(count * 4);
        as[r] = acc4_simd.data() + r * static_cast<std::size_t>(value_dim);
        at[r] = acc4_twin.data() + r * static_cast<std::size_t>(value_dim);
      }
      detail::attention_accumulate_values_rows<test_arch, 4, simd_ops>(wr, values.data(), count, value_dim, as);
      detail::attention_accumulate_values_rows<arch::scalar, 4, twin_ops>(wr, values.data(), count, value_dim, at);
      REQUIRE(acc4_simd == acc4_twin);
    }
  }
}

TEST_CASE("kv_cache and attention over it: errors name the argument") {
  kv_cache cache(1, 2, 10, 8, kv_storage::qs8);
  tensor<float, 4> k({1, 2, 11, 8}), k3({1, 3, 4, 8}), k9({1, 2, 4, 9});
  auto message = [](auto f) {
    try {
      f();
    } catch (const lightq::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { cache.append<test_arch>(k.cview(), k.cview()); }).find("cache overflow") != std::string::npos);
  CHECK(message([&] { cache.append<test_arch>(k3.cview(), k3.cview()); }).find("kv heads") != std::string::npos);
  CHECK(message([&] { cache.append<test_arch>(k9.cview(), k9.cview()); }).find("head_dim") != std::string::npos);
  CHECK(message([&] { kv_cache bad(1, 1, -1, 8); }).find("capacity") != std::string::npos);
  CHECK(message([&] { kv_cache big(1, 1, 4, 20000, kv_storage::qs8); }).find("head_dim") != std::string::npos);
  for (index_t block : {0, 3, 128}) {
    kv_cache_options co;
    co.scale_block = block;
    CHECK(message([&] { kv_cache bad(1, 1, 4, 8, kv_storage::qs8, co); }).find("options.scale_block") != std::string::npos);
  }
  tensor<float, 4> q({1, 3, 1, 8}), out({1, 3, 1, 8});
  CHECK(message([&] { attention<test_arch>(q.cview(), cache, out.view()); }).find("multiple of kv heads") !=
        std::string::npos);
  tensor<float, 4> q2({1, 4, 1, 16}), out2({1, 4, 1, 16});
  CHECK(message([&] { attention<test_arch>(q2.cview(), cache, out2.view()); }).find("head_dim") != std::string::npos);
  tensor<float, 4> q4({1, 4, 1, 8}), out4({1, 4, 2, 8});
  CHECK(message([&] { attention<test_arch>(q4.cview(), cache, out4.view()); }).find("out extents") != std::string::npos);
  // An empty cache: every row is fully masked -> zeros.
  tensor<float, 4> out5({1, 4, 1, 8}, 3.0f);
  attention<test_arch>(q4.cview(), cache, out5.view());
  for (float x : out5) CHECK(x == 0.0f);
}
