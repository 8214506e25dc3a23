// int8 GEMM (qs8/qu8/qd8 x qc8w): every backend equals the scalar twin bit for bit over the
// shared shape sweep and every output stage; the twin equals a naive int64 reference.
#include <cstring>

#include "gemm/gemm_test_util.hpp"

namespace lt = lightq::test;
using lightq::index_t;

namespace {

using backend = lt::test_arch;
using backend_kernel = lightq::gemm_kernel_for<backend, lightq::qs8, lightq::qc8w>;

lightq::output_clamp pick_clamp(std::uint64_t salt) {
  switch (salt % 4) {
    case 0: return lightq::output_clamp::none();
    case 1: return lightq::output_clamp::relu();
    case 2: return lightq::output_clamp::relu6();
    default: return lightq::output_clamp::range(-1.5f, 2.0f);
  }
}

template <class X, class Y>
void check_q8_case(const lt::gemm_shape& s, std::uint64_t salt, lightq::context* ctx = nullptr) {
  CAPTURE(s.to_string());
  CAPTURE(salt);
  auto rng = lt::make_rng(salt);
  const index_t m = s.m, n = s.n, k = s.k;
  constexpr int xlo = std::numeric_limits<X>::min(), xhi = std::numeric_limits<X>::max();
  lt::test_matrix<X> x(m, k, s.strided);
  x.fill(lt::random_ints<X>(rng, static_cast<std::size_t>(m * k), xlo, xhi));
  lt::test_matrix<std::int8_t> w(n, k, s.strided, s.strided && (salt % 2));
  w.fill(lt::random_ints<std::int8_t>(rng, static_cast<std::size_t>(n * k), -127, 127));
  const std::vector<float> w_scales = lt::random_floats(rng, static_cast<std::size_t>(n), 0.002f, 0.02f);
  const bool with_bias = salt % 3 != 0;
  const std::vector<std::int32_t> bias_i = lt::random_ints<std::int32_t>(rng, static_cast<std::size_t>(n), -40000, 40000);
  const std::vector<float> bias_f = lt::random_floats(rng, static_cast<std::size_t>(n), -2.0f, 2.0f);
  const lightq::quantization xq{0.05f, lt::random_ints<int>(rng, 1, xlo, xhi)[0]};
  int y_zero_point = 0;
  if constexpr (lightq::detail::is_q8_v<Y>)
    y_zero_point = lt::random_ints<int>(rng, 1, std::numeric_limits<Y>::min() / 2, std::numeric_limits<Y>::max() / 2)[0];
  const lightq::quantization yq{0.05f * 0.01f * std::sqrt(float(std::max<index_t>(k, 1))) * 40.0f, y_zero_point};
  const lightq::output_clamp clamp = pick_clamp(salt / 3);
  const lightq::vector_view<const float> scales_view(w_scales.data(), {n});

  const auto packed = lightq::pack_weights<backend>(w.cview(), scales_view);
  const auto packed_twin = lightq::pack_weights<lightq::arch::scalar>(w.cview(), scales_view);
  lt::guarded_matrix<Y> y(m, n, s.strided), y_twin(m, n, s.strided);

  auto run = [&](auto& pw, lt::guarded_matrix<Y>& out, lightq::context* c) {
    if constexpr (std::is_same_v<Y, float>) {
      lightq::vector_view<const float> b(with_bias ? bias_f.data() : nullptr, {with_bias ? n : 0});
      lightq::linear(x.cview(), xq, pw, b, out.view(), clamp, c);
    } else if constexpr (std::is_same_v<Y, std::int32_t>) {
      lightq::vector_view<const std::int32_t> b(with_bias ? bias_i.data() : nullptr, {with_bias ? n : 0});
      lightq::linear(x.cview(), xq.zero_point, pw, b, out.view(), c);
    } else {
      lightq::vector_view<const std::int32_t> b(with_bias ? bias_i.data() : nullptr, {with_bias ? n : 0});
      lightq::linear(x.cview(), xq, pw, b, out.view(), yq, clamp, c);
    }
  };
  run(packed, y, ctx);
  run(packed_twin, y_twin, nullptr);
  REQUIRE(y.buffer.intact());
  REQUIRE(y_twin.buffer.intact());

  lightq::requantize_bounds bounds{};
  if constexpr (lightq::detail::is_q8_v<Y>) bounds = lightq::detail::quantized_bounds<Y>(yq, clamp);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      const std::int64_t dot = lt::naive_dot<X>(x.cview(), i, xq.zero_point, w.cview(), j);
      Y expected;
      if constexpr (std::is_same_v<Y, float>) {
        float v = std::fma(static_cast<float>(dot) * w_scales[std::size_t(j)], xq.scale, with_bias ? bias_f[std::size_t(j)] : 0.0f);
        expected = std::min(std::max(v, clamp.min), clamp.max);
      } else {
        const std::int64_t acc = dot + (with_bias ? bias_i[std::size_t(j)] : 0);
        REQUIRE(acc == static_cast<std::int32_t>(acc));
        if constexpr (std::is_same_v<Y, std::int32_t>) {
          expected = static_cast<Y>(acc);
        } else {
          const float mult = xq.scale * w_scales[std::size_t(j)] / yq.scale;
          expected = static_cast<Y>(lightq::requantize_fp32(static_cast<std::int32_t>(acc), mult, bounds));
        }
      }
      const Y got_twin = y_twin.at(i, j), got = y.at(i, j);
      if (std::memcmp(&got_twin, &expected, sizeof(Y)) != 0 || std::memcmp(&got, &got_twin, sizeof(Y)) != 0) {
        CAPTURE(i);
        CAPTURE(j);
        CHECK(double(got_twin) == double(expected));
        REQUIRE(double(got) == double(got_twin));
      }
    }
}

void check_qd8_case(const lt::gemm_shape& s, std::uint64_t salt, lightq::context* ctx = nullptr) {
  CAPTURE(s.to_string());
  CAPTURE(salt);
  auto rng = lt::make_rng(salt);
  const index_t m = s.m, n = s.n, k = s.k;
  lt::test_matrix<float> x(m, k, s.strided);
  x.fill(lt::gaussian_floats(rng, static_cast<std::size_t>(m * k), 0.3f, 2.0f));
  lt::test_matrix<std::int8_t> w(n, k, s.strided);
  w.fill(lt::random_ints<std::int8_t>(rng, static_cast<std::size_t>(n * k), -127, 127));
  const std::vector<float> w_scales = lt::random_floats(rng, static_cast<std::size_t>(n), 0.002f, 0.02f);
  const std::vector<float> bias = lt::random_floats(rng, static_cast<std::size_t>(n), -2.0f, 2.0f);
  const bool with_bias = salt % 2 == 0;
  const lightq::output_clamp clamp = pick_clamp(salt);
  const lightq::vector_view<const float> scales_view(w_scales.data(), {n});
  const lightq::vector_view<const float> b(with_bias ? bias.data() : nullptr, {with_bias ? n : 0});
  const auto packed = lightq::pack_weights<backend>(w.cview(), scales_view);
  const auto packed_twin = lightq::pack_weights<lightq::arch::scalar>(w.cview(), scales_view);
  lt::guarded_matrix<float> y(m, n, s.strided), y_twin(m, n, s.strided);
  lightq::linear(x.cview(), packed, b, y.view(), clamp, ctx);
  lightq::linear(x.cview(), packed_twin, b, y_twin.view(), clamp);
  REQUIRE(y.buffer.intact());

  // Naive: the same dynamic quantization, int64 dot products, the same dequantizing formula.
  std::vector<std::int8_t> q(static_cast<std::size_t>(std::max<index_t>(1, m * k)));
  std::vector<lightq::qd8_row_params> rows(static_cast<std::size_t>(std::max<index_t>(1, m)));
  lightq::quantize_dynamic_rows<lightq::arch::scalar>(x.cview(), lightq::matrix_view<std::int8_t>(q.data(), {m, k}),
                                                      lightq::vector_view<lightq::qd8_row_params>(rows.data(), {m}));
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      std::int64_t dot = 0;
      for (index_t kk = 0; kk < k; ++kk)
        dot += (std::int64_t(q[std::size_t(i * k + kk)]) - rows[std::size_t(i)].zero_point) * w.view(j, kk);
      float e = std::fma(static_cast<float>(dot) * w_scales[std::size_t(j)], rows[std::size_t(i)].scale,
                         with_bias ? bias[std::size_t(j)] : 0.0f);
      e = std::min(std::max(e, clamp.min), clamp.max);
      const float got_twin = y_twin.at(i, j), got = y.at(i, j);
      if (!(got_twin == e && got == got_twin)) {
        CAPTURE(i);
        CAPTURE(j);
        CHECK(got_twin == e);
        REQUIRE(got == got_twin);
      }
    }
}

std::vector<lt::gemm_shape> q8_shapes() {
  auto shapes = lt::gemm_shapes(backend_kernel::mr, backend_kernel::nr, backend_kernel::kr);
  // The MobileNet 1x1 shapes: narrow N (16, 24: half-width tiles), K = 16 / 24 / 96 (one
  // activation block and a tail), M not a multiple of any tile (49, 196 pixels).
  for (lightq::index_t n : {16, 24, 48})
    for (lightq::index_t k : {16, 24, 96}) shapes.push_back({49, n, k, false});
  shapes.push_back({196, 24, 144, true});
  shapes.push_back({37, 16, 1100, false});  // K slices of the blocked activations
  return shapes;
}

}  // namespace

TEST_CASE("gemm q8: kernel selected for this backend") {
  MESSAGE("backend " << std::string(backend::name) << " runs " << std::string(backend_kernel::name) << " (twin "
                     << std::string(lightq::gemm_kernel_for<lightq::arch::scalar, lightq::qs8, lightq::qc8w>::name) << ")");
  CHECK(lightq::arch_has_v<backend, typename backend_kernel::arch>);
}

TEST_CASE("gemm q8: qs8/qu8 x qc8w -> int8, uint8, fp32, int32 equal the scalar twin and the naive reference") {
  std::uint64_t salt = 1000;
  for (const auto& s : q8_shapes()) {
    check_q8_case<std::int8_t, std::int8_t>(s, salt++);
    check_q8_case<std::uint8_t, std::uint8_t>(s, salt++);
    check_q8_case<std::int8_t, std::uint8_t>(s, salt++);
    check_q8_case<std::uint8_t, std::int8_t>(s, salt++);
    check_q8_case<std::int8_t, float>(s, salt++);
    check_q8_case<std::uint8_t, float>(s, salt++);
    check_q8_case<std::int8_t, std::int32_t>(s, salt++);
    check_q8_case<std::uint8_t, std::int32_t>(s, salt++);
  }
}

TEST_CASE("gemm qd8: dynamic rows x qc8w -> fp32 equal the scalar twin and the naive reference") {
  std::uint64_t salt = 5000;
  for (const auto& s : q8_shapes()) check_qd8_case(s, salt++);
}

TEST_CASE("gemm q8: results do not depend on the thread count") {
  const lt::gemm_shape s{2 * backend_kernel::mr + 3, 9 * backend_kernel::nr + 5, 77, true};
  lightq::context two(2), three(3);
  std::vector<index_t> calls;
  lightq::context custom(4, [&](index_t tasks, const lightq::context::task_fn& task) {
    calls.push_back(tasks);
    for (index_t t = tasks; t-- > 0;) task(t);  // reverse order: any schedule must give the same bits
  });
  for (lightq::context* c : {&two, &three, &custom}) {
    check_q8_case<std::int8_t, std::int8_t>(s, 77, c);
    check_q8_case<std::uint8_t, float>(s, 78, c);
    check_qd8_case(s, 79, c);
  }
  CHECK(!calls.empty());
}

TEST_CASE("gemm q8: several cache blocks in M, N and K (block edges, partial sums, loop order)") {
  const lt::gemm_shape s{backend_kernel::mc_block + backend_kernel::mr + 1, backend_kernel::nc_block + backend_kernel::nr + 3,
                         backend_kernel::kc_block + 2 * backend_kernel::kr + 1, false};
  check_q8_case<std::int8_t, std::int8_t>(s, 91);
  check_q8_case<std::uint8_t, float>(s, 92);
  // Row blocks packed by the task that multiplies them: any thread count gives the same bits.
  lightq::context two(2), three(3);
  check_q8_case<std::int8_t, std::int8_t>(s, 93, &two);
  check_qd8_case(s, 94, &three);
}

TEST_CASE("gemm q8: the output is split into one rectangle of tiles per task") {
  using lightq::detail::choose_gemm_task_grid;
  const index_t mr = backend_kernel::mr, nr = backend_kernel::nr;
  CHECK(choose_gemm_task_grid(171, 64, mr, nr, 1).tasks() == 1);
  const auto gemv = choose_gemm_task_grid(1, 256, mr, nr, 16);  // one row panel: split the columns
  CHECK(gemv.gm == 1);
  CHECK(gemv.gn == 16);
  CHECK(choose_gemm_task_grid(171, 64, mr, nr, 16).tasks() == 16);
  CHECK(choose_gemm_task_grid(2, 3, mr, nr, 16).tasks() <= 6);  // never more tasks than tiles
  for (index_t rt : {1, 5, 48, 171})
    for (index_t ct : {1, 3, 64})
      for (index_t t : {1, 2, 3, 7, 16}) {
        const auto g = choose_gemm_task_grid(rt, ct, mr, nr, t);
        CAPTURE(rt);
        CAPTURE(ct);
        CAPTURE(t);
        CHECK(g.gm >= 1);
        CHECK(g.gn >= 1);
        CHECK(g.gm <= rt);
        CHECK(g.gn <= ct);
        CHECK(g.tasks() <= t);
        // Balanced: the largest task has at most one row range and one column range more than
        // an even split would give.
        CHECK(lightq::detail::divide_round_up(rt, g.gm) * g.gm < rt + g.gm);
      }
  // Rows and columns split, and tasks with several row blocks each: every thread count gives
  // the scalar twin's bits.
  const lt::gemm_shape tall{2 * backend_kernel::mc_block + mr + 1, 4 * nr + 3, backend_kernel::kc_block + 5, false};
  const lt::gemm_shape square{9 * mr + 5, 9 * nr + 7, 131, true};
  for (index_t t : {2, 5, 16}) {
    lightq::context ctx(t);
    check_q8_case<std::int8_t, std::int8_t>(tall, 101 + std::uint64_t(t), &ctx);
    check_q8_case<std::int8_t, std::int8_t>(square, 111 + std::uint64_t(t), &ctx);
    check_qd8_case(square, 121 + std::uint64_t(t), &ctx);
  }
}

TEST_CASE("gemm q8: one-row jobs (GEMV) with K over several 4 KiB chunks") {
  // The AVX-512 VNNI kernel copies a one-row job's activations to the stack 4 KiB at a time;
  // K past one and two chunks, not a multiple of the 64-byte block, random data.
  for (const lt::gemm_shape& s : {lt::gemm_shape{1, backend_kernel::nr + 3, 4099, false},
                                  lt::gemm_shape{1, 2 * backend_kernel::nr + 1, 8195, true},
                                  lt::gemm_shape{1, 16, 4096, false}}) {
    check_q8_case<std::int8_t, std::int8_t>(s, 131);
    check_q8_case<std::uint8_t, float>(s, 132);
    check_qd8_case(s, 133);
  }
}

TEST_CASE("gemm q8: zero-sized dimensions") {
  for (const auto& s : {lt::gemm_shape{0, 5, 7, false}, lt::gemm_shape{4, 0, 7, false}, lt::gemm_shape{4, 5, 0, false},
                        lt::gemm_shape{0, 0, 0, false}}) {
    check_q8_case<std::int8_t, std::int8_t>(s, 90);
    check_q8_case<std::uint8_t, float>(s, 91);
    check_q8_case<std::int8_t, std::int32_t>(s, 92);
    check_qd8_case(s, 93);
  }
}

TEST_CASE("gemm q8: bad input is rejected with an error naming the argument") {
  const index_t m = 3, n = 5, k = 7;
  std::vector<std::int8_t> xs(m * k, 1), ws(n * k, 1);
  std::vector<float> scales(n, 0.01f);
  std::vector<std::int8_t> ys(m * n);
  lightq::matrix_view<const std::int8_t> x(xs.data(), {m, k});
  lightq::matrix_view<std::int8_t> y(ys.data(), {m, n});
  const auto w = lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(ws.data(), {n, k}),
                                               lightq::vector_view<const float>(scales.data(), {n}));
  const lightq::quantization q{0.1f, 0};
  auto throws_with = [](auto&& f, const char* text) {
    try {
      f();
      FAIL("no error, expected one mentioning " << text);
    } catch (const lightq::error& e) {
      CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
    }
  };
  throws_with([&] { lightq::linear(x, {0.0f, 0}, w, {}, y, q); }, "x_quant.scale");
  throws_with([&] { lightq::linear(x, {std::nanf(""), 0}, w, {}, y, q); }, "x_quant.scale");
  throws_with([&] { lightq::linear(x, {std::numeric_limits<float>::infinity(), 0}, w, {}, y, q); }, "x_quant.scale");
  throws_with([&] { lightq::linear(x, {0.1f, 128}, w, {}, y, q); }, "x_quant.zero_point");
  throws_with([&] { lightq::linear(x, q, w, {}, y, {-1.0f, 0}); }, "y_quant.scale");
  throws_with([&] { lightq::linear(x, q, w, {}, y, {0.1f, -129}); }, "y_quant.zero_point");
  std::vector<std::uint8_t> yu(m * n);
  throws_with([&] { lightq::linear(x, q, w, {}, lightq::matrix_view<std::uint8_t>(yu.data(), {m, n}), {0.1f, 256}); },
              "y_quant.zero_point");
  throws_with([&] { lightq::linear(x, q, w, {}, y, q, lightq::output_clamp::range(2.0f, 1.0f)); }, "clamp");
  // Packed for another K or N.
  std::vector<std::int8_t> x8(m * (k + 1), 1);
  throws_with([&] { lightq::linear(lightq::matrix_view<const std::int8_t>(x8.data(), {m, k + 1}), q, w, {}, y, q); }, "K");
  std::vector<std::int8_t> y6(m * (n + 1));
  throws_with([&] { lightq::linear(x, q, w, {}, lightq::matrix_view<std::int8_t>(y6.data(), {m, n + 1}), q); }, "N");
  throws_with([&] { lightq::linear(x, q, w, {}, lightq::matrix_view<std::int8_t>(y6.data(), {m + 1, n}), q); }, "M");
  std::vector<std::int32_t> bias(n + 1);
  throws_with([&] { lightq::linear(x, q, w, lightq::vector_view<const std::int32_t>(bias.data(), {n + 1}), y, q); }, "bias");
  // Output aliasing an input.
  std::vector<std::int8_t> shared(64, 0);
  throws_with(
      [&] {
        lightq::linear(lightq::matrix_view<const std::int8_t>(shared.data(), {m, k}), q, w, {},
                       lightq::matrix_view<std::int8_t>(shared.data() + 4, {m, n}), q);
      },
      "overlap");
  // Weights.
  std::vector<std::int8_t> bad(n * k, 0);
  bad[7] = -128;
  throws_with([&] { lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(bad.data(), {n, k}),
                                                  lightq::vector_view<const float>(scales.data(), {n})); },
              "-127");
  std::vector<float> bad_scales(n, 0.01f);
  bad_scales[2] = 0.0f;
  throws_with([&] { lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(ws.data(), {n, k}),
                                                  lightq::vector_view<const float>(bad_scales.data(), {n})); },
              "scales(2)");
  throws_with([&] { lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(ws.data(), {n, k}),
                                                  lightq::vector_view<const float>(scales.data(), {n - 1})); },
              "scales");
}

TEST_CASE("gemm q8: K beyond the exact int32 bound is rejected; K at the bound is exact") {
  const index_t limit = lightq::gemm_max_exact_k;
  CHECK(limit == 66311);
  {
    std::vector<std::int8_t> w(static_cast<std::size_t>(limit + 1), 1);
    std::vector<float> scale(1, 1.0f);
    CHECK_THROWS_AS(lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(w.data(), {1, limit + 1}),
                                                  lightq::vector_view<const float>(scale.data(), {1})),
                    lightq::error);
  }
  // The worst case at K = limit: uint8 255 with zero point 0 times -127 everywhere, and int8
  // -128 with zero point 127 (x - zx = -255) times 127: |sum| = K * 32385 <= 2^31 - 1.
  const index_t k = limit;
  std::vector<std::int8_t> w(static_cast<std::size_t>(2 * k));
  for (index_t i = 0; i < k; ++i) {
    w[std::size_t(i)] = -127;
    w[std::size_t(k + i)] = 127;
  }
  std::vector<float> scale(2, 1.0f);
  const auto packed = lightq::pack_weights<backend>(lightq::matrix_view<const std::int8_t>(w.data(), {2, k}),
                                                    lightq::vector_view<const float>(scale.data(), {2}));
  std::vector<std::uint8_t> xu(static_cast<std::size_t>(k), 255);
  std::vector<std::int8_t> xs(static_cast<std::size_t>(k), -128);
  std::int32_t y[2];
  lightq::linear(lightq::matrix_view<const std::uint8_t>(xu.data(), {1, k}), 0, packed, {},
                 lightq::matrix_view<std::int32_t>(y, {1, 2}));
  CHECK(std::int64_t(y[0]) == -std::int64_t(k) * 255 * 127);
  CHECK(std::int64_t(y[1]) == std::int64_t(k) * 255 * 127);
  lightq::linear(lightq::matrix_view<const std::int8_t>(xs.data(), {1, k}), 127, packed, {},
                 lightq::matrix_view<std::int32_t>(y, {1, 2}));
  CHECK(std::int64_t(y[0]) == std::int64_t(k) * 255 * 127);
  CHECK(std::int64_t(y[1]) == -std::int64_t(k) * 255 * 127);
}
