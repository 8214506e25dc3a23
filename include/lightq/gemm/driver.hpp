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

/// Runs a GEMM job. Work items are (row block, column block) pairs; each output element is
/// computed by the same sequence of instructions whatever the number of tasks, so results do
/// not depend on the thread count. K is never split across tasks.
///
/// Without `pack_block` (a null pointer) job.a holds all of A packed. With it, job.a is unused:
/// each task packs the row block it is about to multiply, one MR-row panel at a time just before
/// its first tile (`pack_block(r0, r1, dst)` packs rows [r0, r1) into dst, the panel's place in
/// the task's mc x K buffer), and items run row block by row block, so the packed block is still
/// in cache for every column block (for large M and small N, packing all of A first wrote it to
/// memory and read it back: 30-40% of the time at M = 3136, N = 64).
/// `a_slot` is the scratch slot of the packed blocks (a caller with its own use of
/// gemm_slot_packed_a, such as conv2d, names another).
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
  const index_t kc_block = job.m <= MR ? std::max<index_t>(job.k_padded, 1) : Kernel::kc_block;
  const index_t k_blocks = std::max<index_t>(1, divide_round_up(job.k_padded, kc_block));
  const index_t mc = std::min(Kernel::mc_block, round_up(job.m, MR));
  const index_t m_blocks = divide_round_up(job.m, mc);
  index_t nc = std::min(Kernel::nc_block, round_up(job.n, NR));
  // Enough items to balance the tasks (finer column blocks when the problem is short).
  const index_t want_items = ctx.threads() > 1 ? 4 * ctx.threads() : 1;
  if (m_blocks * divide_round_up(job.n, nc) < want_items) {
    const index_t n_blocks_wanted = divide_round_up(want_items, m_blocks);
    nc = std::max(NR, round_up(divide_round_up(job.n, n_blocks_wanted), NR));
  }
  const index_t n_blocks = divide_round_up(job.n, nc);
  const index_t items = m_blocks * n_blocks;
  const index_t tasks = std::min(ctx.threads(), items);
  const index_t w_panel = Kernel::w_layout::panel_size(job.k_padded);
  const index_t a_panel = Kernel::a_layout::panel_size(job.k_padded);
  const index_t a_block = (mc / MR) * a_panel;  // one packed row block
  const index_t pack_rows =
      MR * std::max<index_t>(1, static_cast<index_t>(16384 / sizeof(a_t)) / std::max<index_t>(a_panel, 1));

  // One mc x nc block of K-slice partials per task, in one scratch slot (no allocation once sized).
  acc_t* partials =
      k_blocks > 1 ? ctx.scratch_as<acc_t>(gemm_slot_partial, static_cast<std::size_t>(tasks * mc * nc)) : nullptr;
  a_t* blocks = packing ? ctx.scratch_as<a_t>(a_slot, static_cast<std::size_t>(tasks * a_block)) : nullptr;

  ctx.run(tasks, [&](index_t task) {
    const auto range = split_range(items, tasks, task);
    acc_t* partial = partials ? partials + task * mc * nc : nullptr;
    a_t* own_block = packing ? blocks + task * a_block : nullptr;
    index_t packed_block = -1, packed_end = 0;  // own_block holds rows [mb0 of packed_block, packed_end)
    for (index_t item = range.first; item < range.second; ++item) {
      // Packing: row-block-major, so a task repacks only when its row block changes.
      const index_t mbi = packing ? item / n_blocks : item % m_blocks;
      const index_t nbi = packing ? item % n_blocks : item / m_blocks;
      const index_t mb0 = mbi * mc, nb0 = nbi * nc;
      const index_t m_end = std::min(job.m, mb0 + mc);
      const index_t n_end = std::min(job.n, nb0 + nc);
      const a_t* a_rows = nullptr;  // the packed panels of rows [mb0, m_end)
      if constexpr (packing) {
        if (mbi != packed_block) {  // packed panel by panel below, just before its first use
          packed_block = mbi;
          packed_end = mb0;
        }
        a_rows = own_block;
      } else {
        a_rows = job.a + (mb0 / MR) * a_panel;
      }
      for (index_t kb = 0, kblock = 0; kblock < k_blocks; ++kblock, kb += kc_block) {
        const index_t kc = std::min(kc_block, job.k_padded - kb);
        const bool first = kblock == 0, last = kblock + 1 == k_blocks;
        const auto tile = [&](index_t i0, index_t j0) {
          gemm_tile_args<acc_t> args;
          args.rows = std::min(MR, job.m - i0);
          args.cols = std::min(NR, job.n - j0);
          args.kc = kc;
          args.a = a_rows + ((i0 - mb0) / MR) * a_panel + kb * MR;
          args.w = job.w + (j0 / NR) * w_panel + kb * NR;
          args.accumulate = !first;
          args.partial = partial ? partial + (i0 - mb0) * nc + (j0 - nb0) : nullptr;
          args.partial_stride = nc;
          args.out = last ? &job.out : nullptr;
          args.row0 = i0;
          args.col0 = j0;
          Kernel::run(args);
        };
        // Row panels outside: the activation panel (MR x kc) stays in L1 while the weight
        // panels of the block stream from L2 (the kernels prefetch them).
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
          for (index_t j0 = nb0; j0 < n_end; j0 += NR) tile(i0, j0);
        }
      }
    }
  });
}

/// Packs the activations x[M, K] with `pack(rows_view, dst)` and runs the job on them: A packed
/// up front (split across the tasks) when it is one row block, else packed block by block by
/// the task that multiplies it (run_gemm_job with pack_block). job.a is set here; the packed
/// activations live in scratch slot `a_slot`.
template <class Kernel, class X, class PackRows>
void run_gemm_job_packing(gemm_job<Kernel> job, context& ctx, const matrix_view<const X>& x, PackRows&& pack,
                          std::size_t a_slot = gemm_slot_packed_a) {
  using a_t = typename Kernel::a_type;
  const index_t m = x.extent(0);
  if (m == 0 || job.n == 0) return;
  if (m <= Kernel::mc_block) {  // one row block (m <= round_up(m, MR) always)
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
