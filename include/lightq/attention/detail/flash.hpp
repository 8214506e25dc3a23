// The fused (flash-style) attention kernel: key tiles, online softmax in fp32 (running max and
// sum per query row), P*V fused; never a [tokens x tokens] buffer. One template on the arch tag
// for fp32, fp16 (converted in registers) and int8 (int8 Q*K^T, int8 P*V) sources; the scalar
// twin is the same code with plain loops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "lightq/config.hpp"
#include "lightq/attention/detail/ops.hpp"
#include "lightq/attention/neon/ops_neon.hpp"
#include "lightq/attention/neon/ops_neon_dotprod.hpp"
#include "lightq/attention/options.hpp"
#include "lightq/attention/x86/ops_avx2.hpp"
#include "lightq/attention/x86/ops_avx512_vnni.hpp"
#include "lightq/core/aligned.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/half.hpp"
#include "lightq/core/xsimd_compat.hpp"

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

/// True when backend `Arch` has an xsimd float batch (every backend but the scalar twin).
template <class Arch>
inline constexpr bool attention_simd_v = !std::is_void_v<xsimd_arch_t<Arch>>;

/// Lanes of the float batch of `Arch` (1 for the scalar twin).
template <class Arch>
constexpr index_t attention_lanes() noexcept {
  if constexpr (attention_simd_v<Arch>)
    return static_cast<index_t>(float_batch<Arch>::size);
  else
    return 1;
}

template <class Arch>
LIGHTQ_ALWAYS_INLINE float attention_to_float(float x) noexcept {
  return x;
}
template <class Arch>
LIGHTQ_ALWAYS_INLINE float attention_to_float(std::uint16_t h) noexcept {
  return lightq::half_to_float(h);
}

template <class Arch>
LIGHTQ_ALWAYS_INLINE float_batch<Arch> attention_load(const float* p) noexcept {
  return float_batch<Arch>::load_unaligned(p);
}
template <class Arch>
LIGHTQ_ALWAYS_INLINE float_batch<Arch> attention_load(const std::uint16_t* p) noexcept {
  return attention_float_ops<Arch>::load_f16(p);
}

/// How far ahead of its use a streamed K or V row is prefetched, in bytes of that stream. Measured
/// on AVX-512 (decode, 8k keys, caches far beyond L3): 2 KiB ahead into L2 beats the hardware
/// prefetcher alone by ~25% (fp16) and whole-tile bursts into L1 by ~10%; 1 KiB is too late,
/// 4-16 KiB ahead or prefetching into L1 (it evicts the tile in use) is slower.
inline constexpr index_t attention_prefetch_bytes = 2048;

/// Prefetches the cache lines of `n` rows of `dim` elements (row j at p + j * stride) into L2.
template <class T>
LIGHTQ_ALWAYS_INLINE void attention_prefetch_rows(const T* p, index_t stride, index_t n, index_t dim) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  const index_t bytes = dim * static_cast<index_t>(sizeof(T));
  for (index_t j = 0; j < n; ++j) {
    const char* row = reinterpret_cast<const char*>(p + j * stride);
    for (index_t b = 0; b < bytes; b += 64) __builtin_prefetch(row + b, 0, 2);
  }
#else
  (void)p, (void)stride, (void)n, (void)dim;
#endif
}

/// Rows to prefetch while a key loop runs (decode streams the cache once: the prefetches are
/// spread over the compute of the current tile, row j + distance while row j is used, so the
/// memory system stays busy during the arithmetic instead of between bursts). n = 0: none.
template <class T>
struct attention_ahead {
  const T* p = nullptr;
  index_t stride = 0, n = 0;
  LIGHTQ_ALWAYS_INLINE void rows(index_t j0, index_t count, index_t dim) const noexcept {
    if (j0 < n) attention_prefetch_rows(p + j0 * stride, stride, std::min(count, n - j0), dim);
  }
};

/// s[r * ld + j] = q[r] . k[j] for rows r < MR and keys j < n (key j at k + j * k_stride),
/// T = float or fp16 bits. SIMD: MR rows x (lanes / MR) keys of accumulators, so every K load
/// (and fp16 conversion) serves MR rows, reduced by one transposing sum.
template <class Arch, index_t MR, class T>
void attention_scores(const float* const* q, const T* k, index_t k_stride, index_t n, index_t dim, float* s,
                      index_t ld, const attention_ahead<T>& ahead = {}) noexcept {
  if constexpr (!attention_simd_v<Arch>) {
    for (index_t r = 0; r < MR; ++r)
      for (index_t j = 0; j < n; ++j) {
        const T* row = k + j * k_stride;
        float acc = 0.0f;
        for (index_t d = 0; d < dim; ++d) acc += q[r][d] * attention_to_float<Arch>(row[d]);
        s[r * ld + j] = acc;
      }
  } else {
    using batch = float_batch<Arch>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    static_assert(W % MR == 0, "rows must divide the lanes");
    constexpr index_t NR = W / MR;
    const index_t full = dim / W * W;
    for (index_t j0 = 0; j0 < n; j0 += NR) {
      const T* rows[NR];
      for (index_t c = 0; c < NR; ++c) rows[c] = k + std::min(j0 + c, n - 1) * k_stride;
      ahead.rows(j0, NR, dim);
      batch acc[W];
      for (index_t i = 0; i < W; ++i) acc[i] = batch(0.0f);
      for (index_t d = 0; d < full; d += W) {
        batch kv[NR];
        for (index_t c = 0; c < NR; ++c) kv[c] = attention_load<Arch>(rows[c] + d);
        for (index_t r = 0; r < MR; ++r) {
          const batch qv = batch::load_unaligned(q[r] + d);
          for (index_t c = 0; c < NR; ++c) acc[r * NR + c] = xsimd::fma(qv, kv[c], acc[r * NR + c]);
        }
      }
      alignas(64) float sums[W];
      attention_float_ops<Arch>::transpose_sum(acc).store_aligned(sums);
      if (full < dim)
        for (index_t r = 0; r < MR; ++r)
          for (index_t c = 0; c < NR; ++c)
            for (index_t d = full; d < dim; ++d) sums[r * NR + c] += q[r][d] * attention_to_float<Arch>(rows[c][d]);
      const index_t count = std::min(NR, n - j0);
      for (index_t r = 0; r < MR; ++r)
        for (index_t c = 0; c < count; ++c) s[r * ld + j0 + c] = sums[r * NR + c];
    }
  }
}

/// The same scores over K tiles of 16 keys, [tile][dim][16] (key j, channel d at
/// k[(j / 16) * 16 * dim + d * 16 + j % 16]; n rounded up to 16 keys are read, the tiles are
/// whole): every K vector holds 16 keys of one channel, multiplied by a broadcast query value, so
/// the scores come out in lanes with no transposing sum. s gets n rounded up to 16 per row.
template <class Arch, index_t MR, class T>
void attention_scores_tiled(const float* const* q, const T* k, index_t n, index_t dim, float* s, index_t ld,
                            const attention_ahead<T>& ahead = {}) noexcept {
  if constexpr (!attention_simd_v<Arch>) {
    for (index_t r = 0; r < MR; ++r)
      for (index_t j = 0; j < n; ++j) {
        const T* key = k + (j / 16) * 16 * dim + j % 16;
        float acc = 0.0f;
        for (index_t d = 0; d < dim; ++d) acc += q[r][d] * attention_to_float<Arch>(key[d * 16]);
        s[r * ld + j] = acc;
      }
  } else {
    using batch = float_batch<Arch>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    static_assert(16 % W == 0, "a key tile is a whole number of vectors");
    constexpr index_t V = 16 / W;                // vectors per tile and channel
    constexpr index_t TILES = W == 16 ? 2 : 1;   // tiles per step: >= 8 independent FMA chains
    for (index_t j0 = 0; j0 < n; j0 += 16 * TILES) {
      const index_t tiles = std::min<index_t>(TILES, (n - j0 + 15) / 16);
      // The keys ahead of this step (16 * TILES rows of dim, contiguous) are prefetched one
      // 64-byte line at a time over the channel loop, not in a burst.
      constexpr index_t chunk = 16 * TILES * static_cast<index_t>(sizeof(T));  // bytes per channel
      const char* prefetch = nullptr;
      index_t prefetch_bytes = 0;
      if (j0 < ahead.n) {
        prefetch = reinterpret_cast<const char*>(ahead.p + j0 * ahead.stride);
        prefetch_bytes = std::min<index_t>(16 * TILES, ahead.n - j0) * ahead.stride * static_cast<index_t>(sizeof(T));
      }
      auto prefetch_channel = [&](index_t d) {
        const index_t at = d * chunk;
        if (at % 64 < chunk && at < prefetch_bytes) attention_prefetch_rows(prefetch + at / 64 * 64, 0, 1, 1);
      };
      const T* tile = k + j0 * dim;
      batch acc[MR][TILES * V];
      for (index_t r = 0; r < MR; ++r)
        for (index_t i = 0; i < TILES * V; ++i) acc[r][i] = batch(0.0f);
      if (tiles == TILES) {
        for (index_t d = 0; d < dim; ++d) {
          if (prefetch) prefetch_channel(d);
          batch kv[TILES * V];
          for (index_t t = 0; t < TILES; ++t)
            for (index_t v = 0; v < V; ++v) kv[t * V + v] = attention_load<Arch>(tile + t * 16 * dim + d * 16 + v * W);
          for (index_t r = 0; r < MR; ++r) {
            const batch qd(q[r][d]);
            for (index_t i = 0; i < TILES * V; ++i) acc[r][i] = xsimd::fma(qd, kv[i], acc[r][i]);
          }
        }
      } else {  // one tile left (AVX-512 steps over two)
        for (index_t d = 0; d < dim; ++d) {
          if (prefetch) prefetch_channel(d);
          batch kv[V];
          for (index_t v = 0; v < V; ++v) kv[v] = attention_load<Arch>(tile + d * 16 + v * W);
          for (index_t r = 0; r < MR; ++r) {
            const batch qd(q[r][d]);
            for (index_t v = 0; v < V; ++v) acc[r][v] = xsimd::fma(qd, kv[v], acc[r][v]);
          }
        }
      }
      for (index_t r = 0; r < MR; ++r)
        for (index_t i = 0; i < tiles * V; ++i) acc[r][i].store_unaligned(s + r * ld + j0 + i * W);
    }
  }
}

/// o[r][d] += sum_{j < n} p[r * ld + j] * v[j][d] for rows r < MR, d < dim (value j at
/// v + j * v_stride). SIMD: each V load (and conversion) serves MR rows.
template <class Arch, index_t MR, class T>
void attention_accumulate(const float* p, index_t ld, const T* v, index_t v_stride, index_t n, index_t dim,
                          float* const* o, const attention_ahead<T>& ahead = {}) noexcept {
  if constexpr (!attention_simd_v<Arch>) {
    for (index_t r = 0; r < MR; ++r)
      for (index_t j = 0; j < n; ++j) {
        const T* row = v + j * v_stride;
        for (index_t d = 0; d < dim; ++d) o[r][d] += p[r * ld + j] * attention_to_float<Arch>(row[d]);
      }
  } else {
    using batch = float_batch<Arch>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    index_t d = 0;
    auto pass = [&](auto count_tag) {
      constexpr index_t N = decltype(count_tag)::value;
      batch acc[MR * N];
      for (index_t r = 0; r < MR; ++r)
        for (index_t i = 0; i < N; ++i) acc[r * N + i] = batch::load_unaligned(o[r] + d + i * W);
      const bool first_pass = d == 0;
      for (index_t j = 0; j < n; ++j) {
        if (first_pass) ahead.rows(j, 1, dim);
        const T* row = v + j * v_stride + d;
        batch vv[N];
        for (index_t i = 0; i < N; ++i) vv[i] = attention_load<Arch>(row + i * W);
        for (index_t r = 0; r < MR; ++r) {
          const batch pj(p[r * ld + j]);
          for (index_t i = 0; i < N; ++i) acc[r * N + i] = xsimd::fma(pj, vv[i], acc[r * N + i]);
        }
      }
      for (index_t r = 0; r < MR; ++r)
        for (index_t i = 0; i < N; ++i) acc[r * N + i].store_unaligned(o[r] + d + i * W);
      d += N * W;
    };
    // Accumulators: MR x N registers (16 of 32 on AVX-512 and NEON, 8 of 16 on AVX2).
    constexpr index_t wide = (W == 8 ? 8 : 16) / MR;
    while (d + wide * W <= dim) pass(std::integral_constant<index_t, wide>{});
    while (d + W <= dim) pass(std::integral_constant<index_t, 1>{});
    for (; d < dim; ++d)
      for (index_t r = 0; r < MR; ++r)
        for (index_t j = 0; j < n; ++j) o[r][d] += p[r * ld + j] * attention_to_float<Arch>(v[j * v_stride + d]);
  }
}

/// exp(x) for the softmax (x <= 0 after the running max is subtracted; -inf gives 0): Cody-Waite
/// reduction x = n ln2 + r, |r| <= ln2/2, the Cephes expf polynomial (about 1 ulp), times 2^n.
/// Cheaper than xsimd::exp (no overflow or subnormal handling, not needed here).
template <class Arch>
LIGHTQ_ALWAYS_INLINE float_batch<Arch> attention_exp(const float_batch<Arch>& x) noexcept {
  using batch = float_batch<Arch>;
  const batch clamped = xsimd::max(x, batch(-87.0f));  // exp(-87) is still a normal float
  const batch n = xsimd::nearbyint(clamped * batch(1.44269504088896341f));
  batch r = xsimd::fma(n, batch(-0.693359375f), clamped);
  r = xsimd::fma(n, batch(2.12194440e-4f), r);
  batch p(1.9875691500e-4f);
  p = xsimd::fma(p, r, batch(1.3981999507e-3f));
  p = xsimd::fma(p, r, batch(8.3334519073e-3f));
  p = xsimd::fma(p, r, batch(4.1665795894e-2f));
  p = xsimd::fma(p, r, batch(1.6666665459e-1f));
  p = xsimd::fma(p, r, batch(5.0000001201e-1f));
  p = xsimd::fma(p, r * r, r) + batch(1.0f);
  const batch result = ldexp(p, to_int(n));  // xsimd's, by argument-dependent lookup
  return select(x < batch(-87.0f), batch(0.0f), result);  // xsimd::select by ADL
}

/// Online softmax step of one query row over n >= 1 new scores (s has room for n rounded up to
/// the lanes): updates the running max m and sum l, turns s into p = exp(s - m_new), and returns
/// alpha = exp(m_old - m_new), the factor of the row's previous output (0 when m_old = -inf).
template <class Arch>
float attention_softmax_step(float* s, index_t n, float& m, float& l) noexcept {
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  float row_max = minus_inf;
  float sum = 0.0f;
  float m_new;
  if constexpr (!attention_simd_v<Arch>) {
    for (index_t j = 0; j < n; ++j) row_max = std::max(row_max, s[j]);
    m_new = std::max(m, row_max);
    for (index_t j = 0; j < n; ++j) {
      s[j] = std::exp(s[j] - m_new);
      sum += s[j];
    }
  } else {
    using batch = float_batch<Arch>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    const index_t padded = (n + W - 1) / W * W;
    for (index_t j = n; j < padded; ++j) s[j] = minus_inf;
    batch vmax(minus_inf);
    for (index_t j = 0; j < padded; j += W) vmax = xsimd::max(vmax, batch::load_unaligned(s + j));
    row_max = attention_float_ops<Arch>::max_lane(vmax);
    m_new = std::max(m, row_max);
    const batch mb(m_new);
    batch vsum(0.0f);
    for (index_t j = 0; j < padded; j += W) {
      const batch p = attention_exp<Arch>(batch::load_unaligned(s + j) - mb);
      p.store_unaligned(s + j);
      vsum += p;
    }
    sum = reduce_add(vsum);
  }
  float alpha = 0.0f;
  if (m == m_new) {
    alpha = 1.0f;  // the common case once the running max has settled: no exp
  } else if (m != minus_inf) {
    if constexpr (attention_simd_v<Arch>) {  // the kernel's exp, not a libm call per row and tile
      alignas(64) float lanes[attention_lanes<Arch>()];
      attention_exp<Arch>(float_batch<Arch>(m - m_new)).store_aligned(lanes);
      alpha = lanes[0];
    } else {
      alpha = std::exp(m - m_new);
    }
  }
  l = l * alpha + sum;
  m = m_new;
  return alpha;
}

/// o[d] *= alpha for d < dim.
template <class Arch>
void attention_rescale(float* o, index_t dim, float alpha) noexcept {
  index_t d = 0;
  if constexpr (attention_simd_v<Arch>) {
    using batch = float_batch<Arch>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    const batch a(alpha);
    for (; d + W <= dim; d += W) (batch::load_unaligned(o + d) * a).store_unaligned(o + d);
  }
  for (; d < dim; ++d) o[d] *= alpha;
}

// The xsimd conversions below are called unqualified (found by argument-dependent lookup on the
// batch type): xsimd declares none of them where it has no architecture (the AArch64 scalar
// build, -march=armv8-a+nosimd), and these branches are only instantiated for SIMD backends.

/// int8 path, scalar twin: s[j] = (float(hi[j]) + float(lo[j]) / 127) * (q_scale * key_scales[j]).
template <class Arch>
void attention_scores_from_dots(const std::int32_t* hi, const std::int32_t* lo, const float* key_scales, float q_scale,
                                index_t n, float* s) noexcept {
  for (index_t j = 0; j < n; ++j)
    s[j] = (static_cast<float>(hi[j]) + static_cast<float>(lo[j]) * (1.0f / 127.0f)) * (q_scale * key_scales[j]);
}

/// int8 path, scalar twin: w[j] = p[j] * value_scales[j] quantized to uint8 in [0, 127] against
/// the row's largest weight; zero padded up to a multiple of 4 tokens. Returns the weight scale
/// (max / 127; 0 when every weight is 0).
template <class Arch>
float attention_quantize_weights(float* p, const float* value_scales, index_t n, std::uint8_t* w) noexcept {
  float w_max = 0.0f;
  for (index_t j = 0; j < n; ++j) {
    p[j] *= value_scales[j];
    w_max = std::max(w_max, p[j]);
  }
  const index_t padded = (n + 3) / 4 * 4;
  if (!(w_max > 0.0f)) {
    for (index_t j = 0; j < padded; ++j) w[j] = 0;
    return 0.0f;
  }
  const float inverse = 127.0f / w_max;
  for (index_t j = 0; j < n; ++j)
    w[j] = static_cast<std::uint8_t>(std::min(static_cast<std::int32_t>(std::nearbyint(p[j] * inverse)), std::int32_t{127}));
  for (index_t j = n; j < padded; ++j) w[j] = 0;
  return w_max / 127.0f;
}

/// int8 path, one row over n new keys: logits from the two int8 dot products, the online softmax
/// step and the 7-bit weights, i.e. attention_scores_from_dots, attention_softmax_step and
/// attention_quantize_weights in three passes over the tile instead of six (SIMD backends; the
/// scalar twin runs the three functions). s, tmp: room for n rounded up to the lanes. Returns alpha.
template <class Arch>
float attention_int8_weights(const std::int32_t* hi, const std::int32_t* lo, const float* key_scales, float q_scale,
                             const float* value_scales, index_t n, float& m, float& l, float* s, std::uint8_t* w,
                             std::int32_t* tmp, float& w_scale) noexcept {
  if constexpr (!attention_simd_v<Arch>) {
    attention_scores_from_dots<Arch>(hi, lo, key_scales, q_scale, n, s);
    const float alpha = attention_softmax_step<Arch>(s, n, m, l);
    w_scale = attention_quantize_weights<Arch>(s, value_scales, n, w);
    (void)tmp;
    return alpha;
  } else {
    using batch = float_batch<Arch>;
    using ibatch = xsimd::batch<std::int32_t, xsimd_arch_t<Arch>>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    constexpr float minus_inf = -std::numeric_limits<float>::infinity();
    const index_t full = n / W * W, padded = (n + W - 1) / W * W;
    // 1: logits and their max.
    const batch qs(q_scale), lw(1.0f / 127.0f);
    batch vmax(minus_inf);
    for (index_t j = 0; j < full; j += W) {
      const batch dot = xsimd::fma(to_float(ibatch::load_unaligned(lo + j)), lw, to_float(ibatch::load_unaligned(hi + j)));
      const batch x = dot * (qs * batch::load_unaligned(key_scales + j));
      x.store_unaligned(s + j);
      vmax = xsimd::max(vmax, x);
    }
    float row_max = attention_float_ops<Arch>::max_lane(vmax);
    for (index_t j = full; j < n; ++j) {
      s[j] = (static_cast<float>(hi[j]) + static_cast<float>(lo[j]) * (1.0f / 127.0f)) * (q_scale * key_scales[j]);
      row_max = std::max(row_max, s[j]);
    }
    for (index_t j = n; j < padded; ++j) s[j] = minus_inf;
    const float m_new = std::max(m, row_max);
    // 2: p = exp(s - m_new), its sum, and the weights x = p * value scale with their max.
    const batch mb(m_new);
    batch vsum(0.0f), wmax(0.0f);
    for (index_t j = 0; j < padded; j += W) {
      const batch p = attention_exp<Arch>(batch::load_unaligned(s + j) - mb);
      vsum += p;
      batch vs;
      if (j + W <= n) {
        vs = batch::load_unaligned(value_scales + j);
      } else {  // the tail: scales past n are zero (their p is zero too)
        alignas(64) float lanes[W] = {};
        for (index_t t = j; t < n; ++t) lanes[t - j] = value_scales[t];
        vs = batch::load_aligned(lanes);
      }
      const batch x = p * vs;
      x.store_unaligned(s + j);
      wmax = xsimd::max(wmax, x);
    }
    float alpha = 0.0f;
    if (m == m_new)
      alpha = 1.0f;
    else if (m != minus_inf) {
      alignas(64) float lanes[W];
      attention_exp<Arch>(batch(m - m_new)).store_aligned(lanes);
      alpha = lanes[0];
    }
    l = l * alpha + reduce_add(vsum);
    m = m_new;
    // 3: 7-bit weights against the row's largest.
    const float w_max = attention_float_ops<Arch>::max_lane(wmax);
    const index_t groups4 = (n + 3) / 4 * 4;
    if (!(w_max > 0.0f)) {
      for (index_t j = 0; j < groups4; ++j) w[j] = 0;
      w_scale = 0.0f;
      return alpha;
    }
    const batch inv(127.0f / w_max);
#if defined(LIGHTQ_HAS_AVX512_VNNI)
    if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
      // x <= w_max, so round(x * 127 / w_max) <= 127: narrowed 16 at a time (vpmovdb); the
      // padding lanes (p = 0) give 0, so w is zero up to `padded` >= the 4-token groups.
      for (index_t j = 0; j < padded; j += W) {
        const __m512i q = nearbyint_as_int(batch::load_unaligned(s + j) * inv);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(w + j), _mm512_cvtepi32_epi8(_mm512_min_epi32(q, _mm512_set1_epi32(127))));
      }
      (void)tmp;
      w_scale = w_max / 127.0f;
      return alpha;
    }
#endif
    for (index_t j = 0; j < padded; j += W) nearbyint_as_int(batch::load_unaligned(s + j) * inv).store_unaligned(tmp + j);
    for (index_t j = 0; j < n; ++j) w[j] = static_cast<std::uint8_t>(std::min(tmp[j], std::int32_t{127}));
    for (index_t j = n; j < groups4; ++j) w[j] = 0;
    w_scale = w_max / 127.0f;
    return alpha;
  }
}

/// int8 path: o[d] = o[d] * alpha + float(acc[d]) * w_scale for d < dim.
template <class Arch>
void attention_flush(float* o, const std::int32_t* acc, index_t dim, float alpha, float w_scale) noexcept {
  index_t d = 0;
  if constexpr (attention_simd_v<Arch>) {
    using batch = float_batch<Arch>;
    using ibatch = xsimd::batch<std::int32_t, xsimd_arch_t<Arch>>;
    constexpr index_t W = static_cast<index_t>(batch::size);
    const batch a(alpha), ws(w_scale);
    for (; d + W <= dim; d += W)
      xsimd::fma(to_float(ibatch::load_unaligned(acc + d)), ws, batch::load_unaligned(o + d) * a)
          .store_unaligned(o + d);
  }
  for (; d < dim; ++d) o[d] = o[d] * alpha + static_cast<float>(acc[d]) * w_scale;
}

// ---------------------------------------------------------------------------------------------
// Problem description.

/// The query rows of one (batch, kv head): row r = token t * group + g, query head kv * group + g.
struct attention_item {
  const float* q = nullptr;
  index_t q_head_stride = 0, q_token_stride = 0;
  index_t group = 1, query_tokens = 0, dim = 0;
  float scale = 1.0f;
  attention_mask mask;

  index_t rows() const noexcept { return group * query_tokens; }
  const float* query(index_t r) const noexcept { return q + (r % group) * q_head_stride + (r / group) * q_token_stride; }
  index_t limit(index_t r) const noexcept { return mask.limit(r / group); }
};

/// fp32 or fp16 (T = std::uint16_t bits) keys and values, row-major rows with unit inner stride;
/// or (k_tiled, kv_cache's fp16 layout) K in tiles of 16 keys, [tile][dim][16], k_stride = dim.
template <class T>
struct attention_dense_source {
  static constexpr index_t key_tile = 64;
  const T* k = nullptr;
  index_t k_stride = 0;
  const T* v = nullptr;
  index_t v_stride = 0;
  bool k_tiled = false;
  index_t out_dim(index_t dim) const noexcept { return dim; }
};

/// int8 keys and values in kv_cache's qs8 layout.
struct attention_qs8_source {
  static constexpr index_t key_tile = 128;
  const std::int8_t* keys = nullptr;
  const float* key_scales = nullptr;  // token t's at [t / scale_block] (K and V)
  const std::int32_t* key_sums = nullptr;
  index_t groups = 0;
  const std::int8_t* values = nullptr;
  const float* value_scales = nullptr;
  index_t value_dim = 0;
  const float* channel_scales = nullptr;  // per-channel key smoothing, multiplied into q
  index_t scale_block = 1;                // tokens per K/V scale
  index_t out_dim(index_t) const noexcept { return value_dim; }
};

/// Hands out 64-byte aligned pieces of one scratch block; with a null base it only counts bytes.
struct attention_carver {
  unsigned char* base = nullptr;
  std::size_t offset = 0;
  template <class T>
  T* take(index_t count) noexcept {
    offset = (offset + 63) / 64 * 64;
    T* p = base ? reinterpret_cast<T*>(base + offset) : nullptr;
    offset += static_cast<std::size_t>(count) * sizeof(T);
    return p;
  }
};

/// Scratch of one thread, carved from one block of the context's scratch (no allocation here).
struct attention_workspace {
  float* queries = nullptr;       // block rows x dim (scaled queries), fp32 / fp16 path
  std::int8_t* q8 = nullptr;      // groups * 4, int8 path
  std::uint8_t* q8p = nullptr;    // block rows x 2 x groups * 4, prepared int8 query digits
  float* q_scales = nullptr;      // block rows
  float* scores = nullptr;        // 4 x (key tile + 16)
  std::int32_t* dots = nullptr;   // int8 path: 4 rows x 2 digits x (key tile + 16)
  std::uint8_t* weights = nullptr;  // 4 rows x (key tile + 16)
  std::int32_t* acc = nullptr;    // 4 rows x (value_dim + 16)
  float* tile_scales = nullptr;   // 2 x (key tile + 16): per-block K/V scales expanded per token
  float* dummy = nullptr;         // output of padding rows (their P is zero)

  attention_workspace(attention_carver& c, index_t block_rows, index_t dim, index_t groups, index_t value_dim,
                      index_t key_tile) noexcept
      : queries(c.take<float>(block_rows * dim + 1)),
        q8(c.take<std::int8_t>(groups * 4 + 1)),
        q8p(c.take<std::uint8_t>(2 * block_rows * groups * 4 + 1)),
        q_scales(c.take<float>(block_rows)),
        scores(c.take<float>(4 * (key_tile + 16))),
        dots(c.take<std::int32_t>(8 * (key_tile + 16))),
        weights(c.take<std::uint8_t>(4 * (key_tile + 16))),
        acc(c.take<std::int32_t>(4 * (value_dim + 16))),
        tile_scales(c.take<float>(2 * (key_tile + 16))),
        dummy(c.take<float>(value_dim + 1)) {}

  /// Bytes of one workspace.
  static std::size_t bytes(index_t block_rows, index_t dim, index_t groups, index_t value_dim, index_t key_tile) noexcept {
    attention_carver counter;
    (void)attention_workspace(counter, block_rows, dim, groups, value_dim, key_tile);
    return counter.offset + 64;
  }
};

/// Running softmax state of a block of rows: max m, sum l, unnormalised output o (stride ld).
struct attention_state {
  float* m;
  float* l;
  float* o;
  index_t ld;
};

inline void attention_state_reset(const attention_state& st, index_t rows) noexcept {
  for (index_t r = 0; r < rows; ++r) {
    st.m[r] = -std::numeric_limits<float>::infinity();
    st.l[r] = 0.0f;
    for (index_t d = 0; d < st.ld; ++d) st.o[r * st.ld + d] = 0.0f;
  }
}

/// One group of up to MR rows of a key tile: scores, online softmax per row, P*V.
template <class Arch, index_t MR, class T>
void attention_tile_rows(const attention_item& item, const attention_dense_source<T>& src, index_t r0, index_t rows,
                         index_t first, index_t t0, index_t nk, index_t distance, index_t ahead_n, const attention_state& st,
                         attention_workspace& ws) noexcept {
  const index_t dim = item.dim, ld = attention_dense_source<T>::key_tile + 16;
  const float* q[MR];
  float* o[MR];
  index_t count[MR];
  index_t n = 0;
  for (index_t i = 0; i < MR; ++i) {
    const index_t r = std::min(first + i, rows - 1);  // padding rows repeat the last real row
    q[i] = ws.queries + r * dim;
    count[i] = first + i < rows ? std::max<index_t>(0, std::min(nk, item.limit(r0 + r) - t0)) : 0;
    o[i] = first + i < rows ? st.o + r * st.ld : ws.dummy;
    n = std::max(n, count[i]);
  }
  if (n <= 0) return;
  float* s = ws.scores;
  attention_ahead<T> k_ahead, v_ahead;  // none unless the keys ahead exist
  if (ahead_n > 0) {
    k_ahead = {src.k + (t0 + distance) * src.k_stride, src.k_stride, ahead_n};
    v_ahead = {src.v + (t0 + distance) * src.v_stride, src.v_stride, ahead_n};
  }
  if (src.k_tiled)
    attention_scores_tiled<Arch, MR>(q, src.k + t0 * dim, n, dim, s, ld, k_ahead);
  else
    attention_scores<Arch, MR>(q, src.k + t0 * src.k_stride, src.k_stride, n, dim, s, ld, k_ahead);
  for (index_t i = 0; i < MR; ++i) {
    float* p = s + i * ld;
    if (count[i] > 0) {
      const index_t r = first + i;
      const float alpha = attention_softmax_step<Arch>(p, count[i], st.m[r], st.l[r]);
      if (alpha != 1.0f) attention_rescale<Arch>(o[i], dim, alpha);
    }
    for (index_t j = std::max<index_t>(count[i], 0); j < n; ++j) p[j] = 0.0f;
  }
  attention_accumulate<Arch, MR>(s, ld, src.v + t0 * src.v_stride, src.v_stride, n, dim, o, v_ahead);
}

/// Rows [r0, r0 + rows) of `item` over keys [k0, k1) (k0 a multiple of the key tile), fp32/fp16.
template <class Arch, class T>
void attention_block(const attention_item& item, const attention_dense_source<T>& src, index_t r0, index_t rows,
                     index_t k0, index_t k1, const attention_state& st, attention_workspace& ws) noexcept {
  const index_t dim = item.dim;
  constexpr index_t tile = attention_dense_source<T>::key_tile;
  constexpr index_t mr = attention_lanes<Arch>() >= 4 ? 4 : 1;
  index_t k_end = k0;
  for (index_t r = 0; r < rows; ++r) {
    const float* q = item.query(r0 + r);
    float* qs = ws.queries + r * dim;
    for (index_t d = 0; d < dim; ++d) qs[d] = q[d] * item.scale;
    k_end = std::max(k_end, std::min(k1, item.limit(r0 + r)));
  }
  const index_t distance = std::max<index_t>(1, attention_prefetch_bytes / (dim * static_cast<index_t>(sizeof(T))));
  for (index_t t0 = k0; t0 < k_end; t0 += tile) {
    const index_t nk = std::min(tile, k_end - t0);
    // Keys t0 + distance + j are prefetched while key t0 + j is used, by the first row group.
    index_t ahead = std::max<index_t>(0, std::min(nk, k_end - t0 - distance));
    for (index_t first = 0; first < rows; first += mr) {
      const index_t left = rows - first;
      if (left >= 3 || mr == 1)
        attention_tile_rows<Arch, mr>(item, src, r0, rows, first, t0, nk, distance, ahead, st, ws);
      else if (left == 2)
        attention_tile_rows<Arch, 2>(item, src, r0, rows, first, t0, nk, distance, ahead, st, ws);
      else
        attention_tile_rows<Arch, 1>(item, src, r0, rows, first, t0, nk, distance, ahead, st, ws);
      ahead = 0;
    }
  }
}

/// Rows first .. first + R - 1 of a block over one int8 key tile [t0, t0 + nk): R rows share
/// every K load (Q*K^T, two int8 digits per row) and every V load (P*V); softmax and the 7-bit
/// weights per row. Rows with no visible key in the tile take no part.
template <class Arch, int R, class StreamAhead>
void attention_qs8_rows(const attention_item& item, const attention_qs8_source& src, index_t r0, index_t first,
                        index_t t0, index_t nk, const float* key_scales, const float* value_scales, bool& prefetch,
                        const StreamAhead& stream_ahead, const attention_state& st, attention_workspace& ws) noexcept {
  using ops = attention_int8_ops<Arch>;
  constexpr index_t tile = attention_qs8_source::key_tile;
  constexpr index_t ld = tile + 16;
  const index_t groups = src.groups, value_dim = src.value_dim;
  index_t count[R];
  index_t n = 0;
  const std::uint8_t* prepared[R];
  for (int i = 0; i < R; ++i) {
    count[i] = std::max<index_t>(0, std::min(nk, item.limit(r0 + first + i) - t0));
    n = std::max(n, count[i]);
    prepared[i] = ws.q8p + (first + i) * 2 * groups * 4;
  }
  if (n == 0) return;
  // dots: row i digit d at ws.dots + (2 i + d) * ld; tile-local key j at [j].
  for (index_t j = 0; j < n; j += 16) {
    // K and V (contiguous streams in the qs8 layout) ahead of keys j..j+15, by the first row group.
    const attention_stream_lines ahead =
        prefetch ? stream_ahead(t0 + j) : attention_stream_lines{};
    attention_dot_key_tile_rows<Arch, R, ops>(prepared, src.keys + (t0 + j) * groups * 4, src.key_sums + t0 + j, groups,
                                              ws.dots + j, ld, ahead);
  }
  prefetch = false;
  const index_t padded = (n + 3) / 4 * 4;
  float alpha[R], w_scale[R];
  const std::uint8_t* w[R];
  std::int32_t* acc[R];
  for (int i = 0; i < R; ++i) {
    const index_t r = first + i;
    std::uint8_t* wi = ws.weights + i * ld;
    w[i] = wi;
    acc[i] = ws.acc + i * (value_dim + 16);
    for (index_t d = 0; d < value_dim; ++d) acc[i][d] = 0;
    alpha[i] = 1.0f;
    w_scale[i] = 0.0f;
    if (count[i] > 0) {
      float* s = ws.scores;
      std::int32_t* hi = ws.dots + 2 * i * ld;
      alpha[i] = attention_int8_weights<Arch>(hi, hi + ld, key_scales, ws.q_scales[r], value_scales, count[i], st.m[r],
                                              st.l[r], s, wi, hi, w_scale[i]);
    }
    for (index_t j = count[i] > 0 ? (count[i] + 3) / 4 * 4 : 0; j < padded; ++j) wi[j] = 0;
  }
  attention_accumulate_values_rows<Arch, R, ops>(w, src.values + t0 * value_dim, padded / 4, value_dim, acc);
  for (int i = 0; i < R; ++i)
    if (count[i] > 0) attention_flush<Arch>(st.o + (first + i) * st.ld, acc[i], value_dim, alpha[i], w_scale[i]);
}

/// Rows [r0, r0 + rows) of `item` over keys [k0, k1) (k0 a multiple of 64), int8 cache.
template <class Arch>
void attention_block(const attention_item& item, const attention_qs8_source& src, index_t r0, index_t rows,
                     index_t k0, index_t k1, const attention_state& st, attention_workspace& ws) noexcept {
  using ops = attention_int8_ops<Arch>;
  const index_t dim = item.dim, groups = src.groups;
  constexpr index_t tile = attention_qs8_source::key_tile;
  index_t k_end = k0;
  for (index_t r = 0; r < rows; ++r) {
    // Q row: scaled by the softmax scale, then symmetric int8 per row.
    // (times the cache's per-channel key smoothing factors).
    const float* q = item.query(r0 + r);
    float* qs = ws.queries;
    float max_abs = 0.0f;
    for (index_t d = 0; d < dim; ++d) {
      qs[d] = q[d] * item.scale * src.channel_scales[d];
      max_abs = std::max(max_abs, std::fabs(qs[d]));
    }
    // Two int8 digits: q ~ scale * (hi + lo / 127), |lo| <= 64. The second int8 dot product
    // removes the query's rounding from the logits (half their int8 noise) for the price of
    // one more vpdpbusd / SDOT per K load; K stays one int8 per channel in the cache.
    const float scale_hi = max_abs / 127.0f;
    const float inverse = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
    std::int8_t* q8 = ws.q8;
    std::uint8_t* prepared = ws.q8p + r * 2 * groups * 4;
    for (index_t d = 0; d < dim; ++d)
      q8[d] = static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, std::nearbyint(qs[d] * inverse))));
    for (index_t d = dim; d < groups * 4; ++d) q8[d] = 0;
    ops::prepare_query(q8, groups, prepared);
    for (index_t d = 0; d < dim; ++d) {
      const float residual = qs[d] - static_cast<float>(q8[d]) * scale_hi;
      q8[d] = static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, std::nearbyint(residual * inverse * 127.0f))));
    }
    ops::prepare_query(q8, groups, prepared + groups * 4);
    ws.q_scales[r] = scale_hi;
    k_end = std::max(k_end, std::min(k1, item.limit(r0 + r)));
  }
  // The lines of tokens [token, token + 16) of the K and V streams, attention_prefetch_bytes
  // ahead, within the keys in use.
  auto stream_ahead = [&](index_t token) {
    attention_stream_lines lines;
    auto range = [&](const std::int8_t* base, index_t per_token, const char*& p, index_t& count) {
      const index_t from = token * per_token + attention_prefetch_bytes;
      const index_t to = std::min((token + 16) * per_token + attention_prefetch_bytes, k_end * per_token);
      if (from < to) {
        p = reinterpret_cast<const char*>(base + from);
        count = (to - from + 63) / 64;
      }
    };
    range(src.keys, groups * 4, lines.k, lines.k_lines);
    range(src.values, src.value_dim, lines.v, lines.v_lines);
    return lines;
  };
  for (index_t t0 = k0; t0 < k_end; t0 += tile) {
    const index_t nk = std::min(tile, k_end - t0);
    const float* key_scales = src.key_scales + t0;
    const float* value_scales = src.value_scales + t0;
    if (src.scale_block > 1) {  // one scale per block of tokens: expanded per token for this tile
      float* ks = ws.tile_scales;
      float* vs = ws.tile_scales + tile + 16;
      for (index_t j = 0; j < nk; ++j) {
        ks[j] = src.key_scales[(t0 + j) / src.scale_block];
        vs[j] = src.value_scales[(t0 + j) / src.scale_block];
      }
      key_scales = ks;
      value_scales = vs;
    }
    bool prefetch = true;  // by the first row group of the tile
    for (index_t first = 0; first < rows; first += 4) {
      const index_t left = rows - first;
      const auto run = [&](auto row_count) {
        constexpr int R = decltype(row_count)::value;
        attention_qs8_rows<Arch, R>(item, src, r0, first, t0, nk, key_scales, value_scales, prefetch, stream_ahead,
                                    st, ws);
      };
      if (left >= 4)
        run(std::integral_constant<int, 4>{});
      else if (left == 3)
        run(std::integral_constant<int, 3>{});
      else if (left == 2)
        run(std::integral_constant<int, 2>{});
      else
        run(std::integral_constant<int, 1>{});
    }
  }
}

}  // namespace detail
}  // namespace lightq

LIGHTQ_GCC_PR105593_END
