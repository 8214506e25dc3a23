// Packing of weights and activations into the panels a micro-kernel reads (blocked_panel_layout
// or a backend's own layout), zero-padded so edge tiles never read outside their panels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/microkernel.hpp"
#include "lightq/tensor/tensor_view.hpp"

#if defined(LIGHTQ_HAS_AVX2) || defined(LIGHTQ_HAS_AVX512_VNNI)
#include <immintrin.h>
#endif

namespace lightq {
namespace detail {

constexpr index_t round_up(index_t x, index_t multiple) noexcept { return (x + multiple - 1) / multiple * multiple; }
constexpr index_t divide_round_up(index_t x, index_t d) noexcept { return (x + d - 1) / d; }

/// Packs a `rows` x `k` matrix (element (r, k) = get(r, k)) into ceil(rows / Layout::rows)
/// panels of Layout, each `Layout::panel_size(k_padded)` elements; padding is zero.
/// `Kernel` only names the backend (ODR rule: this loop may be vectorised per ISA).
template <class Kernel, class Layout, class T, class Get>
void pack_panels(index_t rows, index_t k, index_t k_padded, Get&& get, T* dst) noexcept {
  constexpr index_t panel_rows = Layout::rows;
  const index_t panel_size = Layout::panel_size(k_padded);
  const index_t panels = divide_round_up(rows, panel_rows);
  if (panels * panel_size == 0) return;
  std::memset(static_cast<void*>(dst), 0, static_cast<std::size_t>(panels * panel_size) * sizeof(T));
  for (index_t p = 0; p < panels; ++p) {
    T* panel = dst + p * panel_size;
    const index_t r_end = rows - p * panel_rows < panel_rows ? rows - p * panel_rows : panel_rows;
    for (index_t r = 0; r < r_end; ++r)
      for (index_t kk = 0; kk < k; ++kk) panel[Layout::offset(r, kk)] = get(p * panel_rows + r, kk);
  }
}

/// Writes one full panel of `MR` rows whose elements are 4-byte units (fp32 values, or groups
/// of four int8): unit g of row r (at rows + r * row_stride + 4 * g, XORed with `mask`) goes to
/// panel + (g * MR + r) * 4, for g < units. This is a transpose of 4-byte units; on x86 four
/// rows go through a 4 x 4 SSE transpose at a time (same bytes as the scalar loop).
template <class Arch, index_t MR>
LIGHTQ_ALWAYS_INLINE void pack_dword_panel(const unsigned char* rows, index_t row_stride, index_t units, std::uint32_t mask,
                                           unsigned char* panel) noexcept {
  index_t g = 0;
#if defined(LIGHTQ_HAS_AVX2)
  if constexpr (arch_has_v<Arch, arch::avx2> && MR % 4 == 0) {
    const __m128i m = _mm_set1_epi32(static_cast<int>(mask));
    for (; g + 4 <= units; g += 4) {
      for (index_t r = 0; r < MR; r += 4) {
        const unsigned char* src = rows + r * row_stride + 4 * g;
        const __m128i x0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)), m);
        const __m128i x1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + row_stride)), m);
        const __m128i x2 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * row_stride)), m);
        const __m128i x3 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 3 * row_stride)), m);
        const __m128i t0 = _mm_unpacklo_epi32(x0, x1), t1 = _mm_unpackhi_epi32(x0, x1);
        const __m128i t2 = _mm_unpacklo_epi32(x2, x3), t3 = _mm_unpackhi_epi32(x2, x3);
        unsigned char* d = panel + (g * MR + r) * 4;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_unpacklo_epi64(t0, t2));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + MR * 4), _mm_unpackhi_epi64(t0, t2));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 2 * MR * 4), _mm_unpacklo_epi64(t1, t3));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 3 * MR * 4), _mm_unpackhi_epi64(t1, t3));
      }
    }
  }
#endif
  for (; g < units; ++g)
    for (index_t r = 0; r < MR; ++r) {
      std::uint32_t v;
      std::memcpy(&v, rows + r * row_stride + 4 * g, 4);
      v ^= mask;
      std::memcpy(panel + (g * MR + r) * 4, &v, 4);
    }
}

/// Packs the activations x[M, K] (any strides) into MR-row panels of the kernel's a_layout,
/// converting each element with `convert(value, row)`.
template <class Kernel, class X, class Convert>
void pack_activations(const matrix_view<const X>& x, index_t k_padded, Convert&& convert, typename Kernel::a_type* dst) noexcept {
  const index_t rs = x.stride(0), cs = x.stride(1);
  const X* base = x.data();
  using layout = typename Kernel::a_layout;
  constexpr index_t MR = Kernel::mr, KR = Kernel::kr;
  const index_t m = x.extent(0), k = x.extent(1);
  if (cs != 1 || !std::is_same_v<layout, blocked_panel_layout<MR, KR>> || m < MR) {
    pack_panels<Kernel, layout>(
        m, k, k_padded, [&](index_t r, index_t kk) { return convert(base[r * rs + kk * cs], r); }, dst);
    return;
  }
  // Unit column stride: whole panels are written in order, MR rows read side by side.
  using A = typename Kernel::a_type;
  const index_t full_panels = m / MR, full_groups = k / KR;
  for (index_t p = 0; p < full_panels; ++p) {
    A* panel = dst + p * MR * k_padded;
    const X* rows = base + p * MR * rs;
    for (index_t g = 0; g < full_groups; ++g)
      for (index_t r = 0; r < MR; ++r)
        for (index_t t = 0; t < KR; ++t) panel[(g * MR + r) * KR + t] = convert(rows[r * rs + g * KR + t], p * MR + r);
    for (index_t g = full_groups; g < k_padded / KR; ++g)
      for (index_t r = 0; r < MR; ++r)
        for (index_t t = 0; t < KR; ++t)
          panel[(g * MR + r) * KR + t] = g * KR + t < k ? convert(rows[r * rs + g * KR + t], p * MR + r) : A{};
  }
  if (full_panels * MR < m)  // the last, partial panel
    pack_panels<Kernel, layout>(
        m - full_panels * MR, k, k_padded,
        [&](index_t r, index_t kk) { return convert(base[(full_panels * MR + r) * rs + kk], full_panels * MR + r); },
        dst + full_panels * MR * k_padded);
}

/// Packs fp32 activations as they are into the kernel's a_layout; full panels of a unit-stride
/// view with KR = 1 go through the 4-byte transpose, everything else through pack_activations.
template <class Kernel>
void pack_activations_f32(const matrix_view<const float>& x, index_t k_padded, float* dst) noexcept {
  constexpr index_t MR = Kernel::mr;
  const index_t m = x.extent(0), k = x.extent(1);
  const auto same = [](float v, index_t) { return v; };
  if constexpr (Kernel::kr == 1 && std::is_same_v<typename Kernel::a_layout, blocked_panel_layout<MR, 1>>) {
    if (x.stride(1) == 1 && k == k_padded && m >= MR) {
      const index_t full_panels = m / MR;
      const auto* in = reinterpret_cast<const unsigned char*>(x.data());
      const index_t row_bytes = x.stride(0) * static_cast<index_t>(sizeof(float));
      for (index_t p = 0; p < full_panels; ++p)
        pack_dword_panel<typename Kernel::arch, MR>(in + p * MR * row_bytes, row_bytes, k, 0u,
                                                    reinterpret_cast<unsigned char*>(dst + p * MR * k_padded));
      if (full_panels * MR < m)
        pack_activations<Kernel>(x.slice(0, full_panels * MR, m - full_panels * MR), k_padded, same,
                                 dst + full_panels * MR * k_padded);
      return;
    }
  }
  pack_activations<Kernel>(x, k_padded, same, dst);
}

/// dst[i] = src[i] ^ mask for i < n (n <= 64): one masked load and store on AVX-512, else a loop.
/// `Arch` only names the backend (ODR rule).
template <class Arch>
LIGHTQ_ALWAYS_INLINE void copy_bytes_xor(unsigned char* dst, const unsigned char* src, index_t n, unsigned char mask) noexcept {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    const __mmask64 m = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(m, src);
    _mm512_mask_storeu_epi8(dst, m, _mm512_xor_si512(x, _mm512_set1_epi8(static_cast<char>(mask))));
    return;
  }
#endif
  for (index_t i = 0; i < n; ++i) dst[i] = static_cast<unsigned char>(src[i] ^ mask);
}

/// dst[i] = value for i < n (n <= 64), as copy_bytes_xor.
template <class Arch>
LIGHTQ_ALWAYS_INLINE void fill_bytes(unsigned char* dst, index_t n, unsigned char value) noexcept {
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  if constexpr (arch_has_v<Arch, arch::avx512_vnni>) {
    const __mmask64 m = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    _mm512_mask_storeu_epi8(dst, m, _mm512_set1_epi8(static_cast<char>(value)));
    return;
  }
#endif
  std::memset(dst, value, static_cast<std::size_t>(n));
}

/// Writes one whole K block (KB <= 64 bytes) of a row_block_panel_layout panel: src[i] ^ mask for
/// i < n (n may be <= 0), zero after (the padding a kernel may read). One masked load on AVX-512.
template <class Arch, index_t KB>
LIGHTQ_ALWAYS_INLINE void write_block_tail(unsigned char* dst, const unsigned char* src, index_t n, unsigned char mask) noexcept {
  static_assert(KB <= 64, "one register per block");
#if defined(LIGHTQ_HAS_AVX512_VNNI)
  if constexpr (arch_has_v<Arch, arch::avx512_vnni> && KB == 64) {
    const __mmask64 m = n <= 0 ? __mmask64{0} : n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    const __m512i x = _mm512_maskz_loadu_epi8(m, src);
    _mm512_storeu_si512(dst, _mm512_xor_si512(x, _mm512_maskz_set1_epi8(m, static_cast<char>(mask))));
    return;
  }
#endif
  for (index_t i = 0; i < KB; ++i) dst[i] = i < n ? static_cast<unsigned char>(src[i] ^ mask) : 0;
}

/// Writes bytes [k0, k0 + n) of row r of a row_block_panel_layout panel: src[i] ^ mask, or
/// `value` everywhere when src is null. Pieces of at most one K block (contiguous in the panel).
template <class Arch, class Layout>
LIGHTQ_ALWAYS_INLINE void write_row_block_bytes(unsigned char* panel, index_t r, index_t k0, index_t n,
                                                const unsigned char* src, unsigned char mask, unsigned char value) noexcept {
  constexpr index_t KB = Layout::block;
  while (n > 0) {
    const index_t len = std::min<index_t>(n, KB - k0 % KB);
    unsigned char* d = panel + Layout::offset(r, k0);
    if (src) {
      copy_bytes_xor<Arch>(d, src, len, mask);
      src += len;
    } else {
      fill_bytes<Arch>(d, len, value);
    }
    k0 += len;
    n -= len;
  }
}

/// Writes row r of a row_block_panel_layout panel from src[0, k) (XOR mask), zero-padded to the
/// end of the last K block of k_padded: whole blocks, no masks but the last one's.
template <class Arch, class Layout>
LIGHTQ_ALWAYS_INLINE void write_row_block_row(unsigned char* panel, index_t r, const unsigned char* src, index_t k,
                                              index_t k_padded, unsigned char mask) noexcept {
  constexpr index_t KB = Layout::block;
  const index_t k_end = round_up(k_padded, KB);
  index_t k0 = 0;
  for (; k0 + KB <= k; k0 += KB) copy_bytes_xor<Arch>(panel + Layout::offset(r, k0), src + k0, KB, mask);
  for (; k0 < k_end; k0 += KB) write_block_tail<Arch, KB>(panel + Layout::offset(r, k0), src + k0, k - k0, mask);
}

/// Zeroes what a row_block_panel_layout panel holds beyond column k of rows [0, rows) (up to
/// the end of the last K block) and the whole of rows [rows, MR): the kernel may read them.
template <class Arch, class Layout>
void zero_row_block_padding(unsigned char* panel, index_t rows, index_t k, index_t k_padded) noexcept {
  constexpr index_t KB = Layout::block, MR = Layout::rows;
  const index_t k_end = round_up(k_padded, KB);
  if (k < k_end)
    for (index_t r = 0; r < rows; ++r) write_row_block_bytes<Arch, Layout>(panel, r, k, k_end - k, nullptr, 0, 0);
  for (index_t r = rows; r < MR; ++r)
    for (index_t k0 = 0; k0 < k_end; k0 += KB) write_block_tail<Arch, KB>(panel + Layout::offset(r, k0), nullptr, 0, 0);
}

/// Packs int8/uint8 activations with unit column stride into the blocked layout of a KR = 4
/// kernel, adding `shift` (0 or +-128: an XOR with 0x80 on every byte) four bytes at a time.
template <class Kernel, class X>
void pack_activations_bytes(const matrix_view<const X>& x, index_t k_padded, int shift, typename Kernel::a_type* dst) noexcept {
  static_assert(sizeof(X) == 1 && sizeof(typename Kernel::a_type) == 1, "byte activations");
  constexpr index_t MR = Kernel::mr, KR = Kernel::kr;
  static_assert(KR == 4, "four bytes per group");
  const index_t m = x.extent(0), k = x.extent(1), rs = x.stride(0);
  const std::uint32_t mask = shift != 0 ? 0x80808080u : 0u;
  const index_t full_groups = k / 4, groups = k_padded / 4;
  auto* out = reinterpret_cast<unsigned char*>(dst);
  const auto* in = reinterpret_cast<const unsigned char*>(x.data());
  using layout = typename Kernel::a_layout;
  if constexpr (is_row_block_panel_layout<layout>::value) {
    // Row-major K blocks: each row is copied (XOR mask) block by block, no transpose.
    const index_t panel_size = layout::panel_size(k_padded);
#if defined(LIGHTQ_HAS_AVX512_VNNI)
    if constexpr (arch_has_v<typename Kernel::arch, arch::avx512_vnni> && layout::block == 64) {
      // The hot path of every 1x1 convolution: the tail mask and pattern hoisted out of the rows.
      const index_t full = k / 64, tail = k % 64, blocks = round_up(k_padded, 64) / 64;
      const __mmask64 tail_mask = (__mmask64{1} << tail) - 1;  // tail < 64
      const __m512i x_full = _mm512_set1_epi8(static_cast<char>(mask & 0xffu));
      const __m512i x_tail = _mm512_maskz_mov_epi8(tail_mask, x_full);
      for (index_t p = 0; p * MR < m; ++p) {
        unsigned char* panel = out + p * panel_size;
        const index_t rows = m - p * MR < MR ? m - p * MR : MR;
        for (index_t r = 0; r < rows; ++r) {
          const unsigned char* src = in + (p * MR + r) * rs;
          unsigned char* d = panel + r * 64;
          for (index_t b = 0; b < full; ++b)
            _mm512_storeu_si512(d + b * MR * 64, _mm512_xor_si512(_mm512_loadu_si512(src + b * 64), x_full));
          if (full < blocks)
            _mm512_storeu_si512(d + full * MR * 64, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail_mask, src + full * 64), x_tail));
        }
        if (rows < MR) zero_row_block_padding<typename Kernel::arch, layout>(panel, rows, blocks * 64, k_padded);
      }
      return;
    }
#endif
    for (index_t p = 0; p * MR < m; ++p) {
      unsigned char* panel = out + p * panel_size;
      const index_t rows = m - p * MR < MR ? m - p * MR : MR;
      for (index_t r = 0; r < rows; ++r)
        write_row_block_row<typename Kernel::arch, layout>(panel, r, in + (p * MR + r) * rs, k, k_padded,
                                                           static_cast<unsigned char>(mask & 0xffu));
      if (rows < MR) zero_row_block_padding<typename Kernel::arch, layout>(panel, rows, round_up(k_padded, layout::block), k_padded);
    }
    return;
  } else {
  for (index_t p = 0; p * MR < m; ++p) {
    unsigned char* panel = out + p * MR * k_padded;
    const index_t rows = m - p * MR < MR ? m - p * MR : MR;
    if (rows == MR && full_groups == groups) {  // a full panel, K a multiple of 4
      pack_dword_panel<typename Kernel::arch, MR>(in + p * MR * rs, rs, full_groups, mask, panel);
      continue;
    }
    for (index_t r = 0; r < rows; ++r) {
      const unsigned char* row = in + (p * MR + r) * rs;
      unsigned char* d = panel + r * 4;
      index_t g = 0;
      for (; g < full_groups; ++g) {
        std::uint32_t v;
        std::memcpy(&v, row + 4 * g, 4);
        v ^= mask;
        std::memcpy(d + g * MR * 4, &v, 4);
      }
      for (; g < groups; ++g) {
        unsigned char b[4] = {0, 0, 0, 0};
        for (index_t t = 0; t < 4 && 4 * g + t < k; ++t) b[t] = static_cast<unsigned char>(row[4 * g + t] ^ (mask & 0xffu));
        std::memcpy(d + g * MR * 4, b, 4);
      }
    }
    for (index_t r = rows; r < MR; ++r)
      for (index_t g = 0; g < groups; ++g) std::memset(panel + g * MR * 4 + r * 4, 0, 4);
  }
  }
}

}  // namespace detail
}  // namespace lightq
