// Attention micro-kernels for AVX-512 VNNI: int8 Q*K^T with vpdpbusd on (q + 128) as uint8 and
// the correction 128 * sum(k) per token, P*V with vpdpbusd (P in [0, 127] as uint8), and the
// fp16 -> fp32 load (vcvtph2ps). Equal to the scalar twin bit for bit on the int32 results.
#pragma once

#include "lightq/config.hpp"
#include "lightq/attention/detail/ops.hpp"
#include "lightq/attention/x86/ops_avx2.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/xsimd_compat.hpp"

#if defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>

#include <type_traits>
#include <utility>

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// acc += u8(a) x s8(b) (vpdpbusd). gcc 12 copies the accumulator through a spare register around
/// _mm512_dpbusd_epi32 in these loops (a vmovdqa per vpdpbusd, DESIGN.md §4); the one instruction
/// in asm keeps it in place. clang compiles the intrinsic well.
template <class Arch>
LIGHTQ_ALWAYS_INLINE void attention_dpbusd(__m512i& acc, __m512i a, __m512i b) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
#else
  acc = _mm512_dpbusd_epi32(acc, a, b);
#endif
}

/// f(std::integral_constant<int, i>) for i < N: register arrays indexed by constants from the
/// start, so gcc keeps them in registers around the vpdpbusd asm (with `#pragma GCC unroll` loops
/// it kept 7 of 8 accumulators on the stack, a load and a store per vpdpbusd).
template <class F, int... I>
LIGHTQ_ALWAYS_INLINE void attention_static_for(F&& f, std::integer_sequence<int, I...>) noexcept {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int N, class F>
LIGHTQ_ALWAYS_INLINE void attention_static_for(F&& f) noexcept {
  attention_static_for(f, std::make_integer_sequence<int, N>{});
}

/// The same, by value (a[i] = attention_dpbusd_value(a[i], ...)): an array element bound to the
/// asm operand makes gcc keep the array in memory (a store per vpdpbusd); a local copy does not.
template <class Arch>
LIGHTQ_ALWAYS_INLINE __m512i attention_dpbusd_value(__m512i acc, __m512i a, __m512i b) noexcept {
  attention_dpbusd<Arch>(acc, a, b);
  return acc;
}

template <class Arch>
struct attention_int8_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx512_vnni>>> {
  static void prepare_query(const std::int8_t* q, index_t groups, std::uint8_t* prepared) noexcept {
    for (index_t i = 0; i < groups * 4; ++i)
      prepared[i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(q[i]) ^ 0x80u);  // q + 128
  }

  static void dot_key_tile(const std::uint8_t* prepared, const std::int8_t* tile, const std::int32_t* key_sums,
                           index_t groups, std::int32_t* dots) noexcept {
    // Four chains hide the latency of vpdpbusd (5 cycles, 1 per cycle).
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
    auto kq = [&](index_t g) { return _mm512_loadu_si512(tile + g * 64); };
    auto qb = [&](index_t g) { return _mm512_set1_epi32(attention_load_i32(prepared + g * 4)); };
    index_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      attention_dpbusd<Arch>(a0, qb(g), kq(g));
      attention_dpbusd<Arch>(a1, qb(g + 1), kq(g + 1));
      attention_dpbusd<Arch>(a2, qb(g + 2), kq(g + 2));
      attention_dpbusd<Arch>(a3, qb(g + 3), kq(g + 3));
    }
    for (; g < groups; ++g) attention_dpbusd<Arch>(a0, qb(g), kq(g));
    __m512i acc = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
    acc = _mm512_sub_epi32(acc, _mm512_slli_epi32(_mm512_loadu_si512(key_sums), 7));
    _mm512_storeu_si512(dots, acc);
  }

  /// R rows x 2 digits: one K load per channel group serves 2R vpdpbusd chains.
  template <int R>
  static void dot_key_tile_rows(const std::uint8_t* const* prepared, const std::int8_t* tile,
                                const std::int32_t* key_sums, index_t groups, std::int32_t* dots, index_t ld,
                                const attention_stream_lines& ahead) noexcept {
    __m512i a[2 * R];
    attention_static_for<2 * R>([&](auto i) { a[i] = _mm512_setzero_si512(); });
    for (index_t g = 0; g < groups; ++g) {
      // One K and one V line ahead per channel group, not a burst (fill buffers stay free).
      if (g < ahead.k_lines) attention_prefetch_line(ahead.k + 64 * g);
      if (g < ahead.v_lines) attention_prefetch_line(ahead.v + 64 * g);
      const __m512i k = _mm512_loadu_si512(tile + g * 64);
      attention_static_for<R>([&](auto i) {
        a[2 * i] = attention_dpbusd_value<Arch>(a[2 * i], _mm512_set1_epi32(attention_load_i32(prepared[i] + g * 4)), k);
        a[2 * i + 1] = attention_dpbusd_value<Arch>(
            a[2 * i + 1], _mm512_set1_epi32(attention_load_i32(prepared[i] + (groups + g) * 4)), k);
      });
    }
    for (index_t i = groups; i < ahead.k_lines; ++i) attention_prefetch_line(ahead.k + 64 * i);
    for (index_t i = groups; i < ahead.v_lines; ++i) attention_prefetch_line(ahead.v + 64 * i);
    const __m512i correction = _mm512_slli_epi32(_mm512_loadu_si512(key_sums), 7);
    attention_static_for<2 * R>([&](auto i) { _mm512_storeu_si512(dots + ld * i, _mm512_sub_epi32(a[i], correction)); });
  }

  /// R rows: each V load (4 tokens x 16 channels) serves R vpdpbusd; 4 vectors of channels per pass.
  template <int R>
  static void accumulate_values_rows(const std::uint8_t* const* w, const std::int8_t* values, index_t count,
                                     index_t value_dim, std::int32_t* const* acc) noexcept {
    index_t d = 0;
    auto pass = [&](auto width) {
      constexpr int N = decltype(width)::value;
      __m512i a[R][N];
      attention_static_for<R>([&](auto r) {
        attention_static_for<N>([&](auto i) { a[r][i] = _mm512_loadu_si512(acc[r] + d + 16 * i); });
      });
      for (index_t g = 0; g < count; ++g) {
        const std::int8_t* p = values + g * value_dim * 4 + d * 4;
        __m512i v[N];
        attention_static_for<N>([&](auto i) { v[i] = _mm512_loadu_si512(p + 64 * i); });
        attention_static_for<R>([&](auto r) {
          const __m512i wb = _mm512_set1_epi32(attention_load_i32(w[r] + g * 4));
          attention_static_for<N>([&](auto i) { a[r][i] = attention_dpbusd_value<Arch>(a[r][i], wb, v[i]); });
        });
      }
      attention_static_for<R>([&](auto r) {
        attention_static_for<N>([&](auto i) { _mm512_storeu_si512(acc[r] + d + 16 * i, a[r][i]); });
      });
      d += 16 * N;
    };
    while (d + 64 <= value_dim) pass(std::integral_constant<int, 4>{});
    while (d + 16 <= value_dim) pass(std::integral_constant<int, 1>{});
  }

  template <int N>
  static void accumulate_block(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                               index_t d0, std::int32_t* acc) noexcept {
    // N accumulators, doubled for N < 8 (even / odd groups) so that at least 8 independent
    // vpdpbusd chains hide its latency.
    constexpr int S = N < 8 ? 2 : 1;
    __m512i a[S][N];
    for (int i = 0; i < N; ++i) {
      a[0][i] = _mm512_loadu_si512(acc + d0 + 16 * i);
      if (S == 2) a[S - 1][i] = _mm512_setzero_si512();
    }
    index_t g = 0;
    for (; g + S <= count; g += S)
      for (int h = 0; h < S; ++h) {
        const __m512i wb = _mm512_set1_epi32(attention_load_i32(w + (g + h) * 4));
        const std::int8_t* p = values + (g + h) * value_dim * 4 + d0 * 4;
        for (int i = 0; i < N; ++i) attention_dpbusd<Arch>(a[h][i], wb, _mm512_loadu_si512(p + 64 * i));
      }
    for (; g < count; ++g) {
      const __m512i wb = _mm512_set1_epi32(attention_load_i32(w + g * 4));
      const std::int8_t* p = values + g * value_dim * 4 + d0 * 4;
      for (int i = 0; i < N; ++i) attention_dpbusd<Arch>(a[0][i], wb, _mm512_loadu_si512(p + 64 * i));
    }
    for (int i = 0; i < N; ++i)
      _mm512_storeu_si512(acc + d0 + 16 * i, S == 2 ? _mm512_add_epi32(a[0][i], a[S - 1][i]) : a[0][i]);
  }

  static void accumulate_values(const std::uint8_t* w, const std::int8_t* values, index_t count, index_t value_dim,
                                std::int32_t* acc) noexcept {
    index_t d = 0;
    for (; d + 128 <= value_dim; d += 128) accumulate_block<8>(w, values, count, value_dim, d, acc);
    for (; d + 64 <= value_dim; d += 64) accumulate_block<4>(w, values, count, value_dim, d, acc);
    for (; d + 16 <= value_dim; d += 16) accumulate_block<1>(w, values, count, value_dim, d, acc);
  }
};

/// vcvtph2ps loads and the 16-lane transposing sum (four pairwise folding levels, 45 uops for 16
/// vectors against ~75 for folding each zmm to a ymm and two 8-way hadd trees).
template <class Arch>
struct attention_float_ops<Arch, std::enable_if_t<arch_has_v<Arch, arch::avx512_vnni>>> {
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> load_f16(const std::uint16_t* p) noexcept {
    return float_batch<Arch>(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
  }
  static LIGHTQ_ALWAYS_INLINE float_batch<Arch> transpose_sum(const float_batch<Arch>* acc) noexcept {
    // 1: pairs (a, b) -> per 128-bit lane [a0+a2, b0+b2, a1+a3, b1+b3].
    __m512 s[8];
    for (int i = 0; i < 8; ++i) {
      const __m512 a = acc[2 * i], b = acc[2 * i + 1];
      s[i] = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    }
    // 2: per 128-bit lane, the 4 partial sums of acc[4m .. 4m+3] in order.
    __m512 t[4];
    for (int m = 0; m < 4; ++m)
      t[m] = _mm512_add_ps(_mm512_shuffle_ps(s[2 * m], s[2 * m + 1], 0x44), _mm512_shuffle_ps(s[2 * m], s[2 * m + 1], 0xEE));
    // 3, 4: sum the four 128-bit lanes of t[g] into lane group g.
    auto fold = [](__m512 x, __m512 y) {
      return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
    };
    return float_batch<Arch>(fold(fold(t[0], t[1]), fold(t[2], t[3])));
  }
  static LIGHTQ_ALWAYS_INLINE float max_lane(const float_batch<Arch>& v) noexcept {
    const __m512 x = v;
    __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
};

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END

#endif  // LIGHTQ_HAS_AVX512_VNNI
