// The GEMM blocking driver: packs activations, splits the output into cache blocks and tiles,
// runs them on the context's tasks, and calls the micro-kernel. Backend-neutral: everything
// ISA-specific comes from the Kernel type (packed layouts, tile, blocking constants).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "lightq/gemm/microkernel.hpp"
#include "lightq/gemm/packing.hpp"
#include "lightq/parallel/context.hpp"

namespace lightq {
namespace detail {

/// Scratch slots of a GEMM call in the context arena.
enum gemm_scratch_slot : std::size_t {
  gemm_slot_packed_a = 0,
  gemm_slot_rows = 1,
  gemm_slot_columns = 2,
  gemm_slot_dynamic = 3,
  gemm_slot_partial = 4  ///< K-slice partial accumulators of every task
};

/// One GEMM after validation: C[m, n] = stage(A[m, k] * W[n, k]^T). `a` holds the packed
/// activations (ceil(m / MR) panels of a_layout, k_padded deep), `w` the packed weights,
/// `out` the output stage for element (0, 0) (pointers advance per tile).
template <class Kernel>
struct gemm_job {
  index_t m = 0, n = 0, k_padded = 0;
  const typename Kernel::a_type* a = nullptr;
  /// 0: `a` is packed (a_layout panels). > 0 (kernel_direct_a_v kernels): `a` is A as it is,
  /// rows a_stride elements apart, k_padded elements each (run_gemm_job_direct).
  index_t a_stride = 0;
  /// Instead of a / a_stride (kernel_direct_a_v kernels): row i of A starts at a_rows[i] and its
  /// K run j (Kernel::direct_block elements) at a_rows[i] + a_blocks[j]: an implicit GEMM over
  /// an indirection buffer (conv2d reads a padded copy of the input this way).
  const void* const* a_rows = nullptr;  ///< each one a `const Kernel::a_type*`
  const index_t* a_blocks = nullptr;
  bool a_direct() const noexcept { return a_stride != 0 || a_rows != nullptr; }
  /// Weight-stationary order: all of K per tile (no K slices) and, within a cache block, the
  /// row tiles inside the column tiles, so each weight panel stays in L1 while the activation
  /// rows stream past it from L2. For an A whose rows share their bytes (the windows of a
  /// convolution read in place: each input pixel in up to KH x KW rows), so A's footprint is
  /// a fraction of M x K.
  bool weights_stationary = false;
  const typename Kernel::w_type* w = nullptr;
  gemm_output_tile out;
  std::size_t out_element_size = 4;  ///< unused (the output kind implies it); kept for callers
};

/// Packs the activations x[M, K] into row panels with `pack(rows_view, dst)`, the panels split
/// across the context's tasks when the copy is large enough to be worth it.
template <class Kernel, class X, class PackRows>
void pack_activation_panels(context& ctx, const matrix_view<const X>& x, index_t k_padded, typename Kernel::a_type* dst,
                            PackRows&& pack) {
  const index_t m = x.extent(0), panels = divide_round_up(m, Kernel::mr);
  const index_t tasks = ctx.threads() > 1 && m * x.extent(1) >= (index_t{1} << 17) ? std::min(ctx.threads(), panels) : 1;
  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(panels, tasks, task);
    if (range.first == range.second) return;
    const index_t r0 = range.first * Kernel::mr, r1 = std::min(m, range.second * Kernel::mr);
    pack(x.slice(0, r0, r1 - r0), dst + range.first * Kernel::a_layout::panel_size(k_padded));
  });
}

/// How a GEMM's output is split across tasks: a gm x gn grid of rectangles of whole MR x NR
/// tiles, the row tiles split as evenly as possible into gm ranges and the column tiles into gn.
struct gemm_task_grid {
  index_t gm = 1, gn = 1;
  index_t tasks() const noexcept { return gm * gn; }
};

/// The grid for `threads` tasks at most over row_tiles x col_tiles tiles (of mr x nr): the
/// one whose largest task costs least, a task's cost being its rows x (its columns + 32). The
/// + 32 stands for what a task pays per row apart from the multiply (packing its activation
/// rows: ~1 byte moved per 2*32 ops at the int8 rates), so of two grids with equal tiles per
/// task the one that packs fewer rows per task wins. Ties go to fewer tasks.
inline gemm_task_grid choose_gemm_task_grid(index_t row_tiles, index_t col_tiles, index_t mr, index_t nr,
                                            index_t threads) noexcept {
  gemm_task_grid best;
  double best_cost = -1;
  for (index_t gm = 1; gm <= std::min(threads, row_tiles); ++gm)
    for (index_t gn = 1; gn <= std::min(threads / gm, col_tiles); ++gn) {
      const double rows = double(divide_round_up(row_tiles, gm) * mr);
      const double cols = double(divide_round_up(col_tiles, gn) * nr);
      const double cost = (rows + 32.0) * (cols + 32.0);
      if (best_cost < 0 || cost < best_cost * (1 - 1e-9)) {
        best_cost = cost;
        best = {gm, gn};
      }
    }
  return best;
}

/// The task grid of a GEMM run with `ctx`: one task per thread, or up to eight per thread when
/// the context balances tasks across its threads (a thread that finishes early takes the next
/// task, so uneven tasks and cores slowed by other work hold up less). Measured on a shared
/// 16-core Xeon, int8 2048^3 at 16 threads, best of 20: one task per thread 3.85 ms, four
/// 3.12-3.56 ms, eight 3.13 ms.
inline gemm_task_grid gemm_grid_for(const context& ctx, index_t row_tiles, index_t col_tiles, index_t mr, index_t nr) noexcept {
  const index_t tasks = ctx.threads() * (ctx.balances_tasks() ? 8 : 1);
  return choose_gemm_task_grid(row_tiles, col_tiles, mr, nr, tasks);
}

/// Runs a GEMM job. The output is split into one rectangle of whole tiles per task
/// (gemm_grid_for); each task walks its rectangle in cache blocks (mc rows x nc columns x kc
/// deep) and tiles. Each output element is computed by the same sequence of instructions
/// whatever the number of tasks (the K blocking does not depend on the split), so results do
/// not depend on the thread count. K is never split across tasks.
///
/// Without `pack_block` (a null pointer) job.a holds all of A packed. With it, job.a is unused:
/// each task packs the row blocks of its own rows, one group of MR-row panels at a time just
/// before its first tile (`pack_block(r0, r1, dst)` packs rows [r0, r1) into dst, the panels'
/// place in the thread's mc x K buffer), and walks its column blocks with that block in cache
/// (for large M and small N, packing all of A first wrote it to memory and read it back: 30-40%
/// of the time at M = 3136, N = 64). `a_slot` is the scratch slot of the packed blocks (a caller
/// with its own use of gemm_slot_packed_a, such as conv2d, names another).
template <class Kernel, class PackBlock = std::nullptr_t>
void run_gemm_job(const gemm_job<Kernel>& job, context& ctx, PackBlock&& pack_block = nullptr,
                  std::size_t a_slot = gemm_slot_packed_a) {
  using acc_t = typename Kernel::acc_type;
  using a_t = typename Kernel::a_type;
  constexpr bool packing = !std::is_same_v<std::decay_t<PackBlock>, std::nullptr_t>;
  constexpr index_t MR = Kernel::mr, NR = Kernel::nr;
  if (job.m == 0 || job.n == 0) return;
  // Small M (GEMV-like, one row panel): no K blocking, so each weight panel streams from memory
  // start to end in one pass (the A panel is at most MR x K and stays in cache).
  const index_t kc_block = job.m <= MR || job.weights_stationary ? std::max<index_t>(job.k_padded, 1) : Kernel::kc_block;
  const index_t k_blocks = std::max<index_t>(1, divide_round_up(job.k_padded, kc_block));
  const index_t row_tiles = divide_round_up(job.m, MR), col_tiles = divide_round_up(job.n, NR);
  const gemm_task_grid grid = gemm_grid_for(ctx, row_tiles, col_tiles, MR, NR);
  const index_t tasks = grid.tasks(), slots = std::min(tasks, ctx.threads());
  const index_t mc = std::min(Kernel::mc_block, divide_round_up(row_tiles, grid.gm) * MR);
  const index_t nc = std::min(Kernel::nc_block, divide_round_up(col_tiles, grid.gn) * NR);
  const index_t w_panel = Kernel::w_layout::panel_size(job.k_padded);
  const index_t a_panel = Kernel::a_layout::panel_size(job.k_padded);
  const index_t a_block = (mc / MR) * a_panel;  // one packed row block
  const index_t pack_rows =
      MR * std::max<index_t>(1, static_cast<index_t>(16384 / sizeof(a_t)) / std::max<index_t>(a_panel, 1));

  // One mc x nc block of K-slice partials and one packed row block per thread, each in one
  // scratch slot (no allocation once sized).
  acc_t* partials =
      k_blocks > 1 ? ctx.scratch_as<acc_t>(gemm_slot_partial, static_cast<std::size_t>(slots * mc * nc)) : nullptr;
  a_t* blocks = packing ? ctx.scratch_as<a_t>(a_slot, static_cast<std::size_t>(slots * a_block)) : nullptr;

  ctx.run_slots(tasks, [&](index_t task, index_t slot) {
    const auto row_range = split_range(row_tiles, grid.gm, task / grid.gn);
    const auto col_range = split_range(col_tiles, grid.gn, task % grid.gn);
    const index_t r_begin = row_range.first * MR, r_end = std::min(job.m, row_range.second * MR);
    const index_t c_begin = col_range.first * NR, c_end = std::min(job.n, col_range.second * NR);
    acc_t* partial = partials ? partials + slot * mc * nc : nullptr;
    a_t* own_block = packing ? blocks + slot * a_block : nullptr;

    // One tile: rows i0.. x columns j0.., K slice [kb, kb + kc) of the mc x nc block at (mb0, nb0).
    const auto tile = [&](const a_t* a_panels, index_t mb0, index_t nb0, index_t kb, index_t kc, bool first, bool last,
                          index_t i0, index_t j0) {
      gemm_tile_args<acc_t> args;
      args.rows = std::min(MR, job.m - i0);
      args.cols = std::min(NR, job.n - j0);
      args.kc = kc;
      if (job.a_rows) {
        if constexpr (kernel_direct_a_v<Kernel>) {
          args.a_rows = job.a_rows + i0;
          args.a_blocks = job.a_blocks + kb / Kernel::direct_block;
        }
      } else if (job.a_stride != 0) {
        args.a = job.a + i0 * job.a_stride + kb;
        args.a_stride = job.a_stride;
      } else {
        args.a = a_panels + ((i0 - mb0) / MR) * a_panel + kb * MR;
      }
      args.w = job.w + (j0 / NR) * w_panel + kb * NR;
      args.accumulate = !first;
      args.partial = partial ? partial + (i0 - mb0) * nc + (j0 - nb0) : nullptr;
      args.partial_stride = nc;
      args.out = last ? &job.out : nullptr;
      args.row0 = i0;
      args.col0 = j0;
      Kernel::run(args);
    };
    // One mc x nc block, all its K slices. Row panels outside: the activation panel (MR x kc)
    // stays in L1 while the weight panels of the block stream from L2 (the kernels prefetch).
    // Weights-stationary jobs turn the two loops round. `packed_end`: with pack_block, the rows
    // of the block packed so far.
    const auto block = [&](const a_t* a_panels, index_t mb0, index_t m_end, index_t nb0, index_t n_end,
                           index_t& packed_end) {
      for (index_t kb = 0, kblock = 0; kblock < k_blocks; ++kblock, kb += kc_block) {
        const index_t kc = std::min(kc_block, job.k_padded - kb);
        const bool first = kblock == 0, last = kblock + 1 == k_blocks;
        if constexpr (!packing) {
          if (job.weights_stationary) {
            for (index_t j0 = nb0; j0 < n_end; j0 += NR)
              for (index_t i0 = mb0; i0 < m_end; i0 += MR) tile(a_panels, mb0, nb0, kb, kc, first, last, i0, j0);
            continue;
          }
        }
        for (index_t i0 = mb0; i0 < m_end; i0 += MR) {
          if constexpr (packing) {
            // Panels packed right before the tiles that read them, about 16 KiB at a time, so
            // they are still in L1 (a whole row block packed first left the early panels in L2
            // once mc x K passed L1; one panel at a time cost a call per 12 rows at small K).
            if (i0 >= packed_end) {
              packed_end = std::min(m_end, i0 + pack_rows);
              pack_block(i0, packed_end, own_block + ((i0 - mb0) / MR) * a_panel);
            }
          }
          for (index_t j0 = nb0; j0 < n_end; j0 += NR) tile(a_panels, mb0, nb0, kb, kc, first, last, i0, j0);
        }
      }
    };
    if constexpr (packing) {
      // Row-block-major: each row block is packed once (during its first column block) and
      // multiplied by every column block of the task.
      for (index_t mb0 = r_begin; mb0 < r_end; mb0 += mc) {
        const index_t m_end = std::min(r_end, mb0 + mc);
        index_t packed_end = mb0;
        for (index_t nb0 = c_begin; nb0 < c_end; nb0 += nc)
          block(own_block, mb0, m_end, nb0, std::min(c_end, nb0 + nc), packed_end);
      }
    } else {
      // Column-block-major: the weight block stays in L2 while the packed row blocks stream.
      index_t unused = 0;
      for (index_t nb0 = c_begin; nb0 < c_end; nb0 += nc)
        for (index_t mb0 = r_begin; mb0 < r_end; mb0 += mc)
          block(job.a_direct() ? nullptr : job.a + (mb0 / MR) * a_panel, mb0, std::min(r_end, mb0 + mc), nb0, std::min(c_end, nb0 + nc), unused);
    }
  });
}

/// Runs the job on activations x[M, K] read in place by the kernel (no packing pass): x must
/// already be in the kernel's A encoding with unit column stride, and K a multiple of KR (so
/// job.k_padded == K and no row is read past its end). Only for kernel_direct_a_v kernels.
template <class Kernel>
void run_gemm_job_direct(gemm_job<Kernel> job, context& ctx, const matrix_view<const typename Kernel::a_type>& x) {
  static_assert(kernel_direct_a_v<Kernel>, "the kernel reads packed activations only");
  job.a = x.data();
  job.a_stride = std::max<index_t>(x.stride(0), 1);
  run_gemm_job(job, ctx);
}

/// Packs the activations x[M, K] with `pack(rows_view, dst)` and runs the job on them: A packed
/// up front (split across the threads) or row block by row block by the task that multiplies
/// it (run_gemm_job with pack_block). job.a is set here; the packed activations live in scratch
/// slot `a_slot`.
template <class Kernel, class X, class PackRows>
void run_gemm_job_packing(gemm_job<Kernel> job, context& ctx, const matrix_view<const X>& x, PackRows&& pack,
                          std::size_t a_slot = gemm_slot_packed_a) {
  using a_t = typename Kernel::a_type;
  const index_t m = x.extent(0);
  if (m == 0 || job.n == 0) return;
  // All of A packed up front when it is one row block, or when the task grid splits the
  // columns (else each column range would pack the same rows again).
  const gemm_task_grid grid =
      gemm_grid_for(ctx, divide_round_up(m, Kernel::mr), divide_round_up(job.n, Kernel::nr), Kernel::mr, Kernel::nr);
  if (m <= Kernel::mc_block || grid.gn > 1) {
    auto* a = ctx.scratch_as<a_t>(a_slot, static_cast<std::size_t>(divide_round_up(m, Kernel::mr) *
                                                                    Kernel::a_layout::panel_size(job.k_padded)));
    pack_activation_panels<Kernel>(ctx, x, job.k_padded, a, pack);
    job.a = a;
    run_gemm_job(job, ctx);
    return;
  }
  run_gemm_job(job, ctx, [&](index_t r0, index_t r1, a_t* dst) { pack(x.slice(0, r0, r1 - r0), dst); }, a_slot);
}

}  // namespace detail
}  // namespace lightq
