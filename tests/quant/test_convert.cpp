// Tests of the bulk fp32 <-> fp16 / bf16 conversions (quant/convert.hpp): every compiled backend
// equals the scalar twin bit for bit on all 65,536 narrow inputs, on every half / bf16 rounding
// boundary, on millions of random float bit patterns (NaN payloads included), on every length
// 0..67 at unaligned offsets with guard bytes around the output (and guard pages around the
// input where the OS has mprotect), on strided views; bad arguments throw lightq::error.
#include "test_common.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "lightq/core/half.hpp"
#include "lightq/core/cpu_features.hpp"
#include "lightq/quant/convert.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define LIGHTQ_TEST_GUARD_PAGES 1
#endif

using namespace lightq;

namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

#if defined(__aarch64__)
constexpr std::size_t kRandomSamples = std::size_t{1} << 20;  // qemu is slow
#else
constexpr std::size_t kRandomSamples = std::size_t{1} << 22;
#endif

// The bit pattern of element i, whatever its type.
std::uint32_t pattern(float x) { return bits_of(x); }
std::uint32_t pattern(half x) { return x.bits(); }
std::uint32_t pattern(bfloat16 x) { return x.bits(); }

// Index of the first element whose bit pattern differs, or -1.
template <class T>
std::ptrdiff_t first_difference(const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (pattern(a[i]) != pattern(b[i])) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

// The four directions, as (public function, twin element function) pairs by type.
template <class Arch>
void run(const float* in, half* out, index_t n) { convert_f32_to_f16<Arch>(in, out, n); }
template <class Arch>
void run(const half* in, float* out, index_t n) { convert_f16_to_f32<Arch>(in, out, n); }
template <class Arch>
void run(const float* in, bfloat16* out, index_t n) { convert_f32_to_bf16<Arch>(in, out, n); }
template <class Arch>
void run(const bfloat16* in, float* out, index_t n) { convert_bf16_to_f32<Arch>(in, out, n); }

half twin(float x, half*) { return half::from_bits(float_to_half_bits(x)); }
bfloat16 twin(float x, bfloat16*) { return bfloat16::from_bits(float_to_bfloat16_bits(x)); }
float twin(half x, float*) { return half_to_float(x.bits()); }
float twin(bfloat16 x, float*) { return bfloat16_to_float(x.bits()); }

template <class To, class From>
std::vector<To> twin_all(const std::vector<From>& in) {
  std::vector<To> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = twin(in[i], static_cast<To*>(nullptr));
  return out;
}

// Backend Arch converts all of `in` in one call and must equal the twin element by element.
template <class Arch, class To, class From>
void check_equals_twin(const std::vector<From>& in, const char* what) {
  const std::vector<To> want = twin_all<To>(in);
  std::vector<To> got(in.size());
  run<Arch>(in.data(), got.data(), static_cast<index_t>(in.size()));
  const std::ptrdiff_t i = first_difference(got.data(), want.data(), in.size());
  INFO(std::string(what), " on backend ", std::string(Arch::name), ": first difference at ", i);
  if (i >= 0) {
    const auto k = static_cast<std::size_t>(i);
    INFO("input ", hex(pattern(in[k])), " got ", hex(pattern(got[k])), " twin ", hex(pattern(want[k])));
    CHECK(false);
  }
  CHECK(i == -1);
}

// All 65,536 half and bf16 patterns.
template <class T>
std::vector<T> all_narrow() {
  std::vector<T> v(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) v[i] = T::from_bits(static_cast<std::uint16_t>(i));
  return v;
}

// Every rounding boundary of both formats: each narrow value as a float, the midpoint to its
// successor and one float ulp either side; both signs. Plus NaN payloads, Inf, zeros, extremes.
std::vector<float> boundary_floats() {
  std::vector<float> v;
  const float inf = std::numeric_limits<float>::infinity();
  for (std::uint32_t k = 0; k < 0x7C00u; ++k) {
    const float lo = half_to_float(static_cast<std::uint16_t>(k));
    const float hi = k == 0x7BFFu ? 65536.0f : half_to_float(static_cast<std::uint16_t>(k + 1));
    const auto mid = static_cast<float>((double(lo) + double(hi)) / 2);
    for (float x : {lo, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, inf)}) {
      v.push_back(x);
      v.push_back(-x);
    }
  }
  for (std::uint32_t k = 0; k < 0x7F80u; ++k) {
    const std::uint32_t lo = k << 16;
    for (std::uint32_t x : {lo, lo | 0x8000u, lo | 0x7FFFu, lo | 0x8001u}) {
      v.push_back(float_of(x));
      v.push_back(float_of(x | 0x80000000u));
    }
  }
  for (std::uint32_t x : {0x7F800000u, 0xFF800000u, 0x7F800001u, 0xFF800001u, 0x7FC00000u, 0xFFC00000u, 0x7FA00000u,
                          0x7FBFFFFFu, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7F802000u, 0x7F801FFFu, 0x7F810000u, 0x7F80FFFFu,
                          0x00000001u, 0x80000001u, 0x007FFFFFu, 0x00800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x477FF000u,
                          0x477FEFFFu, 0xC77FF000u, 0x33000000u, 0x33000001u, 0x80000000u, 0x00000000u})
    v.push_back(float_of(x));
  return v;
}

// Random float bit patterns: uniform, plus shares of half's range, tiny values, NaN/Inf and
// near-tie patterns.
std::vector<float> random_floats_bits(std::mt19937_64& rng, std::size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) {
    const std::uint64_t r = rng();
    const auto low = static_cast<std::uint32_t>(r);
    std::uint32_t b = low;
    switch ((r >> 32) & 7u) {
      case 0: b = (low & 0x807FFFFFu) | ((101u + static_cast<std::uint32_t>((r >> 40) % 43u)) << 23); break;
      case 1: b = low & 0x80FFFFFFu; break;
      case 2: b = low | 0x7F800000u; break;
      case 3: b = (low & 0xFFFF0000u) | ((r >> 40) & 1u ? 0x8000u : 0x7FFFu); break;
      case 4: b = (low & 0xFFFFE000u) | ((r >> 40) & 1u ? 0x1000u : 0x0FFFu); break;
      default: break;
    }
    x = float_of(b);
  }
  return v;
}

template <class F>
void for_each_backend(F&& f) {
  std::string covered;
  for_each_compiled_arch([&](auto arch) {
    using Arch = decltype(arch);
    if (!cpu_supports<Arch>()) {
      MESSAGE("backend ", Arch::name, " compiled but not supported by this CPU: skipped");
      return;
    }
    covered += std::string(covered.empty() ? "" : ", ") + Arch::name;
    f(arch);
  });
  MESSAGE("backends covered: ", covered);
}

// Guarded input: `n` elements placed right before (or right after) an inaccessible page, so a
// kernel that reads past either end faults instead of passing.
#if defined(LIGHTQ_TEST_GUARD_PAGES)
class guard_paged_input {
 public:
  guard_paged_input() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 3 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base_ = static_cast<unsigned char*>(p);
    REQUIRE(mprotect(base_, page_, PROT_NONE) == 0);
    REQUIRE(mprotect(base_ + 2 * page_, page_, PROT_NONE) == 0);
  }
  ~guard_paged_input() { munmap(base_, 3 * page_); }
  guard_paged_input(const guard_paged_input&) = delete;
  guard_paged_input& operator=(const guard_paged_input&) = delete;
  /// `bytes` of accessible memory ending at the upper guard page (at_end) or starting at the lower.
  unsigned char* place(std::size_t bytes, bool at_end) { return at_end ? base_ + 2 * page_ - bytes : base_ + page_; }

 private:
  std::size_t page_ = 0;
  unsigned char* base_ = nullptr;
};
#endif

// Lengths 0..67 at element offsets 0..3 (unaligned for every vector width): equal to the twin,
// nothing written outside the output, nothing read outside the input.
template <class Arch, class From, class To>
void check_tails(const std::vector<From>& source) {
  for (index_t n = 0; n <= 67; ++n) {
    for (index_t offset = 0; offset < 4; ++offset) {
      INFO("backend ", std::string(Arch::name), " length ", n, " offset ", offset);
      const From* in = source.data() + offset;
      test::guarded_buffer<To> out(static_cast<std::size_t>(n + offset));
      run<Arch>(in, out.data() + offset, n);
      REQUIRE(out.intact());
      for (index_t i = 0; i < n; ++i) {
        const To want = twin(in[i], static_cast<To*>(nullptr));
        if (pattern(out.data()[offset + i]) != pattern(want)) {
          INFO("element ", i, " input ", hex(pattern(in[i])));
          REQUIRE(pattern(out.data()[offset + i]) == pattern(want));
        }
      }
      // Untouched prefix [0, offset) keeps the guard pattern of the buffer as well.
      test::guarded_buffer<To> reference(static_cast<std::size_t>(offset));
      REQUIRE(std::memcmp(out.data(), reference.data(), static_cast<std::size_t>(offset) * sizeof(To)) == 0);
#if defined(LIGHTQ_TEST_GUARD_PAGES)
      // The same call with the input flush against an inaccessible page on either side.
      static guard_paged_input pages;
      for (bool at_end : {true, false}) {
        auto* placed = reinterpret_cast<From*>(pages.place(static_cast<std::size_t>(n) * sizeof(From), at_end));
        if (n > 0) std::memcpy(placed, in, static_cast<std::size_t>(n) * sizeof(From));
        test::guarded_buffer<To> out2(static_cast<std::size_t>(n));
        run<Arch>(placed, out2.data(), n);
        REQUIRE(out2.intact());
        REQUIRE(std::memcmp(out2.data(), out.data() + offset, static_cast<std::size_t>(n) * sizeof(To)) == 0);
      }
#endif
    }
  }
}

}  // namespace

TEST_CASE("convert: every backend equals the scalar twin on all 65,536 half and bf16 inputs") {
  const auto halves = all_narrow<half>();
  const auto bf16s = all_narrow<bfloat16>();
  for_each_backend([&](auto arch) {
    using Arch = decltype(arch);
    check_equals_twin<Arch, float>(halves, "f16 -> f32, all inputs");
    check_equals_twin<Arch, float>(bf16s, "bf16 -> f32, all inputs");
    // And back: every half / bf16 value (NaNs included) widened to float and narrowed again.
    check_equals_twin<Arch, half>(twin_all<float>(halves), "f32 -> f16, all half values");
    check_equals_twin<Arch, bfloat16>(twin_all<float>(bf16s), "f32 -> bf16, all bf16 values");
  });
}

TEST_CASE("convert: every backend equals the scalar twin on every rounding boundary and special value") {
  const auto floats = boundary_floats();
  for_each_backend([&](auto arch) {
    using Arch = decltype(arch);
    check_equals_twin<Arch, half>(floats, "f32 -> f16, boundaries");
    check_equals_twin<Arch, bfloat16>(floats, "f32 -> bf16, boundaries");
  });
}

TEST_CASE("convert: every backend equals the scalar twin on random float bit patterns") {
  auto rng = test::make_rng(0xC0417u);
  const auto floats = random_floats_bits(rng, kRandomSamples);
  for_each_backend([&](auto arch) {
    using Arch = decltype(arch);
    check_equals_twin<Arch, half>(floats, "f32 -> f16, random bits");
    check_equals_twin<Arch, bfloat16>(floats, "f32 -> bf16, random bits");
  });
}

TEST_CASE("convert: lengths 0..67, unaligned, guard bytes around the output, guard pages around the input") {
  auto rng = test::make_rng(0x7A11u);
  const auto floats = random_floats_bits(rng, 80);
  std::vector<half> halves(80);
  std::vector<bfloat16> bf16s(80);
  for (std::size_t i = 0; i < 80; ++i) {
    const auto bits = static_cast<std::uint16_t>(rng());
    halves[i] = half::from_bits(bits);
    bf16s[i] = bfloat16::from_bits(static_cast<std::uint16_t>(bits ^ 0x5A5Au));
  }
  for_each_backend([&](auto arch) {
    using Arch = decltype(arch);
    check_tails<Arch, float, half>(floats);
    check_tails<Arch, half, float>(halves);
    check_tails<Arch, float, bfloat16>(floats);
    check_tails<Arch, bfloat16, float>(bf16s);
  });
}

namespace {

// Strided views: contiguous rank 1, padded rows, a transposed (non-unit innermost stride) view,
// reversed rows (negative stride), a rank-3 sub-block; the output's padding stays untouched.
template <class Arch, class From, class To, class Convert>
void check_views(const std::vector<From>& source, Convert convert) {
  const To sentinel = twin(source[0], static_cast<To*>(nullptr));  // any fixed pattern
  auto expect_view = [&](auto in, auto out, const std::vector<To>& storage, const char* what) {
    INFO("backend ", std::string(Arch::name), ": ", std::string(what), " in ", in.extents_string());
    convert(in, out);  // storage was filled with `sentinel` before the call
    // Build the expected storage: the sentinel everywhere, the twin at each view element.
    std::vector<To> want(storage.size(), sentinel);
    auto want_view = decltype(out)(want.data() + (out.data() - storage.data()), out.extents(), out.strides());
    using view_t = decltype(in);
    constexpr std::size_t rank = view_t::rank;
    extents_t<rank> idx{};
    for (index_t flat = 0; flat < in.size(); ++flat) {
      index_t rest = flat;
      for (std::size_t d = rank; d-- > 0;) {
        idx[d] = rest % in.extent(d);
        rest /= in.extent(d);
      }
      want_view[idx] = twin(in[idx], static_cast<To*>(nullptr));
    }
    CHECK(first_difference(storage.data(), want.data(), storage.size()) == -1);
  };

  {  // rank 1, contiguous, length not a multiple of any vector width
    std::vector<To> out(37, sentinel);
    expect_view(make_view(source.data(), extents_t<1>{37}), make_view(out.data(), extents_t<1>{37}), out, "rank 1");
  }
  {  // rank 2, padded rows in and out (row strides 53 and 41 for 29 columns)
    std::vector<To> out(7 * 41, sentinel);
    auto in = make_view(source.data(), extents_t<2>{7, 29}, extents_t<2>{53, 1});
    auto o = make_view(out.data(), extents_t<2>{7, 29}, extents_t<2>{41, 1});
    expect_view(in, o, out, "padded rows");
  }
  {  // rank 2, contiguous input, transposed (column-major) output: non-unit innermost stride
    std::vector<To> out(9 * 23, sentinel);
    auto in = make_view(source.data(), extents_t<2>{9, 23});
    auto o = make_view(out.data(), extents_t<2>{23, 9}).transpose();
    expect_view(in, o, out, "transposed output");
  }
  {  // rank 2, reversed rows in the input (negative row stride), strided input columns
    std::vector<To> out(5 * 19, sentinel);
    auto in = make_view(source.data() + 4 * 60, extents_t<2>{5, 19}, extents_t<2>{-60, 3});
    auto o = make_view(out.data(), extents_t<2>{5, 19});
    expect_view(in, o, out, "reversed, strided input");
  }
  {  // rank 3 sub-block of a larger tensor, in and out
    std::vector<To> out(4 * 6 * 40, sentinel);
    auto in = make_view(source.data(), extents_t<3>{3, 5, 35}).subview({1, 1, 2}, {2, 4, 31});
    auto o = make_view(out.data(), extents_t<3>{4, 6, 40}).subview({2, 1, 3}, {2, 4, 31});
    expect_view(in, o, out, "rank 3 sub-blocks");
  }
  {  // empty views are a no-op
    std::vector<To> out(4, sentinel);
    expect_view(make_view(source.data(), extents_t<2>{0, 4}), make_view(out.data(), extents_t<2>{0, 4}), out, "empty");
  }
}

}  // namespace

TEST_CASE("convert: strided and sub-block views of any rank") {
  auto rng = test::make_rng(0x51DEu);
  const auto floats = random_floats_bits(rng, 1024);
  std::vector<half> halves(1024);
  std::vector<bfloat16> bf16s(1024);
  for (std::size_t i = 0; i < 1024; ++i) {
    halves[i] = half::from_bits(static_cast<std::uint16_t>(rng()));
    bf16s[i] = bfloat16::from_bits(static_cast<std::uint16_t>(rng()));
  }
  for_each_backend([&](auto arch) {
    using Arch = decltype(arch);
    check_views<Arch, float, half>(floats, [](auto in, auto out) { convert_f32_to_f16<Arch>(in, out); });
    check_views<Arch, half, float>(halves, [](auto in, auto out) { convert_f16_to_f32<Arch>(in, out); });
    check_views<Arch, float, bfloat16>(floats, [](auto in, auto out) { convert_f32_to_bf16<Arch>(in, out); });
    check_views<Arch, bfloat16, float>(bf16s, [](auto in, auto out) { convert_bf16_to_f32<Arch>(in, out); });
  });
  // Const input views and the default backend.
  std::vector<half> out(16);
  tensor_view<const float, 1> cin(floats.data(), {16});
  convert_f32_to_f16(cin, make_view(out.data(), extents_t<1>{16}));
  for (std::size_t i = 0; i < 16; ++i) CHECK(out[i].bits() == float_to_half_bits(floats[i]));
}

TEST_CASE("convert: bad arguments are lightq::error naming the function and the argument") {
  std::vector<float> f(64);
  std::vector<half> h(64);
  std::vector<bfloat16> b(64);
  CHECK_THROWS_WITH_AS(convert_f32_to_f16(f.data(), h.data(), -1), doctest::Contains("convert_f32_to_f16: count"),
                       lightq::error);
  CHECK_THROWS_AS(convert_f16_to_f32(h.data(), f.data(), -5), lightq::error);
  CHECK_THROWS_WITH_AS(convert_f32_to_bf16(nullptr, b.data(), 3), doctest::Contains("in is null"), lightq::error);
  CHECK_THROWS_WITH_AS(convert_bf16_to_f32(b.data(), nullptr, 3), doctest::Contains("out is null"), lightq::error);
  CHECK_NOTHROW(convert_f32_to_f16(nullptr, nullptr, 0));  // zero-sized is a valid no-op

  // Overlap: the output written over the input.
  auto* as_half = reinterpret_cast<half*>(f.data() + 8);
  CHECK_THROWS_WITH_AS(convert_f32_to_f16(f.data(), as_half, 16), doctest::Contains("overlap"), lightq::error);
  auto* as_float = reinterpret_cast<float*>(b.data() + 2);
  CHECK_THROWS_AS(convert_bf16_to_f32(b.data(), as_float, 8), lightq::error);
  CHECK_NOTHROW(convert_f32_to_f16(f.data(), reinterpret_cast<half*>(f.data() + 32), 32));  // adjacent, disjoint

  // Views: extents must agree, out may not broadcast, out may not overlap in.
  auto fv = make_view(f.data(), extents_t<2>{4, 8});
  CHECK_THROWS_WITH_AS(convert_f32_to_f16(fv, make_view(h.data(), extents_t<2>{8, 4})),
                       doctest::Contains("in extents [4, 8] must equal out extents [8, 4]"), lightq::error);
  CHECK_THROWS_AS(convert_f32_to_bf16(fv, make_view(b.data(), extents_t<2>{4, 7})), lightq::error);
  CHECK_THROWS_WITH_AS(convert_f32_to_f16(fv, make_view(h.data(), extents_t<2>{4, 8}, extents_t<2>{0, 1})),
                       doctest::Contains("stride 0"), lightq::error);
  CHECK_THROWS_WITH_AS(convert_bf16_to_f32(make_view(b.data(), extents_t<1>{8}),
                                           make_view(reinterpret_cast<float*>(b.data()), extents_t<1>{8})),
                       doctest::Contains("convert_bf16_to_f32: out must not overlap in"), lightq::error);
  CHECK_THROWS_AS(convert_f16_to_f32(make_view(static_cast<half*>(nullptr), extents_t<1>{3}), make_view(f.data(), extents_t<1>{3})),
                  lightq::error);
  CHECK_THROWS_WITH_AS(convert_f32_to_f16(make_view(f.data(), extents_t<2>{-2, 4}), make_view(h.data(), extents_t<2>{-2, 4})),
                       doctest::Contains("must be >= 0"), lightq::error);
  // Broadcast input (stride 0) is fine: one value written everywhere.
  f[0] = 1.5f;
  convert_f32_to_f16(make_view(f.data(), extents_t<2>{4, 8}, extents_t<2>{0, 0}), make_view(h.data(), extents_t<2>{4, 8}));
  for (std::size_t i = 0; i < 32; ++i) CHECK(h[i].bits() == 0x3E00);
}

TEST_CASE("convert: every backend equals the scalar twin on all 2^32 floats (run with --no-skip)" * doctest::skip()) {
  constexpr std::size_t chunk = std::size_t{1} << 20;
  std::vector<float> in(chunk);
  std::vector<half> h_twin(chunk), h_got(chunk);
  std::vector<bfloat16> b_twin(chunk), b_got(chunk);
  std::size_t mismatches = 0;
  for (std::uint64_t start = 0; start < (std::uint64_t{1} << 32); start += chunk) {
    for (std::size_t i = 0; i < chunk; ++i) in[i] = float_of(static_cast<std::uint32_t>(start + i));
    run<arch::scalar>(in.data(), h_twin.data(), static_cast<index_t>(chunk));
    run<arch::scalar>(in.data(), b_twin.data(), static_cast<index_t>(chunk));
    for_each_compiled_arch([&](auto a) {
      using Arch = decltype(a);
      if (std::is_same_v<Arch, arch::scalar> || !cpu_supports<Arch>()) return;
      run<Arch>(in.data(), h_got.data(), static_cast<index_t>(chunk));
      run<Arch>(in.data(), b_got.data(), static_cast<index_t>(chunk));
      const std::ptrdiff_t dh = first_difference(h_got.data(), h_twin.data(), chunk);
      const std::ptrdiff_t db = first_difference(b_got.data(), b_twin.data(), chunk);
      if ((dh >= 0 || db >= 0) && ++mismatches <= 10) {
        INFO("backend ", std::string(Arch::name), " chunk at ", hex(static_cast<std::uint32_t>(start)), " f16 diff ", dh,
             " bf16 diff ", db);
        CHECK(false);
      }
    });
  }
  CHECK(mismatches == 0);
}
