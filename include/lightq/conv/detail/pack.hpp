// conv2d weight packing: implicit-GEMM panels [group][N block][K / KR][NR][KR] with column sums,
// and the depthwise layout [tap][channel] (channels padded to a multiple of 64).
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

/// Packs weights [C_out, KH, KW, Cg] into panels; `convert` maps one source weight to Dst.
/// Padding (channels past ng, k past K) is zero. column_sums (optional) gets sum_k w for every
/// padded channel slot (0 for padding).
template <class Dst, class Src, class Convert>
void pack_conv_panels(const tensor_view<const Src, 4>& w, const conv_pack_info& info, aligned_buffer<Dst>& panels,
                      aligned_buffer<std::int32_t>* column_sums, Convert convert) {
  const index_t panel = info.kq * info.nr * info.kr;
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
          dst[(k / info.kr) * info.nr * info.kr + j * info.kr + k % info.kr] = convert(v);
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

/// x86 int8 depthwise layout: taps in pairs, one int32 per channel holding the two int16 weights
/// (low half: tap 2p, high half: tap 2p + 1, zero past the last tap), [pair][cp], for vpmaddwd /
/// vpdpwssd; `sums` gets sum over the taps of w per channel (cp entries).
inline void pack_conv_depthwise_pairs(const tensor_view<const std::int8_t, 4>& w, const conv_pack_info& info,
                                      aligned_buffer<std::int32_t>& pairs, aligned_buffer<std::int32_t>& sums) {
  const index_t c = info.weight_extents[0];
  const index_t taps = info.kh * info.kw;
  const index_t np = (taps + 1) / 2;
  pairs = aligned_buffer<std::int32_t>(static_cast<std::size_t>(np * info.cp));
  sums = aligned_buffer<std::int32_t>(static_cast<std::size_t>(info.cp));
  for (auto& x : pairs) x = 0;
  for (auto& x : sums) x = 0;
  for (index_t ch = 0; ch < c; ++ch) {
    for (index_t t = 0; t < taps; ++t) {
      const std::int32_t v = w(ch, t / info.kw, t % info.kw, 0);
      sums[static_cast<std::size_t>(ch)] += v;
      auto& slot = pairs[static_cast<std::size_t>((t / 2) * info.cp + ch)];
      const std::uint32_t bits = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
      slot = static_cast<std::int32_t>(static_cast<std::uint32_t>(slot) | (t % 2 ? bits << 16 : bits));
    }
  }
}

}  // namespace detail
}  // namespace lightq
