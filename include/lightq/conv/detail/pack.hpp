// conv2d weight packing: implicit-GEMM panels (a GEMM kernel's w_layout per group and N block)
// with column sums, and the depthwise layouts [tap or tap group][channel] (channels padded to 64).
#pragma once

#include <cstdint>
#include <type_traits>

#include "lightq/conv/detail/geometry.hpp"
#include "lightq/core/aligned.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// Sizes of a packed convolution (from the weights and the geometry; the input comes later).
struct conv_pack_info {
  conv2d_params params{};
  extents_t<4> weight_extents{};  ///< [C_out, KH, KW, C_in / groups]
  index_t groups = 1, ng = 0, cg = 0, kh = 1, kw = 1;
  index_t k = 0;       ///< KH * KW * C_in / groups
  index_t kq = 0;      ///< K groups of KR (K padded up to a multiple of KR)
  index_t nr = 0, kr = 1;
  index_t blocks = 0;  ///< NR blocks per group
  bool depthwise = false;
  index_t cp = 0;      ///< depthwise: channels padded to a multiple of 64

  index_t padded_channels() const noexcept { return groups * blocks * nr; }
};

inline constexpr index_t conv_depthwise_channel_pad = 64;

inline conv_pack_info make_conv_pack_info(const extents_t<4>& we, const conv2d_params& p, index_t nr, index_t kr,
                                          const char* where) {
  check_conv2d_weight_extents(we, p, where);
  conv_pack_info info;
  info.params = p;
  info.weight_extents = we;
  info.groups = p.groups;
  info.ng = we[0] / p.groups;
  info.kh = we[1];
  info.kw = we[2];
  info.cg = we[3];
  info.k = info.kh * info.kw * info.cg;
  info.kr = kr;
  info.kq = (info.k + kr - 1) / kr;
  info.nr = nr;
  info.blocks = (info.ng + nr - 1) / nr;
  info.depthwise = p.groups > 1 && info.ng == 1 && info.cg == 1 && info.kh * info.kw <= 64;  // fixed tap arrays
  info.cp = (we[0] + conv_depthwise_channel_pad - 1) / conv_depthwise_channel_pad * conv_depthwise_channel_pad;
  return info;
}

/// Packs weights [C_out, KH, KW, Cg] into one panel of Layout (a GEMM kernel's w_layout: NR
/// output channels, K padded to info.kq * KR) per group and NR block; `convert` maps one source
/// weight to Dst. Padding (channels past ng, k past K) is zero. column_sums (optional) gets
/// sum_k w for every padded channel slot (0 for padding).
template <class Layout, class Dst, class Src, class Convert>
void pack_conv_panels(const tensor_view<const Src, 4>& w, const conv_pack_info& info, aligned_buffer<Dst>& panels,
                      aligned_buffer<std::int32_t>* column_sums, Convert convert) {
  static_assert(Layout::rows > 0, "a panel layout");
  const index_t panel = Layout::panel_size(info.kq * info.kr);
  panels = aligned_buffer<Dst>(static_cast<std::size_t>(info.groups * info.blocks * panel));
  for (Dst& x : panels) x = Dst{};
  if (column_sums) {
    *column_sums = aligned_buffer<std::int32_t>(static_cast<std::size_t>(info.padded_channels()));
    for (auto& x : *column_sums) x = 0;
  }
  for (index_t g = 0; g < info.groups; ++g)
    for (index_t b = 0; b < info.blocks; ++b) {
      Dst* dst = panels.data() + (g * info.blocks + b) * panel;
      for (index_t j = 0; j < info.nr; ++j) {
        const index_t n = b * info.nr + j;
        if (n >= info.ng) break;
        const index_t co = g * info.ng + n;
        std::int32_t sum = 0;
        for (index_t k = 0; k < info.k; ++k) {
          const index_t ky = k / (info.kw * info.cg);
          const index_t kx = (k / info.cg) % info.kw;
          const index_t ci = k % info.cg;
          const Src v = w(co, ky, kx, ci);
          dst[Layout::offset(j, k)] = convert(v);
          if constexpr (std::is_integral_v<Src>) sum += v;
        }
        if (column_sums) (*column_sums)[static_cast<std::size_t>((g * info.blocks + b) * info.nr + j)] = sum;
      }
    }
}

/// Packs depthwise weights [C, KH, KW, 1] as [KH * KW][cp] of Dst (zero past C).
template <class Dst, class Src, class Convert>
void pack_conv_depthwise(const tensor_view<const Src, 4>& w, const conv_pack_info& info, aligned_buffer<Dst>& taps,
                         Convert convert) {
  const index_t c = info.weight_extents[0];
  taps = aligned_buffer<Dst>(static_cast<std::size_t>(info.kh * info.kw * info.cp));
  for (Dst& x : taps) x = Dst{};
  for (index_t ky = 0; ky < info.kh; ++ky)
    for (index_t kx = 0; kx < info.kw; ++kx)
      for (index_t ch = 0; ch < c; ++ch) taps[static_cast<std::size_t>((ky * info.kw + kx) * info.cp + ch)] = convert(w(ch, ky, kx, 0));
}

/// Slot of channel c in the AVX-512 VNNI depthwise layout. Each block of 64 channels is loaded as
/// one zmm of bytes per tap; byte unpacks of four taps (in 128-bit lanes) leave int32 lane
/// 4 * L + e of accumulator j holding channel 16 * L + 4 * j + e, so that is where its weights,
/// bias and scale live: slot 16 * j + 4 * L + e of the block. The map is its own inverse.
constexpr index_t depthwise_quad_slot(index_t c) noexcept {
  const index_t r = c % 64;
  return c - r + ((r >> 2) & 3) * 16 + (r >> 4) * 4 + (r & 3);
}

/// True when the x86 int8 depthwise layout of G taps per group holds the taps in column order:
/// 3x3 windows, whose row kernels (conv/detail/depthwise.hpp) build each input column once and
/// share it between the output pixels that read it: always for quads (G = 4), for pairs (G = 2)
/// with stride 1 and no dilation (other pairs run pixel by pixel, where row-major pairs need one
/// pair fewer). Other windows keep the row-major tap order.
constexpr bool depthwise_column_taps(index_t g, index_t kh, index_t kw, index_t stride_w, index_t dilation_w) noexcept {
  return kh == 3 && kw == 3 && (g == 4 || (stride_w == 1 && dilation_w == 1));
}

/// x86 int8 depthwise layouts: taps in groups of G, one int32 per channel holding the G weights
/// of a group as 32 / G-bit integers (lowest bits: first tap; zero in unused fields), [group][cp];
/// channel c at slot(c). Tap order: row-major (group g holds taps G * g .. G * g + G - 1), or for
/// depthwise_column_taps windows column by column, each column padded to a whole number of
/// groups (group kx * ceil(KH / G) + ky / G holds tap (ky, kx) in field ky % G). G = 2: int16
/// pairs for vpmaddwd (AVX2), channel order; G = 4: int8 quads for vpdpbusd (AVX-512 VNNI),
/// depthwise_quad_slot order. `sums` gets the sum over the taps of w per channel, at the same
/// slots (cp entries).
template <index_t G, class Slot>
void pack_conv_depthwise_groups(const tensor_view<const std::int8_t, 4>& w, const conv_pack_info& info,
                                aligned_buffer<std::int32_t>& packed, aligned_buffer<std::int32_t>& sums, Slot slot_of) {
  constexpr int bits = 32 / G;
  constexpr std::uint32_t field = (std::uint32_t{1} << bits) - 1;
  const index_t c = info.weight_extents[0];
  const index_t taps = info.kh * info.kw;
  const bool columns = depthwise_column_taps(G, info.kh, info.kw, info.params.stride_w, info.params.dilation_w);
  const index_t column_groups = (info.kh + G - 1) / G;
  const index_t groups = columns ? info.kw * column_groups : (taps + G - 1) / G;
  packed = aligned_buffer<std::int32_t>(static_cast<std::size_t>(groups * info.cp));
  sums = aligned_buffer<std::int32_t>(static_cast<std::size_t>(info.cp));
  for (auto& x : packed) x = 0;
  for (auto& x : sums) x = 0;
  for (index_t ch = 0; ch < c; ++ch) {
    const auto slot = static_cast<std::size_t>(slot_of(ch));
    for (index_t t = 0; t < taps; ++t) {
      const index_t ky = t / info.kw, kx = t % info.kw;
      const std::int32_t v = w(ch, ky, kx, 0);
      sums[slot] += v;
      const index_t group = columns ? kx * column_groups + ky / G : t / G;
      const index_t position = columns ? ky % G : t % G;
      auto& g = packed[static_cast<std::size_t>(group * info.cp) + slot];
      const std::uint32_t value = static_cast<std::uint32_t>(v) & field;
      g = static_cast<std::int32_t>(static_cast<std::uint32_t>(g) | value << (bits * position));
    }
  }
}

}  // namespace detail
}  // namespace lightq
