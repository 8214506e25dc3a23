// OpenBLAS peer: fp32 GEMM (cblas_sgemm) and GEMV (cblas_sgemv), forced to one thread.
//
// y[M,N] = x[M,K] * W[N,K]^T, row-major; for M == 1 the GEMV form y = W x is the natural call.
// OPENBLAS_CORETYPE may be set on some machines (older builds misdetect them): it is left as
// is, and init() reports the core OpenBLAS actually runs. Available when
// LIGHTQ_BENCH_HAVE_OPENBLAS is defined (bench/CMakeLists.txt).
#pragma once

#if defined(LIGHTQ_BENCH_HAVE_OPENBLAS)
#include <cblas.h>

#include <cstdint>
#include <cstdlib>
#include <string>

// Declared by OpenBLAS's own cblas.h; repeated in case a generic cblas.h was found first.
extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace lightq::bench::peers::openblas {

inline constexpr const char* name = "openblas";

/// One-time set-up: one thread. Returns a description (config, core, OPENBLAS_CORETYPE).
inline std::string init() {
  static const std::string description = [] {
    openblas_set_num_threads(1);
    std::string s = std::string(openblas_get_config()) + ", core " + openblas_get_corename();
    if (const char* coretype = std::getenv("OPENBLAS_CORETYPE")) s += ", OPENBLAS_CORETYPE=" + std::string(coretype);
    return s;
  }();
  return description;
}

/// y[M,N] = x[M,K] * W[N,K]^T.
inline void sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* x, const float* w, float* y) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
              1.0f, x, static_cast<int>(k), w, static_cast<int>(k), 0.0f, y, static_cast<int>(n));
}

/// y[N] = W[N,K] * x[K].
inline void sgemv(std::int64_t n, std::int64_t k, const float* w, const float* x, float* y) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), static_cast<int>(k), 1.0f, w, static_cast<int>(k), x, 1,
              0.0f, y, 1);
}

}  // namespace lightq::bench::peers::openblas
#endif  // LIGHTQ_BENCH_HAVE_OPENBLAS
