// AVX-512 VNNI int8 micro-kernel: 12 rows x 32 columns, K in groups of 4 (vpdpbusd, uint8
// activations x int8 weights, 24 zmm accumulators); qs8 activations are shifted into uint8.
#pragma once

#include <algorithm>
#include <cstdint>

#include "lightq/config.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/output_stage.hpp"

#if defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>

LIGHTQ_GCC_PR105593_BEGIN  // GCC 12 false positives in AVX-512 intrinsics (see config.hpp)

namespace lightq {
namespace detail {

// acc += u8(a) x s8(b), four products per 32-bit lane, modulo 2^32. gcc 12 spills the
// accumulators of register-tiled loops around _mm512_dpbusd_epi32 (DESIGN.md §4); the one
// instruction in asm keeps them in registers. clang compiles the intrinsic well.
#if defined(__GNUC__) && !defined(__clang__) && !defined(LIGHTQ_GEMM_NO_INLINE_ASM)
#define LIGHTQ_VPDPBUSD(acc, a, b) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b))
#else
#define LIGHTQ_VPDPBUSD(acc, a, b) (acc) = _mm512_dpbusd_epi32((acc), (a), (b))
#endif
// gcc's register allocator otherwise moves an accumulator through a spare register every K
// group (two vmovdqa64 per group, ~5% of the peak): pin them to zmm8..zmm31. A pinned variable
// is only guaranteed in its register at the asm statements that use it, and zmm8..31 are
// caller-saved: any call in between (AddressSanitizer's __asan_loadN on the 64-byte loads of
// the K loop, or an un-inlined helper in the epilogue at -O1) clobbers it. So the pins are off
// without optimization and under AddressSanitizer, and the K loop's results are copied into
// ordinary variables (the d* below) before any other code runs.
#if defined(__GNUC__) && !defined(__clang__) && !defined(LIGHTQ_GEMM_NO_INLINE_ASM) && defined(__OPTIMIZE__) && \
    !defined(__SANITIZE_ADDRESS__)
#define LIGHTQ_VNNI_ACC(name, reg) register __m512i name asm(reg) = _mm512_setzero_si512()
#else
#define LIGHTQ_VNNI_ACC(name, reg) __m512i name = _mm512_setzero_si512()
#endif

/// Column masks of a tile of `cols` (1..32) columns: lanes 0..15 and 16..31.
LIGHTQ_ALWAYS_INLINE void vnni_column_masks(index_t cols, __mmask16& m0, __mmask16& m1) noexcept {
  const int c = static_cast<int>(cols);
  m0 = c >= 16 ? __mmask16(0xffff) : __mmask16((1u << c) - 1u);
  m1 = c >= 32 ? __mmask16(0xffff) : c > 16 ? __mmask16((1u << (c - 16)) - 1u) : __mmask16(0);
}

/// The dequantizing (float32) stage of one row of a VNNI tile from registers, operation for
/// operation the shared stage's vector path (gemm/output_stage.hpp), so the same bits.
struct vnni_float_stage {
  using xarch = xsimd_arch_t<arch::avx512_vnni>;
  using ib = xsimd::batch<std::int32_t, xarch>;
  using fb = xsimd::batch<float, xarch>;
  __mmask16 m0, m1;
  bool offsets;
  ib add0, add1;   // column offsets, or the int32 bias (zero when absent)
  ib sum0, sum1;   // column sums (per-row zero points)
  fb mul0, mul1, bias0, bias1, lo, hi;

  vnni_float_stage(const gemm_output_tile& o, index_t col0, index_t cols) noexcept {
    vnni_column_masks(cols, m0, m1);
    offsets = o.column_offsets != nullptr;
    const __m512i zero = _mm512_setzero_si512();
    const std::int32_t* add = offsets ? o.column_offsets : o.bias_i32;
    add0 = add ? _mm512_maskz_loadu_epi32(m0, add + col0) : zero;
    add1 = add ? _mm512_maskz_loadu_epi32(m1, add + col0 + 16) : zero;
    sum0 = offsets ? zero : _mm512_maskz_loadu_epi32(m0, o.column_sums + col0);
    sum1 = offsets ? zero : _mm512_maskz_loadu_epi32(m1, o.column_sums + col0 + 16);
    mul0 = _mm512_maskz_loadu_ps(m0, o.column_multipliers + col0);
    mul1 = _mm512_maskz_loadu_ps(m1, o.column_multipliers + col0 + 16);
    bias0 = o.bias_f32 ? fb(_mm512_maskz_loadu_ps(m0, o.bias_f32 + col0)) : fb(0.0f);
    bias1 = o.bias_f32 ? fb(_mm512_maskz_loadu_ps(m1, o.bias_f32 + col0 + 16)) : fb(0.0f);
    lo = fb(o.min);
    hi = fb(o.max);
  }
  LIGHTQ_ALWAYS_INLINE fb finish(ib v, const ib& add, const ib& sum, const fb& mul, const fb& bias, std::int32_t zp,
                                 float row_scale) const noexcept {
    if (!offsets) v = v - ib(zp) * sum;
    v = v + add;
    const fb y = fused_multiply_add<xarch>(xsimd::to_float(v) * mul, fb(row_scale), bias);
    return xsimd::min(xsimd::max(y, lo), hi);
  }
  LIGHTQ_ALWAYS_INLINE void row(float* y, __m512i c0, __m512i c1, std::int32_t zp, float row_scale) const noexcept {
    _mm512_mask_storeu_ps(y, m0, finish(ib(c0), add0, sum0, mul0, bias0, zp, row_scale));
    _mm512_mask_storeu_ps(y + 16, m1, finish(ib(c1), add1, sum1, mul1, bias1, zp, row_scale));
  }
};

/// K block of the packed activations (row_block_panel_layout<12, 64>): 64 bytes of each of the
/// 12 rows side by side, so packing is a row copy (XOR 0x80 for qs8) and the im2col of a conv
/// writes straight into the panel.
constexpr index_t vnni_a_block = 64;

/// The VNNI tile for `Rows` (1..12) rows: packed A is 12 rows x 64 bytes per K block, packed W
/// 32 x 4 bytes per K group. Per group: two weight loads, one broadcast per row, two vpdpbusd per
/// row (24 per 14 loads, ~89% of the vpdpbusd peak in L1 where an 8-row tile reaches ~84%).
/// `Half`: the tile has at most 16 columns (N = 16, or the last block of N = 16 mod 32), so only
/// the first weight vector is used: one vpdpbusd per row and group instead of two. `Direct`
/// (12 rows only): A is read in place, row r at args.a + r * args.a_stride (a 1x1 convolution's
/// uint8 pixels: no packing pass) or through args.a_rows / a_blocks (a KxK convolution's
/// windows in a padded copy of its input). The accumulators are named variables (not an array) so that
/// no compiler keeps them in memory.
template <int Rows, bool Half, bool Direct = false>
LIGHTQ_ALWAYS_INLINE void vnni_12x32c4_tile(const gemm_tile_args<std::int32_t>& args) noexcept {
  static_assert(!Direct || Rows == 12, "tail tiles of unpacked A go through a stack panel");
  LIGHTQ_VNNI_ACC(c0_0, "zmm8");   LIGHTQ_VNNI_ACC(c0_1, "zmm9");
  LIGHTQ_VNNI_ACC(c1_0, "zmm10");  LIGHTQ_VNNI_ACC(c1_1, "zmm11");
  LIGHTQ_VNNI_ACC(c2_0, "zmm12");  LIGHTQ_VNNI_ACC(c2_1, "zmm13");
  LIGHTQ_VNNI_ACC(c3_0, "zmm14");  LIGHTQ_VNNI_ACC(c3_1, "zmm15");
  LIGHTQ_VNNI_ACC(c4_0, "zmm16");  LIGHTQ_VNNI_ACC(c4_1, "zmm17");
  LIGHTQ_VNNI_ACC(c5_0, "zmm18");  LIGHTQ_VNNI_ACC(c5_1, "zmm19");
  LIGHTQ_VNNI_ACC(c6_0, "zmm20");  LIGHTQ_VNNI_ACC(c6_1, "zmm21");
  LIGHTQ_VNNI_ACC(c7_0, "zmm22");  LIGHTQ_VNNI_ACC(c7_1, "zmm23");
  LIGHTQ_VNNI_ACC(c8_0, "zmm24");  LIGHTQ_VNNI_ACC(c8_1, "zmm25");
  LIGHTQ_VNNI_ACC(c9_0, "zmm26");  LIGHTQ_VNNI_ACC(c9_1, "zmm27");
  LIGHTQ_VNNI_ACC(c10_0, "zmm28"); LIGHTQ_VNNI_ACC(c10_1, "zmm29");
  LIGHTQ_VNNI_ACC(c11_0, "zmm30"); LIGHTQ_VNNI_ACC(c11_1, "zmm31");
#define LIGHTQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
  // An int8/uint8 tile with one zero point for all rows is finished from the registers (below);
  // its column offsets are then added up front: the accumulators start from them (modulo 2^32,
  // the same sums), one vector add per register fewer in the finish.
  const bool requantize_in_registers =
      args.out && args.out->column_offsets &&
      (args.out->kind == gemm_output_kind::int8 || args.out->kind == gemm_output_kind::uint8);
  __mmask16 m0 = 0, m1 = 0;
  __m512i off0 = _mm512_setzero_si512(), off1 = _mm512_setzero_si512();
  if (requantize_in_registers) {
    vnni_column_masks(args.cols, m0, m1);
    const std::int32_t* offsets = args.out->column_offsets + args.col0;
    off0 = _mm512_maskz_loadu_epi32(m0, offsets);
    off1 = _mm512_maskz_loadu_epi32(m1, offsets + 16);
  }
  if (args.accumulate) {
    const std::int32_t* p = args.partial;
    const index_t ps = args.partial_stride;
#define LIGHTQ_LOAD_ROW(r)                                                                          \
  if constexpr (Rows > r) {                                                                         \
    c##r##_0 = _mm512_add_epi32(_mm512_loadu_si512(p + r * ps), off0);                              \
    if constexpr (!Half) c##r##_1 = _mm512_add_epi32(_mm512_loadu_si512(p + r * ps + 16), off1);   \
  }
    LIGHTQ_ROWS(LIGHTQ_LOAD_ROW)
#undef LIGHTQ_LOAD_ROW
  } else if (requantize_in_registers) {
#define LIGHTQ_INIT_ROW(r)                 \
  if constexpr (Rows > r) {                \
    c##r##_0 = off0;                       \
    if constexpr (!Half) c##r##_1 = off1;  \
  }
    LIGHTQ_ROWS(LIGHTQ_INIT_ROW)
#undef LIGHTQ_INIT_ROW
  }
  const auto* a = static_cast<const std::uint8_t*>(args.a);
  const auto* w = static_cast<const std::int8_t*>(args.w);
  // The weight panels stream (from L2 under the row panels of a block, or from memory in a
  // GEMV): fetch them 2 KiB ahead, +10..25% on the transformer shapes. For a GEMV from memory
  // with 4 KiB pages 8 KiB ahead was better (82% -> 91% of a read loop); with the huge pages
  // aligned_malloc now asks for, 2 KiB reaches the read loop's bandwidth (103%) and 4-16 KiB
  // fall back to ~92%.
  constexpr index_t prefetch_distance = 2048;
  index_t k_begin = 0;
  // Where row r of the current K block starts, relative to row 0's: 64 bytes on in the packed
  // panel; in place r * a_stride on, or through an indirection buffer a_rows[r] - a_rows[0]
  // (then K block j of every row is a_blocks[j] from its start). And how far the next block is.
  constexpr index_t a_block_step = Direct ? vnni_a_block : 12 * vnni_a_block;
  [[maybe_unused]] std::ptrdiff_t row_delta[12] = {};
  [[maybe_unused]] const index_t* a_blocks = nullptr;
  [[maybe_unused]] const std::uint8_t* a_row0 = nullptr;
  if constexpr (Direct) {
    if (args.a_rows) {
      a_row0 = static_cast<const std::uint8_t*>(args.a_rows[0]);
      for (int r = 1; r < 12; ++r) row_delta[r] = static_cast<const std::uint8_t*>(args.a_rows[r]) - a_row0;
      a_blocks = args.a_blocks;
    } else {
      for (int r = 1; r < 12; ++r) row_delta[r] = r * args.a_stride;
    }
  }
  if constexpr (Rows == 1 && !Direct) {
    if (args.row0 == 0) {
      // A one-row job (a GEMV, weights streaming from memory). Its activation row is 64 bytes
      // in every 768 of the panel (row 0 of each 12-row K block): read in place, each of those
      // lines waits behind the weight stream for a fill buffer, and the dependent vpdpbusd
      // chain stalls with it (int8 1x8192x8192: 26.7 GOP/s against 34.8 with the row
      // contiguous). So the row is first copied to the stack, 4 KiB at a time (independent
      // loads), and read contiguously from there.
      alignas(64) std::uint8_t row[4096];
      for (index_t k0 = 0; k0 < args.kc; k0 += 4096) {
        const index_t len = std::min<index_t>(4096, args.kc - k0);
        for (index_t b = 0; b < len; b += vnni_a_block)
          __builtin_memcpy(row + b, a + ((k0 + b) / vnni_a_block) * (12 * vnni_a_block), vnni_a_block);
        for (index_t g = 0; g < len / 4; ++g) {
          _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance, _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance + 64, _MM_HINT_T0);
          std::int32_t a4;
          __builtin_memcpy(&a4, row + 4 * g, 4);
          const __m512i av = _mm512_set1_epi32(a4);
          LIGHTQ_VPDPBUSD(c0_0, av, _mm512_load_si512(w));
          if constexpr (!Half) LIGHTQ_VPDPBUSD(c0_1, av, _mm512_load_si512(w + 64));
          w += 128;
        }
      }
      k_begin = args.kc;
    }
  }
  for (index_t k0 = k_begin; k0 < args.kc; k0 += vnni_a_block, a += a_block_step) {
    const std::uint8_t* ab = a;
    if constexpr (Direct)
      if (a_blocks) ab = a_row0 + *a_blocks++;
    index_t groups = std::min(args.kc - k0, vnni_a_block) / 4;
    if constexpr (Rows == 1 && !Direct) {
      const bool cached = args.row0 > 0;
      // One row below other rows (the last pixel of a 7x7 image: its weight panel was just read
      // by the tiles above, so it is in cache): the two accumulators would be two chains of
      // dependent vpdpbusd (5 cycles each); four groups go to four accumulator sets (the idle
      // rows' registers), summed at the end (modulo 2^32: the same sums), so four chains overlap
      // (7x7 3x3 512 -> 512: -4%). A one-row job (a GEMV, row0 = 0) keeps one chain: its weights
      // stream from memory, where the four sets measured 3% slower.
      for (; cached && groups >= 4; groups -= 4) {
#define LIGHTQ_DOT_SET(j)                                                          \
  {                                                                                \
    _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance + 128 * j, _MM_HINT_T0);      \
    _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance + 128 * j + 64, _MM_HINT_T0); \
    std::int32_t a4;                                                               \
    __builtin_memcpy(&a4, ab + 4 * j, 4);                                          \
    const __m512i av = _mm512_set1_epi32(a4);                                      \
    LIGHTQ_VPDPBUSD(c##j##_0, av, _mm512_load_si512(w + 128 * j));                 \
    if constexpr (!Half) LIGHTQ_VPDPBUSD(c##j##_1, av, _mm512_load_si512(w + 128 * j + 64)); \
  }
        LIGHTQ_DOT_SET(0) LIGHTQ_DOT_SET(1) LIGHTQ_DOT_SET(2) LIGHTQ_DOT_SET(3)
        ab += 16;
        w += 512;
#undef LIGHTQ_DOT_SET
      }
    }
    for (; groups > 0; --groups) {
      _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(w) + prefetch_distance + 64, _MM_HINT_T0);
      const __m512i b0 = _mm512_load_si512(w);
      [[maybe_unused]] const __m512i b1 = Half ? b0 : _mm512_load_si512(w + 64);
#define LIGHTQ_DOT_ROW(r)                              \
  if constexpr (Rows > r) {                            \
    std::int32_t a4;                                   \
    __builtin_memcpy(&a4, ab + (r == 0 ? 0 : Direct ? row_delta[r] : vnni_a_block * r), 4); \
    const __m512i av = _mm512_set1_epi32(a4);          \
    LIGHTQ_VPDPBUSD(c##r##_0, av, b0);                 \
    if constexpr (!Half) LIGHTQ_VPDPBUSD(c##r##_1, av, b1); \
  }
      LIGHTQ_ROWS(LIGHTQ_DOT_ROW)
#undef LIGHTQ_DOT_ROW
      ab += 4;
      w += 128;
    }
  }
  if constexpr (Rows == 1) {
    c0_0 = _mm512_add_epi32(_mm512_add_epi32(c0_0, c1_0), _mm512_add_epi32(c2_0, c3_0));
    c0_1 = _mm512_add_epi32(_mm512_add_epi32(c0_1, c1_1), _mm512_add_epi32(c2_1, c3_1));
  }
  // Out of the pinned registers before anything else runs (see LIGHTQ_VNNI_ACC).
#define LIGHTQ_COPY_ROW(r) [[maybe_unused]] const __m512i d##r##_0 = c##r##_0, d##r##_1 = c##r##_1;
  LIGHTQ_ROWS(LIGHTQ_COPY_ROW)
#undef LIGHTQ_COPY_ROW
  // An int8/uint8 tile with one zero point for all rows is finished from the registers (the
  // output stage's own requantize_fp32 on acc + column offset, then vpmovdb as store_narrow does,
  // so the same bits; masks cover a column tail): for a small K (MobileNet's 1x1 layers, K =
  // 16..64) the round trip through memory cost as much as the dot products.
  if (requantize_in_registers) {
    const gemm_output_tile& o = *args.out;
    using xarch = xsimd_arch_t<arch::avx512_vnni>;
    using ib = xsimd::batch<std::int32_t, xarch>;
    using fb = xsimd::batch<float, xarch>;
    const float* multipliers = o.column_multipliers + args.col0;
    const fb mul0 = _mm512_maskz_loadu_ps(m0, multipliers), mul1 = _mm512_maskz_loadu_ps(m1, multipliers + 16);
    // Local copies: the byte stores may alias *args.out, which made the compiler reload the
    // bounds and the stride after every row.
    const requantize_bounds bounds = o.bounds;
    const index_t stride = o.row_stride;
    auto* y = static_cast<std::int8_t*>(o.data) + args.row0 * stride + args.col0;  // int8 or uint8 bytes
#define LIGHTQ_FINISH_ROW(r)                                                                                   \
  if constexpr (Rows > r) {                                                                                    \
    _mm512_mask_cvtepi32_storeu_epi8(y + r * stride, m0, requantize_fp32(ib(d##r##_0), mul0, bounds));          \
    if constexpr (!Half)                                                                                       \
      _mm512_mask_cvtepi32_storeu_epi8(y + r * stride + 16, m1, requantize_fp32(ib(d##r##_1), mul1, bounds));   \
  }
    LIGHTQ_ROWS(LIGHTQ_FINISH_ROW)
#undef LIGHTQ_FINISH_ROW
    return;
  }
  // Dequantized (float32) tiles, qd8 included (a zero point and a scale per row).
  if (args.out && args.out->kind == gemm_output_kind::float32) {
    const gemm_output_tile& o = *args.out;
    const vnni_float_stage stage(o, args.col0, args.cols);
    float* y = static_cast<float*>(o.data) + args.row0 * o.row_stride + args.col0;
    const std::int32_t* zp = o.row_zero_points + args.row0;
    const float* row_scales = o.row_scales + args.row0;
#define LIGHTQ_FINISH_ROW(r) \
  if constexpr (Rows > r) stage.row(y + r * o.row_stride, d##r##_0, d##r##_1, stage.offsets ? 0 : zp[r], row_scales[r]);
    LIGHTQ_ROWS(LIGHTQ_FINISH_ROW)
#undef LIGHTQ_FINISH_ROW
    return;
  }
  // Other tiles (int32 outputs, per-row zero points into int8) go through the shared output stage; K-slice partials go straight to memory.
  // Not over-aligned (the stores are unaligned): an alignas(64) array made every instantiation
  // keep a frame pointer, one general register fewer for the in-place tile's row offsets.
  std::int32_t tile[12 * 32];
  std::int32_t* dst = args.out ? tile : args.partial;
  const index_t ds = args.out ? 32 : args.partial_stride;
#define LIGHTQ_STORE_ROW(r)                           \
  if constexpr (Rows > r) {                           \
    _mm512_storeu_si512(dst + r * ds, d##r##_0);      \
    _mm512_storeu_si512(dst + r * ds + 16, d##r##_1); \
  }
  LIGHTQ_ROWS(LIGHTQ_STORE_ROW)
#undef LIGHTQ_STORE_ROW
#undef LIGHTQ_ROWS
  if (args.out) store_gemm_tile<arch::avx512_vnni, 32, std::int32_t>(tile, args);
}

#undef LIGHTQ_VPDPBUSD
#undef LIGHTQ_VNNI_ACC

}  // namespace detail

/// qs8/qu8/qd8 x qc8w on AVX-512 VNNI: `gemm/avx512/qs8_qc8w_12x32c4.hpp`.
template <>
struct gemm_kernel<arch::avx512_vnni, qs8, qc8w> {
  static constexpr const char* name = "qs8_qc8w_12x32c4__avx512_vnni";
  using arch = arch::avx512_vnni;
  static constexpr index_t mr = 12, nr = 32, kr = 4;
  using a_type = std::uint8_t;
  using w_type = std::int8_t;
  using acc_type = std::int32_t;
  using a_layout = row_block_panel_layout<mr, detail::vnni_a_block>;
  using w_layout = blocked_panel_layout<nr, kr>;
  static constexpr int a_shift_from_qs8 = 128;  // vpdpbusd multiplies unsigned activations
  static constexpr int a_shift_from_qu8 = 0;
  // The 12 x kc activation panel (12 KiB) stays in L1 while the weight panels of an nc block
  // stream from L2 under it (prefetched).
  static constexpr index_t kc_block = 1024, mc_block = 24 * mr, nc_block = 16 * nr;
  static_assert(kc_block % detail::vnni_a_block == 0, "K slices start on an activation block");

  // args.a_stride > 0 or args.a_rows: uint8 activations read in place, K in runs of 64 bytes.
  static constexpr bool direct_a = true;
  static constexpr index_t direct_block = detail::vnni_a_block;

  static void run(const gemm_tile_args<std::int32_t>& args) noexcept {
    if (args.a_stride != 0 || args.a_rows) {
      run_direct(args);
      return;
    }
    if (args.cols <= 16)
      dispatch_rows<true>(args);
    else
      dispatch_rows<false>(args);
  }

 private:
  // Unpacked A: a full tile reads the rows in place; a tail tile (fewer than 12 rows) copies
  // its rows into a panel on the stack, kc_block of K at a time, and runs the packed tile on
  // each piece (the pieces accumulate through args.partial, or a tile on the stack when the
  // caller has none), so only two tiles are instantiated twice.
  // The tail is a function of its own: its over-aligned stack arrays would make the full tile's
  // frame keep rbp, and the in-place tile needs every general register (11 row offsets).
  static void run_direct(const gemm_tile_args<std::int32_t>& args) noexcept {
    if (args.rows == 12) {
      if (args.cols <= 16)
        detail::vnni_12x32c4_tile<12, true, true>(args);
      else
        detail::vnni_12x32c4_tile<12, false, true>(args);
      return;
    }
    run_direct_tail(args);
  }

  LIGHTQ_NOINLINE static void run_direct_tail(const gemm_tile_args<std::int32_t>& args) noexcept {
    constexpr index_t B = detail::vnni_a_block;
    alignas(64) std::uint8_t panel[12 * kc_block];
    alignas(64) std::int32_t own_partial[12 * 32];
    gemm_tile_args<std::int32_t> piece = args;
    piece.a_stride = 0;
    piece.a_rows = nullptr;
    piece.a_blocks = nullptr;
    piece.a = panel;
    if (!args.partial) {
      piece.partial = own_partial;
      piece.partial_stride = 32;
    }
    for (index_t k0 = 0; k0 < args.kc; k0 += kc_block) {
      const index_t kc = std::min(kc_block, args.kc - k0);
      for (index_t r = 0; r < args.rows; ++r) {
        const auto* row = static_cast<const std::uint8_t*>(args.a_rows ? args.a_rows[r] : args.a) +
                          (args.a_rows ? 0 : r * args.a_stride);
        for (index_t k = 0; k < kc; k += B) {
          const index_t j = (k0 + k) / B;  // the K run
          __builtin_memcpy(panel + k * 12 + r * B, row + (args.a_rows ? args.a_blocks[j] : k0 + k),
                           static_cast<std::size_t>(std::min<index_t>(B, kc - k)));
        }
      }
      piece.kc = kc;
      piece.w = static_cast<const std::int8_t*>(args.w) + k0 * nr;
      piece.accumulate = args.accumulate || k0 > 0;
      piece.out = k0 + kc >= args.kc ? args.out : nullptr;
      run(piece);
    }
  }

  template <bool Half>
  static void dispatch_rows(const gemm_tile_args<std::int32_t>& args) noexcept {
    switch (args.rows) {
      case 1: detail::vnni_12x32c4_tile<1, Half>(args); break;
      case 2: detail::vnni_12x32c4_tile<2, Half>(args); break;
      case 3: detail::vnni_12x32c4_tile<3, Half>(args); break;
      case 4: detail::vnni_12x32c4_tile<4, Half>(args); break;
      case 5: detail::vnni_12x32c4_tile<5, Half>(args); break;
      case 6: detail::vnni_12x32c4_tile<6, Half>(args); break;
      case 7: detail::vnni_12x32c4_tile<7, Half>(args); break;
      case 8: detail::vnni_12x32c4_tile<8, Half>(args); break;
      case 9: detail::vnni_12x32c4_tile<9, Half>(args); break;
      case 10: detail::vnni_12x32c4_tile<10, Half>(args); break;
      case 11: detail::vnni_12x32c4_tile<11, Half>(args); break;
      default: detail::vnni_12x32c4_tile<12, Half>(args); break;
    }
  }
};

}  // namespace lightq

LIGHTQ_GCC_PR105593_END

#endif  // LIGHTQ_HAS_AVX512_VNNI
