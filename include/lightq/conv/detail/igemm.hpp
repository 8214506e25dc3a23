// conv2d implicit GEMM on the GEMM micro-kernels (gemm_kernel_for<Arch, ...>, gemm/microkernel.hpp):
// a 1x1 stride-1 convolution over dense pixel rows is one GEMM (gemm/driver.hpp); every other
// one goes tile by tile through a tiled im2col (never the whole image; built MR rows at a time)
// packed into the kernel's A panels by the GEMM's activation packers, against weights packed in the
// kernel's w_layout, finished by the GEMM output stage straight into the NHWC output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lightq/conv/detail/geometry.hpp"
#include "lightq/conv/detail/pack.hpp"
#include "lightq/gemm/driver.hpp"
#include "lightq/gemm/packing.hpp"
#include "lightq/parallel/context.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace detail {

/// Scratch slots of a convolution in the context arena (run_gemm_job uses gemm_slot_partial).
enum conv_scratch_slot : std::size_t {
  conv_slot_channels = 0,   ///< per-channel arrays of the output stage
  conv_slot_rows = 1,       ///< per-row arrays of the output stage; depthwise: the zero-point row
  conv_slot_packed_a = 2,   ///< 1x1 GEMM: the packed pixel rows
  conv_slot_windows = 5,    ///< windows read in place: the padded, encoded copy of the input
  conv_slot_window_rows = 6,  ///< windows read in place: row pointers and K-run offsets
  conv_slot_task0 = 8       ///< implicit GEMM: one slot per task from here
};
static_assert(std::size_t{conv_slot_task0} > std::size_t{gemm_slot_partial}, "conv task slots above the GEMM driver's");

/// Output pixels per im2col tile: A (tile x K) of at most LIGHTQ_CONV_TILE_BYTES (default 1 MiB,
/// half an L2) and at most 1024 pixels, a multiple of MR. Each packed weight panel (NR x K) is
/// then reused by every MR rows of the tile; a small image (the deep layers, whose weights are
/// the big part) is one tile, so its weights stream through the cache once.
#if !defined(LIGHTQ_CONV_TILE_BYTES)
#define LIGHTQ_CONV_TILE_BYTES (1 << 20)
#endif
template <class Kernel>
index_t conv_tile_pixels(index_t k_padded, index_t pixels) {
  const index_t row_bytes = k_padded * static_cast<index_t>(sizeof(typename Kernel::a_type));
  index_t mt = index_t{LIGHTQ_CONV_TILE_BYTES} / std::max<index_t>(row_bytes, 1);
  mt = std::min<index_t>(std::max<index_t>(mt, Kernel::mr), std::min<index_t>(1024, pixels + Kernel::mr - 1));
  return std::max<index_t>(mt / Kernel::mr * Kernel::mr, Kernel::mr);
}

/// True when the pixels of an NHWC view are evenly spaced ([N * H * W, C] is a matrix with row
/// stride stride(2)), so pixel rows can be read or written as one matrix.
template <class T>
bool conv_pixels_uniform(const tensor_view<T, 4>& v) noexcept {
  return (v.extent(1) <= 1 || v.stride(1) == v.extent(2) * v.stride(2)) &&
         (v.extent(0) <= 1 || v.stride(0) == v.extent(1) * v.extent(2) * v.stride(2));
}

/// True when conv_igemm runs a convolution as one GEMM whose kernel reads every output pixel's
/// window in place (conv_gemm_windows): int8 activations on a kernel_direct_a_v kernel, one group,
/// C_in a multiple of the kernel's K run (so K needs no padding and no run straddles two taps),
/// more pixels than one tile, not a 1x1, stride 1, and at most 4 column tiles.
/// The last two from an A/B of the ResNet-18 3x3 layers (one thread, qu8 and qs8): the im2col
/// this saves copies 9 C bytes per pixel that N columns then reuse, while reading windows in
/// place costs the kernel a few percent (indexed broadcasts from scattered lines). Stride 1,
/// N = 64: +11%; N = 128: +2..4%; N = 256, 512: -3%; stride 2 (the padded copy is 4 pixels per
/// output pixel, not 1): -1..-5%.
template <class Kernel, class T>
inline constexpr bool conv_can_read_windows_v =
    kernel_direct_a_v<Kernel> && sizeof(T) == 1 && std::is_same_v<typename Kernel::a_type, std::uint8_t>;

template <class Kernel, class T>
bool conv_reads_windows(const conv2d_shape& s) noexcept {
  if constexpr (conv_can_read_windows_v<Kernel, T>) {
    return s.groups == 1 && s.cg % Kernel::direct_block == 0 && s.output_pixels() > Kernel::mr && s.kh * s.kw > 1 &&
           s.sh == 1 && s.sw == 1 && s.c_out <= 4 * Kernel::nr;
  } else {
    (void)s;
    return false;
  }
}

/// The GEMM of a whole convolution (one group): every output pixel a row, written straight into
/// the evenly spaced output.
template <class Kernel, class Out>
gemm_job<Kernel> conv_whole_image_job(const conv2d_shape& s, index_t kp, const typename Kernel::w_type* panels,
                                      const gemm_output_tile& stage, const tensor_view<Out, 4>& out) {
  gemm_job<Kernel> job;
  job.m = s.output_pixels();
  job.n = s.c_out;
  job.k_padded = kp;
  job.w = panels;
  job.out = stage;
  job.out.data = out.data();
  job.out.row_stride = out.stride(2);
  return job;
}

/// A convolution as one GEMM over an indirection buffer (conv_reads_windows): the input is copied
/// once into a padded image (value + shift, i.e. XOR 0x80 for qs8; the border holds the encoded
/// zero point), row p of A is output pixel p's window (its top-left corner in the padded image)
/// and K run j (Kernel::direct_block channels of one tap) lies a fixed offset from it, so the
/// micro-kernel reads the windows where they are: each input pixel is moved once, not once per
/// tap as by the im2col. The output must be evenly spaced.
template <class Kernel, class T, class Out>
void conv_gemm_windows(const conv2d_shape& s, const tensor_view<const T, 4>& in, index_t kp,
                       const typename Kernel::w_type* panels, const gemm_output_tile& stage, const tensor_view<Out, 4>& out,
                       context& ctx, int shift, T pad) {
  using arch_t = typename Kernel::arch;
  constexpr index_t B = Kernel::direct_block;
  const index_t c = s.c_in;
  // The padded image: every row and column some window reads, and no more.
  const index_t hp = (s.oh - 1) * s.sh + (s.kh - 1) * s.dh + 1, wp = (s.ow - 1) * s.sw + (s.kw - 1) * s.dw + 1;
  const index_t image = hp * wp * c, pixels = s.output_pixels(), runs = kp / B;
  auto* padded = ctx.scratch_as<unsigned char>(conv_slot_windows, static_cast<std::size_t>(s.n * image));
  const auto mask = static_cast<unsigned char>(shift != 0 ? 0x80 : 0);
  const auto pad_byte = static_cast<unsigned char>(static_cast<unsigned char>(pad) ^ mask);
  const index_t rows = s.n * hp;
  const index_t tasks = ctx.threads() > 1 && s.n * image >= (index_t{1} << 17) ? std::min(ctx.threads(), rows) : 1;
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(rows, tasks, task);
    for (index_t r = range.first; r < range.second; ++r) {
      const index_t n = r / hp, iy = r % hp - s.pt;
      unsigned char* d = padded + r * wp * c;
      // Padded columns [x0, x1) hold input columns [x0 - pl, x1 - pl); the others the zero point.
      const bool inside = iy >= 0 && iy < s.h;
      const index_t x0 = inside ? std::min(wp, s.pl) : wp, x1 = inside ? std::min(wp, s.pl + s.w) : wp;
      for (index_t i = 0; i < x0 * c; i += B) fill_bytes<arch_t>(d + i, B, pad_byte);
      for (index_t px = x0; px < x1; ++px) {
        const auto* src = reinterpret_cast<const unsigned char*>(&in(n, iy, px - s.pl, 0));
        for (index_t i = 0; i < c; i += B) copy_bytes_xor<arch_t>(d + px * c + i, src + i, B, mask);
      }
      for (index_t i = x1 * c; i < wp * c; i += B) fill_bytes<arch_t>(d + i, B, pad_byte);
    }
  });
  // Row pointers (one per output pixel) and the offset of each K run (tap-major, as the
  // weights are packed: K index = (ky * KW + kx) * C_in + channel).
  auto* bytes = ctx.scratch_as<unsigned char>(conv_slot_window_rows, static_cast<std::size_t>(pixels) * sizeof(const void*) +
                                                                          static_cast<std::size_t>(runs) * sizeof(index_t));
  auto* row_ptrs = reinterpret_cast<const void**>(bytes);
  auto* run_offsets = reinterpret_cast<index_t*>(row_ptrs + pixels);
  for (index_t p = 0, n = 0, oy = 0, ox = 0; p < pixels; ++p, s.next_output_pixel(n, oy, ox))
    row_ptrs[p] = padded + n * image + (oy * s.sh * wp + ox * s.sw) * c;
  for (index_t j = 0; j < runs; ++j) {
    const index_t k0 = j * B, tap = k0 / c;
    run_offsets[j] = ((tap / s.kw) * s.dh * wp + (tap % s.kw) * s.dw) * c + k0 % c;
  }
  gemm_job<Kernel> job = conv_whole_image_job<Kernel>(s, kp, panels, stage, out);
  job.a_rows = row_ptrs;
  job.a_blocks = run_offsets;
  job.weights_stationary = true;
  run_gemm_job(job, ctx);
}

/// Packs `rows` (unit column stride) into the kernel's A panels: integers as value + shift
/// (the kernel's encoding of qs8 / qu8), floats as they are.
template <class Kernel, class T>
void conv_pack_rows(const matrix_view<const T>& rows, index_t k_padded, int shift, typename Kernel::a_type* dst) noexcept {
  using A = typename Kernel::a_type;
  if constexpr (std::is_same_v<T, float>) {
    (void)shift;
    pack_activations_f32<Kernel>(rows, k_padded, dst);
  } else if constexpr (Kernel::kr == 4 && sizeof(A) == 1) {
    pack_activations_bytes<Kernel>(rows, k_padded, shift, dst);
  } else {
    pack_activations<Kernel>(rows, k_padded, [shift](T v, index_t) { return static_cast<A>(static_cast<int>(v) + shift); },
                             dst);
  }
}

/// Runs the implicit GEMM of a (non-depthwise) convolution.
///   panels  the weights, [group][NR block] panels of Kernel::w_layout, K padded to info.kq * KR
///   stage   the output stage with its per-column arrays indexed by padded channel slot
///           (info.padded_channels()) and its per-row arrays holding at least
///           conv_tile_pixels(...) rows, or every output pixel for a 1x1 stride-1 convolution (every
///           row the same); `data` / `row_stride` are set here
///   shift   integer inputs: the kernel's a_shift for T (the A value of x is x + shift, padding
///           taps are the input zero point `pad`)
template <class Kernel, class T, class Out>
void conv_igemm(const conv2d_shape& s, const tensor_view<const T, 4>& in, const conv_pack_info& info,
                const typename Kernel::w_type* panels, const gemm_output_tile& stage, const tensor_view<Out, 4>& out,
                context& ctx, int shift, T pad) {
  using A = typename Kernel::a_type;
  constexpr index_t MR = Kernel::mr, NR = Kernel::nr;
  const index_t kp = info.kq * Kernel::kr;
  const index_t a_panel = Kernel::a_layout::panel_size(kp), w_panel = Kernel::w_layout::panel_size(kp);
  const index_t pixels = s.output_pixels();
  const bool in_uniform = conv_pixels_uniform(in), out_uniform = conv_pixels_uniform(out);

  // 1x1, stride 1, one group, evenly spaced pixels: the convolution is the GEMM
  // y[pixels, C_out] = x[pixels, C_in] * W^T, run by the GEMM driver.
  if (s.pointwise() && s.groups == 1 && in_uniform && out_uniform) {
    const matrix_view<const T> x(in.data(), {pixels, s.c_in}, {in.stride(2), 1});
    const gemm_job<Kernel> job = conv_whole_image_job<Kernel>(s, kp, panels, stage, out);
    // Activations already in the kernel's encoding (uint8 for VNNI: qu8) with K needing no
    // padding, and at most 8 column tiles: the kernel reads the pixel rows in place, no
    // packing pass. A/B on the MobileNetV2 1x1 layers (qu8, one thread): N = 16..32 +24..32%,
    // N = 64..160 +2..15%; N >= 384 (the pass shared by 12+ column tiles) 1-2% slower in
    // place, so those keep packing, as do images of fewer pixels than one full tile.
    if constexpr (kernel_direct_a_v<Kernel> && std::is_same_v<T, A>) {
      if (shift == 0 && kp == s.c_in && pixels > MR && s.c_out <= 8 * NR) {
        run_gemm_job_direct(job, ctx, x);
        return;
      }
    }
    // A packed row block by row block by the task that multiplies it (still in cache), or up
    // front when it is one block.
    run_gemm_job_packing(job, ctx, x, [&](const matrix_view<const T>& rows, A* dst) { conv_pack_rows<Kernel>(rows, kp, shift, dst); },
                         conv_slot_packed_a);
    return;
  }

  if constexpr (conv_can_read_windows_v<Kernel, T>) {
    if (out_uniform && conv_reads_windows<Kernel, T>(s)) {
      conv_gemm_windows<Kernel>(s, in, kp, panels, stage, out, ctx, shift, pad);
      return;
    }
  }

  const bool direct_rows = s.pointwise() && in_uniform;  // the input rows are the tile's A rows
  constexpr bool im2col_in_panel = is_row_block_panel_layout<typename Kernel::a_layout>::value && sizeof(T) == 1;
  const index_t mt = conv_tile_pixels<Kernel>(kp, pixels);
  const index_t tiles = divide_round_up(pixels, mt);
  const index_t tasks = std::min(ctx.threads(), tiles);
  const auto align = [](std::size_t b) { return (b + 63) / 64 * 64; };
  const std::size_t a_bytes = align(static_cast<std::size_t>(divide_round_up(mt, MR) * a_panel) * sizeof(A));
  const std::size_t rows_bytes = direct_rows || im2col_in_panel ? 0 : align(static_cast<std::size_t>(MR * info.k) * sizeof(T));
  const std::size_t out_bytes = out_uniform ? 0 : static_cast<std::size_t>(mt * s.c_out) * sizeof(Out);
  std::vector<unsigned char*> scratch(static_cast<std::size_t>(tasks));
  for (index_t t = 0; t < tasks; ++t)
    scratch[static_cast<std::size_t>(t)] = static_cast<unsigned char*>(
        ctx.scratch(conv_slot_task0 + static_cast<std::size_t>(t), a_bytes + rows_bytes + out_bytes));

  ctx.run(tasks, [&](index_t task) {
    unsigned char* base = scratch[static_cast<std::size_t>(task)];
    A* a = reinterpret_cast<A*>(base);
    T* rows = reinterpret_cast<T*>(base + a_bytes);
    Out* otile = reinterpret_cast<Out*>(base + a_bytes + rows_bytes);
    const auto range = split_range(tiles, tasks, task);
    for (index_t tile = range.first; tile < range.second; ++tile) {
      const index_t p0 = tile * mt, count = std::min(mt, pixels - p0);
      const index_t ox0 = p0 % s.ow, oy0 = (p0 / s.ow) % s.oh, n0 = p0 / (s.ow * s.oh);
      for (index_t g = 0; g < s.groups; ++g) {
        // A: the tile's im2col rows (padding taps read the zero point), built MR rows at a
        // time into a small buffer that stays in L1 and packed from there into their panel.
        if (direct_rows) {
          conv_pack_rows<Kernel>(matrix_view<const T>(&in(n0, oy0, ox0, g * s.cg), {count, s.cg}, {in.stride(2), 1}), kp,
                                 shift, a);
        } else if constexpr (im2col_in_panel) {
          // Row-major K blocks: each tap's channels are copied (XOR for the shift) straight into
          // the panel, padding taps filled with the encoded zero point; no intermediate rows.
          using layout = typename Kernel::a_layout;
          using arch_t = typename Kernel::arch;
          constexpr index_t KB = layout::block;
          const index_t cg = s.cg, kh = s.kh, kw = s.kw, h = s.h, w = s.w, k = info.k;
          const auto mask = static_cast<unsigned char>(shift != 0 ? 0x80 : 0);
          const auto pad_byte = static_cast<unsigned char>(static_cast<unsigned char>(pad) ^ mask);
          const bool whole_blocks = cg % KB == 0;  // every tap is whole K blocks (cg = 64, 128, ...)
          const auto* in_bytes = reinterpret_cast<const unsigned char*>(in.data()) + g * cg;
          const index_t s0 = in.stride(0), s1 = in.stride(1), s2 = in.stride(2);
          index_t ox = ox0, oy = oy0, n = n0;
          // Per panel row: the window's top-left input coordinates and the image.
          index_t row_iy[MR], row_ix[MR];
          const unsigned char* row_image[MR];
          for (index_t m0 = 0; m0 < count; m0 += MR) {
            const index_t panel_rows = std::min(MR, count - m0);
            auto* panel = reinterpret_cast<unsigned char*>(a + (m0 / MR) * a_panel);
            for (index_t i = 0; i < panel_rows; ++i) {
              row_iy[i] = oy * s.sh - s.pt;
              row_ix[i] = ox * s.sw - s.pl;
              row_image[i] = in_bytes + n * s0;
              s.next_output_pixel(n, oy, ox);
            }
            // Tap by tap, the panel rows one after the other: the stores of a K block are
            // contiguous (MR x 64 bytes) and the loads of a stride-1 output row are too.
            for (index_t ky = 0, kk = 0; ky < kh; ++ky)
              for (index_t kx = 0; kx < kw; ++kx, kk += cg) {
                const index_t dy = ky * s.dh, dx = kx * s.dw;
                for (index_t i = 0; i < panel_rows; ++i) {
                  const index_t iy = row_iy[i] + dy, ix = row_ix[i] + dx;
                  const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                  const unsigned char* src = inside ? row_image[i] + iy * s1 + ix * s2 : nullptr;
                  if (whole_blocks) {
                    unsigned char* d = panel + layout::offset(i, kk);
                    for (index_t c = 0; c < cg; c += KB, d += MR * KB) {
                      if (src)
                        copy_bytes_xor<arch_t>(d, src + c, KB, mask);
                      else
                        fill_bytes<arch_t>(d, KB, pad_byte);
                    }
                  } else {
                    write_row_block_bytes<arch_t, layout>(panel, i, kk, cg, src, mask, pad_byte);
                  }
                }
              }
            zero_row_block_padding<arch_t, layout>(panel, panel_rows, k, kp);
          }
        } else {
          const index_t cg = s.cg, kh = s.kh, kw = s.kw, h = s.h, w = s.w, k = info.k;
          for (index_t m0 = 0; m0 < count; m0 += MR) {
            const index_t panel_rows = std::min(MR, count - m0);
            for (index_t i = 0; i < panel_rows; ++i) {
              const index_t p = p0 + m0 + i;
              const index_t ox = p % s.ow, oy = (p / s.ow) % s.oh, n = p / (s.ow * s.oh);
              T* row = rows + i * k;
              for (index_t ky = 0; ky < kh; ++ky) {
                const index_t iy = oy * s.sh - s.pt + ky * s.dh;
                for (index_t kx = 0; kx < kw; ++kx) {
                  const index_t ix = ox * s.sw - s.pl + kx * s.dw;
                  T* dst = row + (ky * kw + kx) * cg;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                    std::fill(dst, dst + cg, pad);
                  else
                    std::memcpy(dst, &in(n, iy, ix, g * cg), static_cast<std::size_t>(cg) * sizeof(T));
                }
              }
            }
            conv_pack_rows<Kernel>(matrix_view<const T>(rows, {panel_rows, k}, {k, 1}), kp, shift, a + (m0 / MR) * a_panel);
          }
        }

        // The group's output columns, straight into the output or through the tile buffer.
        gemm_output_tile o = stage;
        const index_t slot0 = g * info.blocks * NR;
        o.data = out_uniform ? static_cast<void*>(&out(n0, oy0, ox0, g * s.ng)) : static_cast<void*>(otile + g * s.ng);
        o.row_stride = out_uniform ? out.stride(2) : s.c_out;
        if (o.column_sums) o.column_sums += slot0;
        if (o.bias_i32) o.bias_i32 += slot0;
        if (o.column_offsets) o.column_offsets += slot0;
        if (o.column_multipliers) o.column_multipliers += slot0;
        if (o.bias_f32) o.bias_f32 += slot0;
        for (index_t b = 0; b < info.blocks; ++b) {
          gemm_tile_args<typename Kernel::acc_type> args;
          args.cols = std::min(NR, s.ng - b * NR);
          args.kc = kp;
          args.w = panels + (g * info.blocks + b) * w_panel;
          args.out = &o;
          args.col0 = b * NR;
          for (index_t m0 = 0; m0 < count; m0 += MR) {
            args.rows = std::min(MR, count - m0);
            args.a = a + (m0 / MR) * a_panel;
            args.row0 = m0;
            Kernel::run(args);
          }
        }
      }
      if (!out_uniform)
        for (index_t i = 0; i < count; ++i) {
          const index_t p = p0 + i;
          std::memcpy(&out(p / (s.ow * s.oh), (p / s.ow) % s.oh, p % s.ow, 0), otile + i * s.c_out,
                      static_cast<std::size_t>(s.c_out) * sizeof(Out));
        }
    }
  });
}

}  // namespace detail
}  // namespace lightq
