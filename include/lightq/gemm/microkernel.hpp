// The GEMM micro-kernel contract: packed layouts, per-tile arguments, output-stage parameters,
// and the primary template gemm_kernel<Arch, ActivationType, WeightType> every backend fills in.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "lightq/core/arch.hpp"
#include "lightq/gemm/detail/dtypes.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// A K-blocked panel layout: a matrix of `rows` x K (rows = MR for packed A, NR for packed W)
/// is stored as ceil(K / KR) groups, each group `Rows x KR` elements, row-major within the
/// group: element (r, k) of a panel is at `(k / KR) * Rows * KR + r * KR + k % KR`.
/// A K slice [k0, k0 + kc) with k0 a multiple of KR is contiguous and starts at `k0 * Rows`.
/// KR = 4 serves vpdpbusd and SDOT (4 bytes per 32-bit lane); KR = 1 is the fp32 layout
/// (one broadcast or one vector per k); KR = 2 serves vpmaddwd.
template <index_t Rows, index_t KR>
struct blocked_panel_layout {
  static constexpr index_t rows = Rows;
  static constexpr index_t kr = KR;
  /// Offset of element (r, k) inside one panel.
  static constexpr index_t offset(index_t r, index_t k) noexcept { return (k / KR) * Rows * KR + r * KR + k % KR; }
  /// Elements in one panel of K (padded to a multiple of KR).
  static constexpr index_t panel_size(index_t k_padded) noexcept { return Rows * k_padded; }
};

/// A panel of `Rows` rows stored K block by K block, each block `Rows x KB` and row-major:
/// element (r, k) at `(k / KB) * Rows * KB + r * KB + k % KB`. Each row's KB elements are
/// contiguous, so packing is a copy (not a transpose) and an im2col can write a tap's channels
/// straight into the panel; inside a block the rows are KB apart, compile-time offsets for the
/// kernel. A K slice [k0, k0 + kc) with k0 a multiple of KB starts at `k0 * Rows` (kc_block must
/// be a multiple of KB); the last block is padded to KB.
template <index_t Rows, index_t KB>
struct row_block_panel_layout {
  static constexpr index_t rows = Rows;
  static constexpr index_t block = KB;
  /// Offset of element (r, k) inside one panel.
  static constexpr index_t offset(index_t r, index_t k) noexcept { return (k / KB) * Rows * KB + r * KB + k % KB; }
  /// Elements in one panel of K (the last block padded to KB).
  static constexpr index_t panel_size(index_t k_padded) noexcept { return Rows * ((k_padded + KB - 1) / KB * KB); }
};

template <class Layout>
struct is_row_block_panel_layout : std::false_type {};
template <index_t Rows, index_t KB>
struct is_row_block_panel_layout<row_block_panel_layout<Rows, KB>> : std::true_type {};

/// What the output stage writes.
enum class gemm_output_kind : std::uint8_t { int8, uint8, int32, float32 };

/// Output stage of a GEMM job: element (i, j) of the job's output and the per-row / per-column
/// arrays at index i / j (kernels pass their tile's row0 / col0 through store_gemm_tile).
/// Integer kernels (Acc = int32): v = acc - row_zero_points[i] * column_sums[j] (+ bias_i32[j]),
/// all modulo 2^32 (or acc + column_offsets[j] where given: the same value); then
///   int32   -> v
///   int8/u8 -> requantize_fp32(v, column_multipliers[j], bounds)
///   float32 -> clamp(fma(float(v) * column_multipliers[j], row_scales[i], bias_f32[j] or 0))
/// Float kernels (Acc = float): y = clamp(acc + bias_f32[j]).
struct gemm_output_tile {
  gemm_output_kind kind = gemm_output_kind::float32;
  void* data = nullptr;             ///< element (i, j) at data[i * row_stride + j]
  index_t row_stride = 0;           ///< in elements of the output type
  const std::int32_t* column_sums = nullptr;      ///< integer: sum_k w[j][k], per column
  const std::int32_t* row_zero_points = nullptr;  ///< integer: zero point of each row in the packed encoding
  const std::int32_t* bias_i32 = nullptr;         ///< integer outputs: int32 bias or null
  /// integer, optional: when every row has the same zero point zp, bias_i32[j] - zp * column_sums[j]
  /// (modulo 2^32) per column; the stage then adds it and ignores row_zero_points, column_sums
  /// and bias_i32 (same bits, fewer instructions)
  const std::int32_t* column_offsets = nullptr;
  const float* column_multipliers = nullptr;      ///< integer: requant multiplier or weight scale per column
  const float* row_scales = nullptr;              ///< integer -> float32: activation scale per row
  const float* bias_f32 = nullptr;                ///< float32 outputs: bias or null
  requantize_bounds bounds{-128.0f, 127.0f, 0};   ///< int8/u8 clamp (zero point subtracted)
  float min = -std::numeric_limits<float>::infinity();  ///< float32 clamp
  float max = std::numeric_limits<float>::infinity();
};

/// Arguments of one micro-kernel call: C[rows, cols] (+)= A_panel[rows, kc] * W_panel[cols, kc]^T.
///
/// Edge tiles: A and W panels are always padded (A to MR rows, W to NR columns, both to a
/// multiple of KR in K, padding zero), so a kernel may read the whole MR x kc and NR x kc panels
/// and never reads past them. It computes at least `rows` rows (it may skip the others: kernels
/// dispatch on `rows` so a GEMV does not pay for MR rows) and writes only rows x cols outputs.
/// `partial` is a full MR x NR tile (stride `partial_stride`) the kernel may read and write
/// entirely.
template <class Acc>
struct gemm_tile_args {
  index_t rows = 0;            ///< 1..MR rows of C to produce
  index_t cols = 0;            ///< 1..NR columns of C to produce
  index_t kc = 0;              ///< K of this slice: a multiple of KR, may be 0
  const void* a = nullptr;     ///< packed A panel slice: blocked_panel_layout<MR, KR>, kc deep
  index_t a_stride = 0;        ///< 0: `a` is that packed panel. > 0 (kernels with direct_a only):
                               ///< `a` is row 0 of the tile's activations as they are, already
                               ///< in a_type's encoding, K contiguous, row r at a + r * a_stride;
                               ///< the kernel reads rows < `rows` and kc elements of each, no more
  const void* const* a_rows = nullptr;  ///< direct_a kernels, instead of a / a_stride: row r of
                                        ///< the tile starts at a_rows[r] (an indirection buffer),
                                        ///< its K in runs of Kernel::direct_block elements, run j
                                        ///< at a_rows[r] + a_blocks[j] (a_blocks required)
  const index_t* a_blocks = nullptr;    ///< with a_rows: element offset of each K run of the slice
  const void* w = nullptr;     ///< packed W panel slice: the kernel's w_layout, kc deep
  bool accumulate = false;     ///< start from `partial` (an earlier K slice) instead of zero
  Acc* partial = nullptr;      ///< raw accumulators when `out` is null or `accumulate` is set
  index_t partial_stride = 0;  ///< row stride of `partial`, >= NR
  const gemm_output_tile* out = nullptr;  ///< output stage of the whole job; null: store raw
                                          ///< accumulators into `partial`
  index_t row0 = 0;            ///< the tile's first row in the job's output (and per-row arrays)
  index_t col0 = 0;            ///< the tile's first column in the job's output (and per-column arrays)
};

/// The micro-kernel of backend `Arch` for activations `A` and weights `W` (gemm_dtype tokens).
/// Specialisations provide (see gemm/reference.hpp for the scalar twin, gemm/avx512/ for VNNI):
///
///   static constexpr const char* name;      // "<dtypes>_<MR>x<NR>c<KR>__<arch>"
///   using arch = Arch;
///   static constexpr index_t mr, nr, kr;    // register tile and K group
///   using a_type, w_type, acc_type;         // packed element types, accumulator
///   using a_layout = blocked_panel_layout<mr, kr>;   // the driver packs A with it
///   using w_layout = blocked_panel_layout<nr, kr>;   // pack_weights packs W with it; a backend
///                                                    // with another order provides its own type
///                                                    // with the same two static functions
///   static constexpr int a_shift_from_qs8;  // integer kernels: int8 activations x become
///                                           // x + shift in a_type (0 or +128 via XOR 0x80);
///   static constexpr int a_shift_from_qu8;  // uint8 ones x + shift (0 or -128)
///   static constexpr index_t kc_block, mc_block, nc_block;  // cache blocking (kc_block % kr == 0,
///                                           // mc_block % mr == 0, nc_block % nr == 0)
///   static void run(const gemm_tile_args<acc_type>& args) noexcept;
///   static constexpr bool direct_a;         // optional: run() also reads unpacked activations
///                                           // (args.a_stride > 0 or args.a_rows); see
///   static constexpr index_t direct_block;  // kernel_direct_a_v; and the K run of a_blocks
///
/// Kernels are stateless: no allocation, no threads, no statics, no validation.
/// Finishing a tile (args.out set) goes through detail::finish_gemm_tile<Arch>, shared by all.
template <class Arch, class A, class W>
struct gemm_kernel;  // undefined: the registry falls back to the closest available backend

namespace detail {
template <class Kernel, class = void>
struct kernel_direct_a : std::false_type {};
template <class Kernel>
struct kernel_direct_a<Kernel, std::void_t<decltype(Kernel::direct_a)>> : std::bool_constant<Kernel::direct_a> {};
}  // namespace detail

/// True when Kernel::run reads activations in place (gemm_tile_args::a_stride / a_rows): a caller whose
/// activations are already in the kernel's encoding (uint8 for the VNNI kernel: qu8) and whose
/// K needs no padding can skip packing A.
template <class Kernel>
inline constexpr bool kernel_direct_a_v = detail::kernel_direct_a<Kernel>::value;

}  // namespace lightq
