// Fused fp32 attention against the reference: shapes, GQA, causal and key-length masks, fully
// masked rows, huge logits, strided views, threads, fp16 output, and bad-input errors.
#include "attention_test_util.hpp"

using namespace lightq;
using namespace lightq::test;

namespace {

std::vector<attention_shape> fp32_shapes() {
  std::vector<attention_shape> shapes;
  for (index_t dim : {1, 7, 16, 33, 64, 128})
    for (index_t tk : {1, 31, 32, 33, 97})
      shapes.push_back({1, 2, 1, 3, tk, dim});
  shapes.push_back({2, 6, 3, 5, 70, 24});
  shapes.push_back({2, 8, 2, 1, 300, 64});    // decode, GQA 4
  shapes.push_back({1, 4, 4, 40, 40, 32});    // prefill: two row blocks
  shapes.push_back({1, 3, 1, 17, 129, 80});
  return shapes;
}

template <class Arch>
tensor<float, 4> fused(const attention_data& d, const attention_options& o = {}) {
  tensor<float, 4> out(d.q.extents());
  attention<Arch>(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), o);
  return out;
}

}  // namespace

TEST_CASE("attention_reference: one key gives v, equal logits give the mean of v") {
  attention_shape s{1, 1, 1, 1, 1, 4};
  auto d = make_attention_data(s, 1);
  auto out = reference_output(d);
  for (index_t i = 0; i < 4; ++i) CHECK(out(0, 0, 0, i) == doctest::Approx(d.v(0, 0, 0, i)));
  attention_shape s2{1, 1, 1, 1, 3, 2};
  auto d2 = make_attention_data(s2, 2);
  for (float& x : d2.q) x = 0.0f;
  auto out2 = reference_output(d2);
  for (index_t i = 0; i < 2; ++i)
    CHECK(out2(0, 0, 0, i) == doctest::Approx((d2.v(0, 0, 0, i) + d2.v(0, 0, 1, i) + d2.v(0, 0, 2, i)) / 3.0));
}

TEST_CASE("attention fp32 fused: matches the reference within the documented bound") {
  std::uint64_t salt = 100;
  float worst_ratio = 0.0f;
  for (const auto& s : fp32_shapes()) {
    for (bool causal : {false, true}) {
      CAPTURE(s.to_string());
      CAPTURE(causal);
      auto d = make_attention_data(s, ++salt);
      attention_options o;
      o.causal = causal;
      auto ref = reference_output(d, o);
      auto out = fused<test_arch>(d, o);
      const float err = max_abs_diff(out, ref), bound = fused_f32_bound(d, o);
      worst_ratio = std::max(worst_ratio, err / bound);
      CHECK(err <= bound);
    }
  }
  MESSAGE("fp32 fused: worst error / bound = " << worst_ratio);
}

TEST_CASE("attention fp32 fused: masks (causal offsets, key lengths, fully masked rows)") {
  attention_shape s{3, 4, 2, 6, 50, 16};
  auto d = make_attention_data(s, 7);
  index_t lengths[3] = {50, 0, 21};
  for (index_t offset : {index_t{-1}, index_t{0}, index_t{10}}) {
    for (bool causal : {false, true}) {
      attention_options o;
      o.causal = causal;
      o.causal_offset = offset;
      o.key_lengths = tensor_view<const index_t, 1>(lengths, {3});
      CAPTURE(offset);
      CAPTURE(causal);
      auto ref = reference_output(d, o);
      auto out = fused<test_arch>(d, o);
      CHECK(max_abs_diff(out, ref) <= fused_f32_bound(d, o));
      for (index_t h = 0; h < 4; ++h)  // sequence 1 has no keys: zeros, never NaN
        for (index_t t = 0; t < 6; ++t)
          for (index_t i = 0; i < 16; ++i) REQUIRE(out(1, h, t, i) == 0.0f);
    }
  }
  // Causal with more queries than keys (end-aligned): the first rows see nothing -> zeros.
  attention_shape s2{1, 2, 1, 8, 5, 8};
  auto d2 = make_attention_data(s2, 8);
  attention_options o;
  o.causal = true;
  auto out = fused<test_arch>(d2, o);
  CHECK(max_abs_diff(out, reference_output(d2, o)) <= fused_f32_bound(d2, o));
  for (index_t t = 0; t < 3; ++t)
    for (index_t i = 0; i < 8; ++i) CHECK(out(0, 1, t, i) == 0.0f);
  CHECK(out(0, 1, 3, 0) == doctest::Approx(d2.v(0, 0, 0, 0)));
}

TEST_CASE("attention fp32 fused: logits of 1e4 stay finite and match the reference") {
  attention_shape s{1, 2, 1, 4, 150, 32};
  auto d = make_attention_data(s, 9);
  // Every logit near +-1e4: a few keys share the max, the rest underflow to zero weight.
  for (float& x : d.q) x = x > 0 ? 25.0f : -25.0f;
  for (float& x : d.k) x = x > 0 ? 25.0f : -25.0f;
  attention_options o;
  o.scale = 1e4f / (25.0f * 25.0f * 32.0f);
  auto out = fused<test_arch>(d, o);
  REQUIRE(all_finite(out));
  CHECK(max_abs_diff(out, reference_output(d, o)) <= fused_f32_bound(d, o));
  o.scale = 1.0f;  // logits up to 2e4
  auto out2 = fused<test_arch>(d, o);
  REQUIRE(all_finite(out2));
}

TEST_CASE("attention fp32 fused: strided views (tokens-major q/out, padded k/v rows)") {
  const index_t B = 2, H = 4, Hkv = 2, Tq = 5, Tk = 37, D = 24;
  auto rng = make_rng(11);
  // q and out stored [B, Tq, H, D] and viewed as [B, H, Tq, D]; k, v rows padded to 32.
  std::vector<float> qs(B * Tq * H * D), ks(B * Hkv * Tk * 32), vs(B * Hkv * Tk * 32), os(B * Tq * H * D, -1.0f);
  for (auto* vec : {&qs, &ks, &vs})
    for (float& x : *vec) x = std::normal_distribution<float>(0.0f, 1.0f)(rng);
  tensor_view<const float, 4> q(qs.data(), {B, H, Tq, D}, {Tq * H * D, D, H * D, 1});
  tensor_view<const float, 4> k(ks.data(), {B, Hkv, Tk, D}, {Hkv * Tk * 32, Tk * 32, 32, 1});
  tensor_view<const float, 4> v(vs.data(), {B, Hkv, Tk, D}, {Hkv * Tk * 32, Tk * 32, 32, 1});
  tensor_view<float, 4> out(os.data(), {B, H, Tq, D}, {Tq * H * D, D, H * D, 1});
  attention_data d{tensor<float, 4>({B, H, Tq, D}), tensor<float, 4>({B, Hkv, Tk, D}), tensor<float, 4>({B, Hkv, Tk, D})};
  for (index_t b = 0; b < B; ++b)
    for (index_t h = 0; h < H; ++h)
      for (index_t t = 0; t < Tq; ++t)
        for (index_t i = 0; i < D; ++i) d.q(b, h, t, i) = q(b, h, t, i);
  for (index_t b = 0; b < B; ++b)
    for (index_t h = 0; h < Hkv; ++h)
      for (index_t t = 0; t < Tk; ++t)
        for (index_t i = 0; i < D; ++i) {
          d.k(b, h, t, i) = k(b, h, t, i);
          d.v(b, h, t, i) = v(b, h, t, i);
        }
  attention_options o;
  o.causal = true;
  attention<test_arch>(q, k, v, out, o);
  auto ref = reference_output(d, o);
  tensor<float, 4> got({B, H, Tq, D});
  for (index_t b = 0; b < B; ++b)
    for (index_t h = 0; h < H; ++h)
      for (index_t t = 0; t < Tq; ++t)
        for (index_t i = 0; i < D; ++i) got(b, h, t, i) = out(b, h, t, i);
  CHECK(max_abs_diff(got, ref) <= fused_f32_bound(d, o));
}

TEST_CASE("attention fp32 fused: the output view is written exactly (guard elements intact)") {
  attention_shape s{1, 2, 1, 3, 20, 12};
  auto d = make_attention_data(s, 12);
  guarded_buffer<float> buf(static_cast<std::size_t>(d.q.size()));
  tensor_view<float, 4> out(buf.data(), d.q.extents());
  attention<test_arch>(d.q.cview(), d.k.cview(), d.v.cview(), out);
  CHECK(buf.intact());
}

TEST_CASE("attention fp32 fused: threads give the single-thread result within the bound") {
  for (const attention_shape& s : {attention_shape{1, 4, 1, 1, 3000, 64}, attention_shape{2, 4, 2, 70, 90, 32}}) {
    CAPTURE(s.to_string());
    auto d = make_attention_data(s, 13);
    attention_options o;
    o.causal = true;
    auto one = fused<test_arch>(d, o);
    o.threads = 3;
    auto three = fused<test_arch>(d, o);
    CHECK(max_abs_diff(one, three) <= fused_f32_bound(d, o));
    CHECK(max_abs_diff(three, reference_output(d, o)) <= fused_f32_bound(d, o));
  }
}

TEST_CASE("attention with a lightq::context: its threads and scratch; no scratch growth once sized") {
  attention_shape decode{1, 8, 2, 1, 2500, 64}, prefill{2, 4, 2, 70, 90, 32};
  auto dd = make_attention_data(decode, 16), dp = make_attention_data(prefill, 17);
  attention_options o;
  o.causal = true;
  tensor<float, 4> out_d(dd.q.extents()), out_p(dp.q.extents());
  for (index_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    context ctx(threads);
    attention<test_arch>(dd.q.cview(), dd.k.cview(), dd.v.cview(), out_d.view(), o, &ctx);
    attention<test_arch>(dp.q.cview(), dp.k.cview(), dp.v.cview(), out_p.view(), o, &ctx);
    const std::size_t sized = ctx.scratch_bytes();
    CHECK(sized > 0);
    CHECK(max_abs_diff(out_d, reference_output(dd, o)) <= fused_f32_bound(dd, o));
    CHECK(max_abs_diff(out_p, reference_output(dp, o)) <= fused_f32_bound(dp, o));
    if (threads == 1) {  // one thread with a context is the call without one, bit for bit
      CHECK(max_abs_diff(out_d, fused<test_arch>(dd, o)) == 0.0f);
      CHECK(max_abs_diff(out_p, fused<test_arch>(dp, o)) == 0.0f);
    }
    for (int repeat = 0; repeat < 3; ++repeat) {
      attention<test_arch>(dd.q.cview(), dd.k.cview(), dd.v.cview(), out_d.view(), o, &ctx);
      attention<test_arch>(dp.q.cview(), dp.k.cview(), dp.v.cview(), out_p.view(), o, &ctx);
    }
    CHECK(ctx.scratch_bytes() == sized);
  }
  // A caller's parallel_for runs the tasks (here in reverse order, one after another).
  index_t calls = 0;
  context custom(4, [&](index_t tasks, const context::task_fn& task) {
    ++calls;
    for (index_t i = tasks; i-- > 0;) task(i);
  });
  attention<test_arch>(dd.q.cview(), dd.k.cview(), dd.v.cview(), out_d.view(), o, &custom);
  CHECK(calls == 1);
  CHECK(max_abs_diff(out_d, reference_output(dd, o)) <= fused_f32_bound(dd, o));
}

TEST_CASE("attention fp32 fused: SIMD backend vs scalar twin within the bound") {
  std::uint64_t salt = 300;
  for (const auto& s : fp32_shapes()) {
    CAPTURE(s.to_string());
    auto d = make_attention_data(s, ++salt);
    attention_options o;
    o.causal = true;
    CHECK(max_abs_diff(fused<test_arch>(d, o), fused<arch::scalar>(d, o)) <= fused_f32_bound(d, o));
  }
}

TEST_CASE("attention: fp16 output is the fp32 output rounded to nearest even") {
  attention_shape s{1, 2, 2, 4, 33, 40};
  auto d = make_attention_data(s, 14);
  auto f32 = fused<test_arch>(d);
  tensor<half, 4> f16(d.q.extents());
  attention<test_arch>(d.q.cview(), d.k.cview(), d.v.cview(), f16.view());
  for (index_t i = 0; i < f32.size(); ++i) REQUIRE(f16.data()[i].bits() == float_to_half_bits(f32.data()[i]));
}

TEST_CASE("attention: fp16 K/V views against the fp32 reference") {
  attention_shape s{1, 4, 2, 3, 200, 64};
  auto d = make_attention_data(s, 15);
  tensor<half, 4> k16(d.k.extents()), v16(d.v.extents());
  for (index_t i = 0; i < d.k.size(); ++i) {
    k16.data()[i] = half(d.k.data()[i]);
    v16.data()[i] = half(d.v.data()[i]);
  }
  tensor<float, 4> out(d.q.extents()), twin(d.q.extents());
  attention<test_arch>(d.q.cview(), k16.cview(), v16.cview(), out.view());
  attention<arch::scalar>(d.q.cview(), k16.cview(), v16.cview(), twin.view());
  auto ref = reference_output(d);
  CHECK(cosine(out, ref) >= 0.9999);
  CHECK(max_abs_diff(out, ref) <= 0.01f * max_abs(d.v));
  CHECK(max_abs_diff(out, twin) <= fused_f32_bound(d));
}

TEST_CASE("attention: bad input is a lightq::error naming the argument") {
  attention_shape s{2, 4, 2, 3, 10, 8};
  auto d = make_attention_data(s, 16);
  tensor<float, 4> out(d.q.extents());
  auto run = [&](tensor_view<const float, 4> q, tensor_view<const float, 4> k, tensor_view<const float, 4> v,
                 tensor_view<float, 4> o, attention_options opt = {}) { attention<test_arch>(q, k, v, o, opt); };
  auto message = [&](auto f) {
    try {
      f();
    } catch (const lightq::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  tensor<float, 4> q3({2, 3, 3, 8}), out3({2, 3, 3, 8});
  CHECK(message([&] { run(q3.cview(), d.k.cview(), d.v.cview(), out3.view()); }).find("multiple of kv heads") !=
        std::string::npos);
  tensor<float, 4> k9({2, 2, 10, 9});
  CHECK(message([&] { run(d.q.cview(), k9.cview(), k9.cview(), out.view()); }).find("head_dim") != std::string::npos);
  CHECK(message([&] { run(d.q.cview(), d.k.cview(), k9.cview(), out.view()); }).find("v extents") != std::string::npos);
  tensor<float, 4> kb({1, 2, 10, 8});
  CHECK(message([&] { run(d.q.cview(), kb.cview(), kb.cview(), out.view()); }).find("batch") != std::string::npos);
  for (float bad : {-1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    attention_options o;
    o.scale = bad;
    CHECK(message([&] { run(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), o); }).find("options.scale") !=
          std::string::npos);
  }
  CHECK(message([&] {
          run(d.q.cview(), d.k.cview(), d.v.cview(), tensor_view<float, 4>(const_cast<float*>(d.q.data()), d.q.extents()));
        }).find("out must not overlap q") != std::string::npos);
  CHECK(message([&] {
          run(d.q.cview(), d.k.cview(), d.v.cview(), tensor_view<float, 4>(const_cast<float*>(d.k.data()), d.q.extents()));
        }).find("overlap") != std::string::npos);
  index_t lengths[2] = {3, 11};
  attention_options o;
  o.key_lengths = tensor_view<const index_t, 1>(lengths, {2});
  CHECK(message([&] { run(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), o); }).find("key_lengths[1] = 11") !=
        std::string::npos);
  o.key_lengths = tensor_view<const index_t, 1>(lengths, {1});
  CHECK(message([&] { run(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), o); }).find("key_lengths size") !=
        std::string::npos);
  attention_options t;
  t.threads = 0;
  CHECK(message([&] { run(d.q.cview(), d.k.cview(), d.v.cview(), out.view(), t); }).find("threads") != std::string::npos);
  tensor_view<const float, 4> strided(d.q.data(), {2, 4, 3, 4}, {96, 24, 8, 2});
  tensor<float, 4> out4({2, 4, 3, 4});
  tensor<float, 4> k4({2, 2, 10, 4});
  CHECK(message([&] { run(strided, k4.cview(), k4.cview(), out4.view()); }).find("unit stride") != std::string::npos);
  // Zero-sized: no-op, no error.
  tensor<float, 4> q0({2, 4, 0, 8}), o0({2, 4, 0, 8});
  CHECK(message([&] { run(q0.cview(), d.k.cview(), d.v.cview(), o0.view()); }) == "no error");
}
