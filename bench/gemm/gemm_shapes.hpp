// The GEMM benchmark shapes of issue 4, shared by lightq's GEMM benchmarks and the peers'.
//
// Convention: y[M,N] = x[M,K] * W[N,K]^T; names BM_gemm/<dtypes>/<impl>/M/N/K with dtypes
// f32, f16w_f32 (fp16 weights), qd8_qc8w, qs8_qc8w, qu8_qs8 (oneDNN u8s8s32), ...
#pragma once

#include <string>
#include <vector>

#include "bench_common.hpp"

namespace lightq::bench {

struct gemm_shape {
  long long m, n, k;
  const char* family;   ///< "square", "transformer", "mobilenet_v2_1x1", "gemv"
  bool memory_bound;    ///< batch-1 GEMV: rotate weight copies past the LLC, %peak of DRAM bandwidth
};

/// 1024^3; transformer M in {1,16,128,256} x 768 x 768 and 128 x 3072 x 768; the 1x1
/// convolutions of MobileNetV2 at 224x224 (M = H*W, N = output, K = input channels); batch-1
/// GEMV 1 x 8192 x 8192 whose weights exceed the LLC.
inline const std::vector<gemm_shape>& gemm_shapes() {
  static const std::vector<gemm_shape> shapes = {
      {1024, 1024, 1024, "square", false},
      {1, 768, 768, "transformer", false},
      {16, 768, 768, "transformer", false},
      {128, 768, 768, "transformer", false},
      {256, 768, 768, "transformer", false},
      {128, 3072, 768, "transformer", false},
      {12544, 96, 16, "mobilenet_v2_1x1", false},   // 112x112, expand 16 -> 96
      {3136, 24, 144, "mobilenet_v2_1x1", false},   // 56x56, project 144 -> 24
      {3136, 144, 24, "mobilenet_v2_1x1", false},   // 56x56, expand 24 -> 144
      {784, 32, 192, "mobilenet_v2_1x1", false},    // 28x28, project 192 -> 32
      {196, 384, 64, "mobilenet_v2_1x1", false},    // 14x14, expand 64 -> 384
      {49, 160, 960, "mobilenet_v2_1x1", false},    // 7x7, project 960 -> 160
      {49, 1280, 320, "mobilenet_v2_1x1", false},   // 7x7, last 1x1 320 -> 1280
      {1, 8192, 8192, "gemv", true},
  };
  return shapes;
}

/// The peak a GEMM benchmark's "%peak" is taken of: DRAM bandwidth for memory-bound shapes,
/// else the compute peak of its arithmetic (fp32 for f32 and fp16-weight GEMMs, int8 otherwise).
inline peak_kind gemm_peak_kind(const gemm_shape& s, bool integer_arithmetic) {
  if (s.memory_bound) return peak_kind::bandwidth;
  return integer_arithmetic ? peak_kind::int8 : peak_kind::fp32;
}

/// Number of weight copies a benchmark rotates through: several past the LLC for memory-bound
/// shapes, else one.
inline std::size_t gemm_weight_copies(const gemm_shape& s, std::size_t weight_bytes) {
  return s.memory_bound ? rotation_count(weight_bytes, out_of_cache_bytes()) : 1;
}

/// "BM_gemm/<dtypes>/<impl>/M/N/K"
inline std::string gemm_name(const std::string& dtypes, const std::string& impl, const gemm_shape& s) {
  return bench_name("gemm", dtypes, impl, {s.m, s.n, s.k});
}

}  // namespace lightq::bench
