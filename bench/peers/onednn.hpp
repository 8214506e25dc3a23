// oneDNN peer: fp32 and int8 GEMM through the C GEMM API (dnnl_sgemm, dnnl_gemm_u8s8s32/s8s8s32).
//
// Layout convention of every lightq GEMM benchmark: y[M,N] = x[M,K] * W[N,K]^T, row-major, so
// W is passed transposed ('T'). These calls pack internally on every call (no prepacked
// weights): they are oneDNN's plain BLAS-like entry points, single-threaded via OpenMP.
// Available when LIGHTQ_BENCH_HAVE_DNNL is defined (bench/CMakeLists.txt).
#pragma once

#if defined(LIGHTQ_BENCH_HAVE_DNNL)
#include <dnnl.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "peers/peer_threads.hpp"

namespace lightq::bench::peers::onednn {

inline constexpr const char* name = "onednn";

/// Name of oneDNN's effective (highest usable) ISA; DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI in the
/// environment caps it (e.g. to keep AMX out of a comparison with VNNI kernels).
inline std::string isa_name(int isa) {
  switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    case 0x407: return "avx2_vnni";
    default: return "isa code " + std::to_string(isa);
  }
}

/// Caps oneDNN's ISA at AVX-512 VNNI (unless DNNL_MAX_CPU_ISA is set in the environment): on a
/// CPU with AMX, oneDNN's int8 primitives (its convolutions; its GEMM where it would) otherwise
/// run AMX tiles, an instruction class lightq has no backend for (its %peak is of vpdpbusd).
/// Must run before the first primitive or ISA query (oneDNN fixes the ISA then); returns the cap
/// applied ("" when the environment decides).
inline std::string cap_isa_at_avx512_vnni() {
  static const std::string cap = [] {
    if (std::getenv("DNNL_MAX_CPU_ISA")) return std::string();
    return dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx512_core_vnni) == dnnl_success ? std::string("avx512_core_vnni")
                                                                               : std::string();
  }();
  return cap;
}

/// One-time set-up: one OpenMP thread, the ISA capped at AVX-512 VNNI (the same cap as the conv
/// primitives: lightq's %peak is of vpdpbusd). Returns a description for the JSON context.
inline std::string init() {
  static const std::string description = [] {
    cap_isa_at_avx512_vnni();
    openmp_single_thread();
    const dnnl_version_t* v = dnnl_version();
    std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                    std::to_string(v->patch) + ", C GEMM API (packs per call), max ISA " +
                    isa_name(static_cast<int>(dnnl_get_effective_cpu_isa())) +
                    (v->cpu_runtime == DNNL_RUNTIME_OMP ? ", OpenMP runtime set to 1 thread" : "");
    return s;
  }();
  return description;
}

/// y[M,N] = x[M,K] * W[N,K]^T, fp32. Returns false when oneDNN reports an error.
inline bool sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* x, const float* w, float* y) {
  return dnnl_sgemm('N', 'T', m, n, k, 1.0f, x, k, w, k, 0.0f, y, n) == dnnl_success;
}

/// y[M,N] = x[M,K] (uint8, zero point x_zero) * W[N,K]^T (int8) -> int32.
inline bool gemm_u8s8s32(std::int64_t m, std::int64_t n, std::int64_t k, const std::uint8_t* x,
                         std::uint8_t x_zero, const std::int8_t* w, std::int32_t* y) {
  const std::int32_t c_offset = 0;
  return dnnl_gemm_u8s8s32('N', 'T', 'F', m, n, k, 1.0f, x, k, x_zero, w, k, 0, 0.0f, y, n, &c_offset) ==
         dnnl_success;
}

/// y[M,N] = x[M,K] (int8, zero point x_zero) * W[N,K]^T (int8) -> int32.
inline bool gemm_s8s8s32(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* x, std::int8_t x_zero,
                         const std::int8_t* w, std::int32_t* y) {
  const std::int32_t c_offset = 0;
  return dnnl_gemm_s8s8s32('N', 'T', 'F', m, n, k, 1.0f, x, k, x_zero, w, k, 0, 0.0f, y, n, &c_offset) ==
         dnnl_success;
}

}  // namespace lightq::bench::peers::onednn
#endif  // LIGHTQ_BENCH_HAVE_DNNL
