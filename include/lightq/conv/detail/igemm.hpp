// conv2d implicit-GEMM driver: tiles of output pixels, a tiled im2col (one tile of rows at a
// time, never the whole image) or, for 1x1 stride-1 float convolutions, row pointers straight
// into the input; each tile is multiplied by the packed panels with the backend's micro-kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/detail/pack.hpp"
#include "lightq/conv/detail/tile.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_*
// placeholders) once they are inlined here; a false positive, silenced for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lightq {
namespace detail {

/// Output pixels per im2col tile: A (tile x K) of at most LIGHTQ_CONV_TILE_BYTES (default 1 MiB,
/// half an L2) and at most 1024 pixels, a multiple of MR. Each packed panel (NR x K) is then
/// reused by every MR rows of the tile; a small image (the deep layers, whose weights are the
/// big part) is one tile, so its weights stream through the cache once.
#if !defined(LIGHTQ_CONV_TILE_BYTES)
#define LIGHTQ_CONV_TILE_BYTES (1 << 20)
#endif
template <class Kernel>
index_t conv_tile_pixels(index_t kq, index_t pixels) {
  const index_t row_bytes = kq * Kernel::kr * static_cast<index_t>(sizeof(typename Kernel::a_type));
  index_t mt = index_t{LIGHTQ_CONV_TILE_BYTES} / std::max<index_t>(row_bytes, 1);
  mt = std::min<index_t>(std::max<index_t>(mt, Kernel::mr), std::min<index_t>(1024, pixels + Kernel::mr - 1));
  return std::max<index_t>(mt / Kernel::mr * Kernel::mr, Kernel::mr);
}

/// Runs the implicit GEMM of a (non-depthwise) convolution.
///   a_of(x)     the kernel's A value of input x; `a_pad` the value of a padding tap
///   bias/scale  per padded output channel (info.padded_channels()), already compensated
template <class Kernel, class T, class Out, class AOf>
void conv_igemm(const conv2d_shape& s, const tensor_view<const T, 4>& in, const conv_pack_info& info,
                const typename Kernel::w_type* panels, const typename std::conditional_t<std::is_same_v<Out, float> && std::is_same_v<T, float>, float, std::int32_t>* bias,
                const float* scale, const tensor_view<Out, 4>& out, const conv_output_stage& st, context& ctx, AOf a_of,
                typename Kernel::a_type a_pad) {
  using A = typename Kernel::a_type;
  using W = typename Kernel::w_type;
  using Bias = std::conditional_t<std::is_same_v<Out, float> && std::is_same_v<T, float>, float, std::int32_t>;
  constexpr index_t MR = Kernel::mr;
  constexpr index_t NR = Kernel::nr;
  constexpr index_t KR = Kernel::kr;
  const index_t kp = info.kq * KR;
  const index_t panel = info.kq * NR * KR;
  // 1x1, stride 1, no padding, float: the input rows are the GEMM's A (no copy).
  const bool direct = std::is_same_v<A, T> && KR == 1 && s.pointwise();
  const index_t pixels = s.output_pixels();
  const index_t mt = direct ? index_t{256} / MR * MR : conv_tile_pixels<Kernel>(info.kq, pixels);
  const index_t tiles = (pixels + mt - 1) / mt;
  const index_t tasks = std::min(ctx.threads(), tiles);
  const std::size_t a_bytes = direct ? 0 : static_cast<std::size_t>(mt * kp) * sizeof(A);
  const std::size_t ptr_bytes = static_cast<std::size_t>(mt) * (sizeof(const A*) + sizeof(Out*)) + 64;
  std::vector<unsigned char*> scratch(static_cast<std::size_t>(tasks));
  for (index_t t = 0; t < tasks; ++t)
    scratch[static_cast<std::size_t>(t)] = static_cast<unsigned char*>(ctx.scratch(static_cast<std::size_t>(t + 1), a_bytes + ptr_bytes));

  ctx.run(tasks, [&](index_t task) {
    unsigned char* base = scratch[static_cast<std::size_t>(task)];
    A* atile = reinterpret_cast<A*>(base);
    const A** arow = reinterpret_cast<const A**>(base + (a_bytes + 15) / 16 * 16);
    Out** orow = reinterpret_cast<Out**>(base + (a_bytes + 15) / 16 * 16 + static_cast<std::size_t>(mt) * sizeof(const A*));
    const auto range = split_range(tiles, tasks, task);
    for (index_t tile = range.first; tile < range.second; ++tile) {
      const index_t p0 = tile * mt;
      const index_t count = std::min(mt, pixels - p0);
      for (index_t i = 0; i < count; ++i) {
        const index_t p = p0 + i;
        const index_t ox = p % s.ow, oy = (p / s.ow) % s.oh, n = p / (s.ow * s.oh);
        orow[i] = &out(n, oy, ox, 0);
      }
      for (index_t g = 0; g < s.groups; ++g) {
        for (index_t i = 0; i < count; ++i) {
          const index_t p = p0 + i;
          const index_t ox = p % s.ow, oy = (p / s.ow) % s.oh, n = p / (s.ow * s.oh);
          if (direct) {
            if constexpr (std::is_same_v<A, T>) arow[i] = &in(n, oy, ox, g * s.cg);
            continue;
          }
          A* row = atile + i * kp;
          const index_t cg = s.cg, kh = s.kh, kw = s.kw, h = s.h, w = s.w;
          for (index_t ky = 0; ky < kh; ++ky) {
            const index_t iy = oy * s.sh - s.pt + ky * s.dh;
            for (index_t kx = 0; kx < kw; ++kx) {
              const index_t ix = ox * s.sw - s.pl + kx * s.dw;
              A* LIGHTQ_RESTRICT dst = row + (ky * kw + kx) * cg;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                std::fill(dst, dst + cg, a_pad);
              } else {
                // Locals and restrict: stores of 8-bit A may alias anything, which would
                // otherwise reload the view's fields every element and keep this loop scalar.
                const T* LIGHTQ_RESTRICT src = &in(n, iy, ix, g * cg);
                for (index_t c = 0; c < cg; ++c) dst[c] = a_of(src[c]);
              }
            }
          }
          std::fill(row + info.k, row + kp, A{});
          arow[i] = row;
        }
        for (index_t b = 0; b < info.blocks; ++b) {
          const index_t nb0 = b * NR;
          const index_t ch = g * info.blocks * NR + nb0;  // padded channel index
          conv_tile<A, W, Bias> t;
          t.nr = std::min(NR, s.ng - nb0);
          t.kq = info.kq;
          t.w = panels + (g * info.blocks + b) * panel;
          t.bias = bias + ch;
          t.scale = scale + ch;
          const A* a[MR];
          Out* o[MR];
          t.a = a;
          for (index_t m0 = 0; m0 < count; m0 += MR) {
            t.mr = std::min(MR, count - m0);
            for (index_t m = 0; m < MR; ++m) {
              const index_t r = m0 + std::min(m, t.mr - 1);
              a[m] = arow[r];
              o[m] = orow[r] + g * s.ng + nb0;
            }
            Kernel::run(t, o, st);
          }
        }
      }
    }
  });
}

}  // namespace detail
}  // namespace lightq

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
