// Peak-throughput probe: register-resident FMA / int8 dot-product loops and streaming bandwidth.
//
// The compute loops are inline asm so that g++ and clang++ both run exactly the intended
// instruction stream: N independent accumulators (more than latency x issue width), operands in
// registers, no loads, one counter decrement per unrolled body. Each probe is calibrated to run
// for a few milliseconds, repeated, and the median is kept (the best run is printed beside it).
#include "peak.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <ctime>

#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "lightq/core/arch.hpp"
#include "lightq/core/cpu_features.hpp"

#ifndef LIGHTQ_BENCH_FLAGS
#define LIGHTQ_BENCH_FLAGS "(unknown)"
#endif

namespace lightq::bench {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// This thread's CPU time: time spent descheduled (the machine is shared) does not count, as
// in Google Benchmark's default rates. Falls back to the wall clock.
double thread_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
#endif
  return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count();
}

// Keeps a value alive without the compiler proving anything about it.
template <class T>
void keep(const T& value) {
  static volatile unsigned char sink;
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  sink = static_cast<unsigned char>(sink ^ bytes[0] ^ bytes[sizeof(T) - 1]);
}

// ---------------------------------------------------------------------------------------------
// Compute kernels. Each runs `n` iterations of an unrolled body; `ops_per_iteration` below
// counts 2 ops per multiply-add lane (the GEMM convention: flop or int op).
// ---------------------------------------------------------------------------------------------
using kernel_fn = void (*)(std::int64_t n);

#if defined(__x86_64__)

// 16 dependent 1-cycle adds per iteration: iterations * 16 / seconds ~ core clock.
[[maybe_unused]] void clock_chain(std::int64_t n) {
  // Register-register adds: recent Intel cores fold chains of add-immediate in the renamer.
  std::uint64_t x = 0, one = 1;
  __asm__ volatile(
      ".p2align 5\n"
      "1:\n\t"
      "add %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\t"
      "add %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\t"
      "add %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\t"
      "add %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\tadd %[y], %[x]\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      : [n] "+r"(n), [x] "+r"(x)
      : [y] "r"(one)
      : "cc");
  keep(x);
}
constexpr double clock_chain_per_iteration = 16;

// Scalar backend on x86-64 (SSE2 is the baseline, so the compiler vectorises reference loops
// with it): 6 mulps and 6 addps chains on xmm (4 flops each; no FMA in SSE2).
[[maybe_unused]] void mul_add_xmm(std::int64_t n) {
  __asm__ volatile(
      "xorps %%xmm0, %%xmm0\n\txorps %%xmm1, %%xmm1\n\txorps %%xmm2, %%xmm2\n\t"
      "xorps %%xmm3, %%xmm3\n\txorps %%xmm4, %%xmm4\n\txorps %%xmm5, %%xmm5\n\t"
      "xorps %%xmm6, %%xmm6\n\txorps %%xmm7, %%xmm7\n\txorps %%xmm8, %%xmm8\n\t"
      "xorps %%xmm9, %%xmm9\n\txorps %%xmm10, %%xmm10\n\txorps %%xmm11, %%xmm11\n\t"
      "xorps %%xmm15, %%xmm15\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "mulps %%xmm15, %%xmm0\n\taddps %%xmm15, %%xmm6\n\tmulps %%xmm15, %%xmm1\n\taddps %%xmm15, %%xmm7\n\t"
      "mulps %%xmm15, %%xmm2\n\taddps %%xmm15, %%xmm8\n\tmulps %%xmm15, %%xmm3\n\taddps %%xmm15, %%xmm9\n\t"
      "mulps %%xmm15, %%xmm4\n\taddps %%xmm15, %%xmm10\n\tmulps %%xmm15, %%xmm5\n\taddps %%xmm15, %%xmm11\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm15");
}
[[maybe_unused]] constexpr double mul_add_xmm_ops = 12 * 4;

// Scalar backend, int8 data widened to int16: pmaddwd + paddd on xmm (8 multiply-adds per group).
[[maybe_unused]] void madd16_xmm(std::int64_t n) {
  __asm__ volatile(
      "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "movdqa %%xmm14, %%xmm0\n\tmovdqa %%xmm14, %%xmm1\n\tmovdqa %%xmm14, %%xmm2\n\t"
      "movdqa %%xmm14, %%xmm3\n\tmovdqa %%xmm14, %%xmm4\n\tmovdqa %%xmm14, %%xmm5\n\t"
      "pmaddwd %%xmm15, %%xmm0\n\tpmaddwd %%xmm15, %%xmm1\n\tpmaddwd %%xmm15, %%xmm2\n\t"
      "pmaddwd %%xmm15, %%xmm3\n\tpmaddwd %%xmm15, %%xmm4\n\tpmaddwd %%xmm15, %%xmm5\n\t"
      "paddd %%xmm0, %%xmm8\n\tpaddd %%xmm1, %%xmm9\n\tpaddd %%xmm2, %%xmm10\n\t"
      "paddd %%xmm3, %%xmm11\n\tpaddd %%xmm4, %%xmm12\n\tpaddd %%xmm5, %%xmm13\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15");
}
[[maybe_unused]] constexpr double madd16_xmm_ops = 6 * 8 * 2;

#if defined(__AVX2__) && defined(__FMA__)
// 12 ymm accumulators x vfmadd231ps (FMA latency 4-5, 2 per cycle: 8-10 needed).
[[maybe_unused]] void fma_ymm(std::int64_t n) {
  __asm__ volatile(
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\tvxorps %%ymm1, %%ymm1, %%ymm1\n\t"
      "vxorps %%ymm2, %%ymm2, %%ymm2\n\tvxorps %%ymm3, %%ymm3, %%ymm3\n\t"
      "vxorps %%ymm4, %%ymm4, %%ymm4\n\tvxorps %%ymm5, %%ymm5, %%ymm5\n\t"
      "vxorps %%ymm6, %%ymm6, %%ymm6\n\tvxorps %%ymm7, %%ymm7, %%ymm7\n\t"
      "vxorps %%ymm8, %%ymm8, %%ymm8\n\tvxorps %%ymm9, %%ymm9, %%ymm9\n\t"
      "vxorps %%ymm10, %%ymm10, %%ymm10\n\tvxorps %%ymm11, %%ymm11, %%ymm11\n\t"
      "vxorps %%ymm14, %%ymm14, %%ymm14\n\tvxorps %%ymm15, %%ymm15, %%ymm15\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm0\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm1\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm3\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm4\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm6\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm7\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm9\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %%ymm10\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm14", "xmm15");
}
[[maybe_unused]] constexpr double fma_ymm_ops = 12 * 8 * 2;

// The AVX2 int8 sequence: vpmaddubsw (u8 x s8 -> s16 pairs) + vpmaddwd (x 1 -> s32) + vpaddd.
// 6 independent groups; 32 multiply-adds (64 ops) per group.
[[maybe_unused]] void maddubs_ymm(std::int64_t n) {
  __asm__ volatile(
      "vpxor %%ymm6, %%ymm6, %%ymm6\n\tvpxor %%ymm7, %%ymm7, %%ymm7\n\t"
      "vpxor %%ymm8, %%ymm8, %%ymm8\n\tvpxor %%ymm9, %%ymm9, %%ymm9\n\t"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n\tvpxor %%ymm11, %%ymm11, %%ymm11\n\t"
      "vpcmpeqw %%ymm13, %%ymm13, %%ymm13\n\tvpsrlw $15, %%ymm13, %%ymm13\n\t"  // int16 ones
      "vpxor %%ymm14, %%ymm14, %%ymm14\n\tvpxor %%ymm15, %%ymm15, %%ymm15\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vpmaddubsw %%ymm15, %%ymm14, %%ymm0\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm1\n\t"
      "vpmaddubsw %%ymm15, %%ymm14, %%ymm2\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm3\n\t"
      "vpmaddubsw %%ymm15, %%ymm14, %%ymm4\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm5\n\t"
      "vpmaddwd %%ymm13, %%ymm0, %%ymm0\n\tvpmaddwd %%ymm13, %%ymm1, %%ymm1\n\t"
      "vpmaddwd %%ymm13, %%ymm2, %%ymm2\n\tvpmaddwd %%ymm13, %%ymm3, %%ymm3\n\t"
      "vpmaddwd %%ymm13, %%ymm4, %%ymm4\n\tvpmaddwd %%ymm13, %%ymm5, %%ymm5\n\t"
      "vpaddd %%ymm0, %%ymm6, %%ymm6\n\tvpaddd %%ymm1, %%ymm7, %%ymm7\n\t"
      "vpaddd %%ymm2, %%ymm8, %%ymm8\n\tvpaddd %%ymm3, %%ymm9, %%ymm9\n\t"
      "vpaddd %%ymm4, %%ymm10, %%ymm10\n\tvpaddd %%ymm5, %%ymm11, %%ymm11\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm13", "xmm14", "xmm15");
}
[[maybe_unused]] constexpr double maddubs_ymm_ops = 6 * 32 * 2;

// Exact int8 via int16: vpmaddwd (s16 x s16 pairs -> s32) + vpaddd. 8 groups, 16 multiply-adds
// (32 ops) per group.
[[maybe_unused]] void madd16_ymm(std::int64_t n) {
  __asm__ volatile(
      "vpxor %%ymm8, %%ymm8, %%ymm8\n\tvpxor %%ymm9, %%ymm9, %%ymm9\n\t"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n\tvpxor %%ymm11, %%ymm11, %%ymm11\n\t"
      "vpxor %%ymm12, %%ymm12, %%ymm12\n\tvpxor %%ymm13, %%ymm13, %%ymm13\n\t"
      "vpxor %%ymm6, %%ymm6, %%ymm6\n\tvpxor %%ymm7, %%ymm7, %%ymm7\n\t"
      "vpxor %%ymm14, %%ymm14, %%ymm14\n\tvpxor %%ymm15, %%ymm15, %%ymm15\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vpmaddwd %%ymm15, %%ymm14, %%ymm0\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm1\n\t"
      "vpmaddwd %%ymm15, %%ymm14, %%ymm2\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm3\n\t"
      "vpmaddwd %%ymm15, %%ymm14, %%ymm4\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm5\n\t"
      "vpaddd %%ymm0, %%ymm8, %%ymm8\n\tvpaddd %%ymm1, %%ymm9, %%ymm9\n\t"
      "vpaddd %%ymm2, %%ymm10, %%ymm10\n\tvpaddd %%ymm3, %%ymm11, %%ymm11\n\t"
      "vpaddd %%ymm4, %%ymm12, %%ymm12\n\tvpaddd %%ymm5, %%ymm13, %%ymm13\n\t"
      "vpmaddwd %%ymm15, %%ymm14, %%ymm0\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm1\n\t"
      "vpaddd %%ymm0, %%ymm6, %%ymm6\n\tvpaddd %%ymm1, %%ymm7, %%ymm7\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
[[maybe_unused]] constexpr double madd16_ymm_ops = 8 * 16 * 2;
#endif  // AVX2 + FMA

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
// 16 zmm accumulators x vfmadd231ps.
[[maybe_unused]] void fma_zmm(std::int64_t n) {
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\tvpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\tvpxord %%zmm3, %%zmm3, %%zmm3\n\t"
      "vpxord %%zmm4, %%zmm4, %%zmm4\n\tvpxord %%zmm5, %%zmm5, %%zmm5\n\t"
      "vpxord %%zmm6, %%zmm6, %%zmm6\n\tvpxord %%zmm7, %%zmm7, %%zmm7\n\t"
      "vpxord %%zmm8, %%zmm8, %%zmm8\n\tvpxord %%zmm9, %%zmm9, %%zmm9\n\t"
      "vpxord %%zmm10, %%zmm10, %%zmm10\n\tvpxord %%zmm11, %%zmm11, %%zmm11\n\t"
      "vpxord %%zmm12, %%zmm12, %%zmm12\n\tvpxord %%zmm13, %%zmm13, %%zmm13\n\t"
      "vpxord %%zmm14, %%zmm14, %%zmm14\n\tvpxord %%zmm15, %%zmm15, %%zmm15\n\t"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm0\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm1\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm2\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm3\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm4\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm5\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm6\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm7\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm8\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm9\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm10\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm11\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm12\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm13\n\t"
      "vfmadd231ps %%zmm30, %%zmm31, %%zmm14\n\tvfmadd231ps %%zmm30, %%zmm31, %%zmm15\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm30", "xmm31");
}
[[maybe_unused]] constexpr double fma_zmm_ops = 16 * 16 * 2;

// 16 zmm accumulators x vpdpbusd (u8 x s8, 4-way dot into s32; latency 5, 1-2 per cycle).
[[maybe_unused]] void vnni_zmm(std::int64_t n) {
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\tvpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\tvpxord %%zmm3, %%zmm3, %%zmm3\n\t"
      "vpxord %%zmm4, %%zmm4, %%zmm4\n\tvpxord %%zmm5, %%zmm5, %%zmm5\n\t"
      "vpxord %%zmm6, %%zmm6, %%zmm6\n\tvpxord %%zmm7, %%zmm7, %%zmm7\n\t"
      "vpxord %%zmm8, %%zmm8, %%zmm8\n\tvpxord %%zmm9, %%zmm9, %%zmm9\n\t"
      "vpxord %%zmm10, %%zmm10, %%zmm10\n\tvpxord %%zmm11, %%zmm11, %%zmm11\n\t"
      "vpxord %%zmm12, %%zmm12, %%zmm12\n\tvpxord %%zmm13, %%zmm13, %%zmm13\n\t"
      "vpxord %%zmm14, %%zmm14, %%zmm14\n\tvpxord %%zmm15, %%zmm15, %%zmm15\n\t"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm0\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm1\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm2\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm3\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm4\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm5\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm6\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm7\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm8\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm9\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm10\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm11\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm12\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm13\n\t"
      "vpdpbusd %%zmm30, %%zmm31, %%zmm14\n\tvpdpbusd %%zmm30, %%zmm31, %%zmm15\n\t"
      "sub $1, %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm30", "xmm31");
}
[[maybe_unused]] constexpr double vnni_zmm_ops = 16 * 64 * 2;
// The multiply-add with the loads of lightq's 12 x 32 tiles (VNNI and fp32): per K group two
// weight vectors and one broadcast per row, 14 loads per 24 multiply-adds, all in L1. What that
// tile can reach at best, against the register-only probes above. 24 accumulators zmm8..zmm31,
// weights in zmm0/zmm1, broadcasts rotating over zmm2..zmm7.
alignas(64) unsigned char tile_probe_operands[12 * 64 + 128];
#define LIGHTQ_TILE_PROBE_ZERO2(a, b) "vpxord %%zmm" #a ", %%zmm" #a ", %%zmm" #a "\n\tvpxord %%zmm" #b ", %%zmm" #b ", %%zmm" #b "\n\t"
#define LIGHTQ_TILE_PROBE_ROW(BCAST, OP, off, b, a0, a1) \
  BCAST " " #off "(%[p]), %%zmm" #b "\n\t" OP " %%zmm0, %%zmm" #b ", %%zmm" #a0 "\n\t" OP " %%zmm1, %%zmm" #b ", %%zmm" #a1 "\n\t"
#define LIGHTQ_TILE_LOADS_PROBE(name, LOAD, BCAST, OP)                                                          \
  [[maybe_unused]] void name(std::int64_t n) {                                                                  \
    const unsigned char* p = tile_probe_operands;                                                               \
    __asm__ volatile(LIGHTQ_TILE_PROBE_ZERO2(8, 9) LIGHTQ_TILE_PROBE_ZERO2(10, 11) LIGHTQ_TILE_PROBE_ZERO2(12, 13) \
                         LIGHTQ_TILE_PROBE_ZERO2(14, 15) LIGHTQ_TILE_PROBE_ZERO2(16, 17) LIGHTQ_TILE_PROBE_ZERO2(18, 19) \
                             LIGHTQ_TILE_PROBE_ZERO2(20, 21) LIGHTQ_TILE_PROBE_ZERO2(22, 23)                        \
                                 LIGHTQ_TILE_PROBE_ZERO2(24, 25) LIGHTQ_TILE_PROBE_ZERO2(26, 27)                    \
                                     LIGHTQ_TILE_PROBE_ZERO2(28, 29) LIGHTQ_TILE_PROBE_ZERO2(30, 31)                \
                     ".p2align 5\n1:\n\t" LOAD " 768(%[p]), %%zmm0\n\t" LOAD " 832(%[p]), %%zmm1\n\t"          \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 0, 2, 8, 9) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 64, 3, 10, 11) \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 128, 4, 12, 13) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 192, 5, 14, 15) \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 256, 6, 16, 17) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 320, 7, 18, 19) \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 384, 2, 20, 21) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 448, 3, 22, 23) \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 512, 4, 24, 25) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 576, 5, 26, 27) \
                         LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 640, 6, 28, 29) LIGHTQ_TILE_PROBE_ROW(BCAST, OP, 704, 7, 30, 31) \
                             "sub $1, %[n]\n\tjnz 1b\n\tvzeroupper\n\t"                                           \
                     : [n] "+r"(n)                                                                               \
                     : [p] "r"(p)                                                                                \
                     : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");  \
  }
LIGHTQ_TILE_LOADS_PROBE(vnni_tile_zmm, "vmovdqa64", "vpbroadcastd", "vpdpbusd")
LIGHTQ_TILE_LOADS_PROBE(fma_tile_zmm, "vmovaps", "vbroadcastss", "vfmadd231ps")
#undef LIGHTQ_TILE_LOADS_PROBE
#undef LIGHTQ_TILE_PROBE_ROW
#undef LIGHTQ_TILE_PROBE_ZERO2
[[maybe_unused]] constexpr double vnni_tile_zmm_ops = 24 * 64 * 2;
[[maybe_unused]] constexpr double fma_tile_zmm_ops = 24 * 16 * 2;
#endif  // AVX-512 VNNI

#elif defined(__aarch64__)

[[maybe_unused]] void clock_chain(std::int64_t n) {
  std::uint64_t x = 0;
  __asm__ volatile(
      "1:\n\t"
      "add %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\t"
      "add %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\t"
      "add %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\t"
      "add %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n), [x] "+r"(x)
      :
      : "cc");
  keep(x);
}
constexpr double clock_chain_per_iteration = 16;

// Scalar backend on AArch64 (+nosimd): 16 fmadd chains on s registers, 16 madd chains on w.
[[maybe_unused]] void fmadd_scalar(std::int64_t n) {
  __asm__ volatile(
      "fmov s0, wzr\n\tfmov s1, wzr\n\tfmov s2, wzr\n\tfmov s3, wzr\n\tfmov s4, wzr\n\tfmov s5, wzr\n\t"
      "fmov s6, wzr\n\tfmov s7, wzr\n\tfmov s16, wzr\n\tfmov s17, wzr\n\tfmov s18, wzr\n\tfmov s19, wzr\n\t"
      "fmov s20, wzr\n\tfmov s21, wzr\n\tfmov s22, wzr\n\tfmov s23, wzr\n\tfmov s30, wzr\n\tfmov s31, wzr\n\t"
      "1:\n\t"
      "fmadd s0, s30, s31, s0\n\tfmadd s1, s30, s31, s1\n\tfmadd s2, s30, s31, s2\n\tfmadd s3, s30, s31, s3\n\t"
      "fmadd s4, s30, s31, s4\n\tfmadd s5, s30, s31, s5\n\tfmadd s6, s30, s31, s6\n\tfmadd s7, s30, s31, s7\n\t"
      "fmadd s16, s30, s31, s16\n\tfmadd s17, s30, s31, s17\n\tfmadd s18, s30, s31, s18\n\tfmadd s19, s30, s31, s19\n\t"
      "fmadd s20, s30, s31, s20\n\tfmadd s21, s30, s31, s21\n\tfmadd s22, s30, s31, s22\n\tfmadd s23, s30, s31, s23\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",
        "v30", "v31");
}
[[maybe_unused]] constexpr double fmadd_scalar_ops = 16 * 2;

[[maybe_unused]] void madd_scalar(std::int64_t n) {
  std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  const std::uint64_t x = 3, y = 5;
  __asm__ volatile(
      "1:\n\t"
      "madd %w[a0], %w[x], %w[y], %w[a0]\n\tmadd %w[a1], %w[x], %w[y], %w[a1]\n\t"
      "madd %w[a2], %w[x], %w[y], %w[a2]\n\tmadd %w[a3], %w[x], %w[y], %w[a3]\n\t"
      "madd %w[a4], %w[x], %w[y], %w[a4]\n\tmadd %w[a5], %w[x], %w[y], %w[a5]\n\t"
      "madd %w[a6], %w[x], %w[y], %w[a6]\n\tmadd %w[a7], %w[x], %w[y], %w[a7]\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5),
        [a6] "+r"(a6), [a7] "+r"(a7)
      : [x] "r"(x), [y] "r"(y)
      : "cc");
  keep(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
}
[[maybe_unused]] constexpr double madd_scalar_ops = 8 * 2;

#if defined(__ARM_NEON)
// 16 q-register accumulators x fmla (latency 4, 2 per cycle on big cores: 8 needed).
[[maybe_unused]] void fma_neon(std::int64_t n) {
  __asm__ volatile(
      "movi v0.4s, #0\n\tmovi v1.4s, #0\n\tmovi v2.4s, #0\n\tmovi v3.4s, #0\n\t"
      "movi v4.4s, #0\n\tmovi v5.4s, #0\n\tmovi v6.4s, #0\n\tmovi v7.4s, #0\n\t"
      "movi v8.4s, #0\n\tmovi v9.4s, #0\n\tmovi v10.4s, #0\n\tmovi v11.4s, #0\n\t"
      "movi v12.4s, #0\n\tmovi v13.4s, #0\n\tmovi v14.4s, #0\n\tmovi v15.4s, #0\n\t"
      "movi v30.4s, #0\n\tmovi v31.4s, #0\n\t"
      "1:\n\t"
      "fmla v0.4s, v30.4s, v31.4s\n\tfmla v1.4s, v30.4s, v31.4s\n\t"
      "fmla v2.4s, v30.4s, v31.4s\n\tfmla v3.4s, v30.4s, v31.4s\n\t"
      "fmla v4.4s, v30.4s, v31.4s\n\tfmla v5.4s, v30.4s, v31.4s\n\t"
      "fmla v6.4s, v30.4s, v31.4s\n\tfmla v7.4s, v30.4s, v31.4s\n\t"
      "fmla v8.4s, v30.4s, v31.4s\n\tfmla v9.4s, v30.4s, v31.4s\n\t"
      "fmla v10.4s, v30.4s, v31.4s\n\tfmla v11.4s, v30.4s, v31.4s\n\t"
      "fmla v12.4s, v30.4s, v31.4s\n\tfmla v13.4s, v30.4s, v31.4s\n\t"
      "fmla v14.4s, v30.4s, v31.4s\n\tfmla v15.4s, v30.4s, v31.4s\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",
        "v14", "v15", "v30", "v31");
}
[[maybe_unused]] constexpr double fma_neon_ops = 16 * 4 * 2;

// Exact widening int8: smull (8 products -> s16) + smlal2 (8 more, summed in s16; exact for
// weights in [-127, 127]) + sadalp (pairwise add into s32). 8 groups, 16 multiply-adds each.
[[maybe_unused]] void smull_neon(std::int64_t n) {
  __asm__ volatile(
      "movi v0.4s, #0\n\tmovi v1.4s, #0\n\tmovi v2.4s, #0\n\tmovi v3.4s, #0\n\t"
      "movi v4.4s, #0\n\tmovi v5.4s, #0\n\tmovi v6.4s, #0\n\tmovi v7.4s, #0\n\t"
      "movi v30.16b, #0\n\tmovi v31.16b, #0\n\t"
      "1:\n\t"
      "smull v16.8h, v30.8b, v31.8b\n\tsmull v17.8h, v30.8b, v31.8b\n\t"
      "smull v18.8h, v30.8b, v31.8b\n\tsmull v19.8h, v30.8b, v31.8b\n\t"
      "smull v20.8h, v30.8b, v31.8b\n\tsmull v21.8h, v30.8b, v31.8b\n\t"
      "smull v22.8h, v30.8b, v31.8b\n\tsmull v23.8h, v30.8b, v31.8b\n\t"
      "smlal2 v16.8h, v30.16b, v31.16b\n\tsmlal2 v17.8h, v30.16b, v31.16b\n\t"
      "smlal2 v18.8h, v30.16b, v31.16b\n\tsmlal2 v19.8h, v30.16b, v31.16b\n\t"
      "smlal2 v20.8h, v30.16b, v31.16b\n\tsmlal2 v21.8h, v30.16b, v31.16b\n\t"
      "smlal2 v22.8h, v30.16b, v31.16b\n\tsmlal2 v23.8h, v30.16b, v31.16b\n\t"
      "sadalp v0.4s, v16.8h\n\tsadalp v1.4s, v17.8h\n\tsadalp v2.4s, v18.8h\n\tsadalp v3.4s, v19.8h\n\t"
      "sadalp v4.4s, v20.8h\n\tsadalp v5.4s, v21.8h\n\tsadalp v6.4s, v22.8h\n\tsadalp v7.4s, v23.8h\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "v20", "v21",
        "v22", "v23", "v30", "v31");
}
[[maybe_unused]] constexpr double smull_neon_ops = 8 * 16 * 2;

#if defined(__ARM_FEATURE_DOTPROD)
// 16 accumulators x sdot (4-way s8 dot into s32 lanes).
[[maybe_unused]] void sdot_neon(std::int64_t n) {
  __asm__ volatile(
      "movi v0.4s, #0\n\tmovi v1.4s, #0\n\tmovi v2.4s, #0\n\tmovi v3.4s, #0\n\t"
      "movi v4.4s, #0\n\tmovi v5.4s, #0\n\tmovi v6.4s, #0\n\tmovi v7.4s, #0\n\t"
      "movi v8.4s, #0\n\tmovi v9.4s, #0\n\tmovi v10.4s, #0\n\tmovi v11.4s, #0\n\t"
      "movi v12.4s, #0\n\tmovi v13.4s, #0\n\tmovi v14.4s, #0\n\tmovi v15.4s, #0\n\t"
      "movi v30.16b, #0\n\tmovi v31.16b, #0\n\t"
      "1:\n\t"
      "sdot v0.4s, v30.16b, v31.16b\n\tsdot v1.4s, v30.16b, v31.16b\n\t"
      "sdot v2.4s, v30.16b, v31.16b\n\tsdot v3.4s, v30.16b, v31.16b\n\t"
      "sdot v4.4s, v30.16b, v31.16b\n\tsdot v5.4s, v30.16b, v31.16b\n\t"
      "sdot v6.4s, v30.16b, v31.16b\n\tsdot v7.4s, v30.16b, v31.16b\n\t"
      "sdot v8.4s, v30.16b, v31.16b\n\tsdot v9.4s, v30.16b, v31.16b\n\t"
      "sdot v10.4s, v30.16b, v31.16b\n\tsdot v11.4s, v30.16b, v31.16b\n\t"
      "sdot v12.4s, v30.16b, v31.16b\n\tsdot v13.4s, v30.16b, v31.16b\n\t"
      "sdot v14.4s, v30.16b, v31.16b\n\tsdot v15.4s, v30.16b, v31.16b\n\t"
      "subs %[n], %[n], #1\n\t"
      "b.ne 1b\n\t"
      : [n] "+r"(n)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",
        "v14", "v15", "v30", "v31");
}
[[maybe_unused]] constexpr double sdot_neon_ops = 16 * 16 * 2;
#endif  // dotprod
#endif  // NEON
#endif  // x86-64 / aarch64

// Plain C++ (scalar backend and unknown targets): what the compiler makes of an unrolled
// multiply-add recurrence under the backend's flags (SSE2 on x86, scalar on AArch64 +nosimd).
[[maybe_unused]] void fma_generic(std::int64_t n) {
  volatile float va = 0.999f, vb = 0.001f;
  const float a = va, b = vb;
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = static_cast<float>(i);
  for (std::int64_t it = 0; it < n; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * a + b;
  float s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i];
  keep(s);
}
[[maybe_unused]] constexpr double fma_generic_ops = 16 * 2;

[[maybe_unused]] void int_generic(std::int64_t n) {
  volatile std::int32_t va = 3, vb = 7;
  const std::int32_t a = va, b = vb;
  std::uint32_t acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = static_cast<std::uint32_t>(i);
  for (std::int64_t it = 0; it < n; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b);
  std::uint32_t s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i];
  keep(s);
}
[[maybe_unused]] constexpr double int_generic_ops = 16 * 2;

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------
double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  if (n == 0) return 0;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// LIGHTQ_BENCH_QUICK=1 (bench/run.sh --quick): fewer, shorter probe runs.
bool quick_mode() {
  const char* env = std::getenv("LIGHTQ_BENCH_QUICK");
  return env && *env && std::strcmp(env, "0") != 0;
}

constexpr int kRuns = 7;
constexpr double kRunSeconds = 0.008;

struct rates {
  double median, best;
};

// Calibrates the iteration count to ~kRunSeconds, then times kRuns runs. Returns per-second
// rates of `ops_per_iteration * iterations` (median, best).
rates time_kernel(kernel_fn fn, double ops_per_iteration) {
  std::int64_t n = 1000;
  double t = 0;
  for (;;) {  // also warms the unit up (AVX-512 frequency license, caches, page tables)
    const double t0 = thread_seconds();
    fn(n);
    t = thread_seconds() - t0;
    if (t >= kRunSeconds / 2 || n > (std::int64_t(1) << 40)) break;
    n *= t > 0 ? std::max<std::int64_t>(2, static_cast<std::int64_t>(kRunSeconds / t)) : 16;
  }
  n = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(n) * kRunSeconds / std::max(t, 1e-9)));
  std::vector<double> per_run;
  const int runs = quick_mode() ? 3 : kRuns;
  for (int r = 0; r < runs; ++r) {
    const double t0 = thread_seconds();
    fn(n);
    const double s = thread_seconds() - t0;
    per_run.push_back(ops_per_iteration * static_cast<double>(n) / std::max(s, 1e-12));
  }
  return {median_of(per_run), *std::max_element(per_run.begin(), per_run.end())};
}

// ---------------------------------------------------------------------------------------------
// Memory bandwidth
// ---------------------------------------------------------------------------------------------
struct big_buffer {
  unsigned char* data = nullptr;
  std::size_t bytes = 0;
  void* mapping = nullptr;
  std::size_t mapped = 0;
  explicit big_buffer(std::size_t n) : bytes(n) {
#if defined(__linux__)
    // 2 MiB-aligned so transparent huge pages can back it: fewer TLB misses, and first touch
    // costs far less kernel time than 4 KiB faults.
    constexpr std::size_t huge = std::size_t(2) << 20;
    mapped = n + huge;
    mapping = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) mapping = nullptr;
    if (mapping) {
      const auto address = reinterpret_cast<std::uintptr_t>(mapping);
      data = reinterpret_cast<unsigned char*>((address + huge - 1) / huge * huge);
#if defined(MADV_HUGEPAGE)
      madvise(data, n, MADV_HUGEPAGE);  // best effort
#endif
    }
#else
    data = static_cast<unsigned char*>(std::malloc(n));
#endif
    if (data) std::memset(data, 1, n);  // first touch: every page is really backed
  }
  ~big_buffer() {
#if defined(__linux__)
    if (mapping) munmap(mapping, mapped);
#else
    std::free(data);
#endif
  }
  big_buffer(const big_buffer&) = delete;
  big_buffer& operator=(const big_buffer&) = delete;
};

// Widest vector of the flags (zmm / ymm / xmm / q), via GCC vector extensions (g++ and clang++).
#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX2__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif
typedef long long vec_t __attribute__((vector_size(kVectorBytes), aligned(kVectorBytes)));

// Reads every byte once: 8 independent xor chains of `Bytes`-wide loads keep the loads in flight.
// The width matters at DRAM speed (here xmm loops streamed ~10% faster than zmm ones, the
// hardware prefetchers being what they are), so the probe tries each width it can and keeps
// the best: a kernel should not beat "the peak".
typedef long long vec16_t __attribute__((vector_size(16), aligned(16)));
#if defined(__AVX2__)
typedef long long vec32_t __attribute__((vector_size(32), aligned(32)));
#endif
#if defined(__AVX512F__)
typedef long long vec64_t __attribute__((vector_size(64), aligned(64)));
#endif

template <class v_t>
std::uint64_t read_stream_width(const unsigned char* p, std::size_t bytes) {
  constexpr int Bytes = static_cast<int>(sizeof(v_t));
  const v_t* v = reinterpret_cast<const v_t*>(p);
  const std::size_t count = bytes / sizeof(v_t) / 8 * 8;
  v_t a0 = {}, a1 = {}, a2 = {}, a3 = {}, a4 = {}, a5 = {}, a6 = {}, a7 = {};
  for (std::size_t i = 0; i < count; i += 8) {
    a0 ^= v[i + 0];
    a1 ^= v[i + 1];
    a2 ^= v[i + 2];
    a3 ^= v[i + 3];
    a4 ^= v[i + 4];
    a5 ^= v[i + 5];
    a6 ^= v[i + 6];
    a7 ^= v[i + 7];
  }
  const v_t s = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
  std::uint64_t r = 0;
  for (int i = 0; i < Bytes / 8; ++i) r ^= static_cast<std::uint64_t>(s[i]);
  return r;
}

using read_fn = std::uint64_t (*)(const unsigned char*, std::size_t);
struct read_variant {
  int bytes;
  read_fn fn;
};
// Widest first; 16-byte vectors exist everywhere (SSE2, NEON; scalar code under +nosimd).
const read_variant read_variants[] = {
#if defined(__AVX512F__)
    {64, read_stream_width<vec64_t>},
#endif
#if defined(__AVX2__)
    {32, read_stream_width<vec32_t>},
#endif
    {16, read_stream_width<vec16_t>},
};

// Copies with ordinary (write-allocate) vector stores: what a streaming kernel that does not
// use non-temporal stores can reach (each destination line is read before it is written).
void copy_stream(unsigned char* dst, const unsigned char* src, std::size_t bytes) {
  const vec_t* s = reinterpret_cast<const vec_t*>(src);
  vec_t* d = reinterpret_cast<vec_t*>(dst);
  const std::size_t count = bytes / sizeof(vec_t) / 4 * 4;
  for (std::size_t i = 0; i < count; i += 4) {
    const vec_t a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];
    d[i] = a;
    d[i + 1] = b;
    d[i + 2] = c;
    d[i + 3] = e;
  }
}

constexpr int kBandwidthRuns = 5;

// ---------------------------------------------------------------------------------------------
// Machine description
// ---------------------------------------------------------------------------------------------
std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::size_t parse_cache_size(const std::string& s) {
  if (s.empty()) return 0;
  std::size_t value = std::strtoull(s.c_str(), nullptr, 10);
  const char suffix = s.back();
  if (suffix == 'K') value <<= 10;
  if (suffix == 'M') value <<= 20;
  if (suffix == 'G') value <<= 30;
  return value;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string compiler_name() {
#if defined(__clang__)
  return std::string("clang++ ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown compiler";
#endif
}

std::string format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

machine_peaks measure() {
  const auto t_start = clock_type::now();
  const double cpu_start = thread_seconds();
  machine_peaks p{};
  p.arch = lightq::default_arch::name;
  p.compiler = compiler_name();
  p.flags = LIGHTQ_BENCH_FLAGS;
  p.cpu_model = cpu_model_name();
  p.llc_bytes = llc_size_bytes();

#if defined(__x86_64__) || defined(__aarch64__)
  {
    const auto [ghz_median, ghz_best] = time_kernel(clock_chain, clock_chain_per_iteration);
    (void)ghz_best;
    p.clock_ghz = ghz_median * 1e-9;
  }
#endif
  auto add = [&](const char* name, const char* unit, kernel_fn fn, double ops) {
    const auto [median, best] = time_kernel(fn, ops);
    peak_measurement m;
    m.name = name;
    m.unit = unit;
    m.median = median * 1e-9;
    m.best = best * 1e-9;
    m.ops_per_cycle = p.clock_ghz > 0 ? m.median / p.clock_ghz : 0;
    p.measurements.push_back(m);
    return m.median;
  };

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VNNI__)
  p.fp32_gflops = add("fp32 FMA vfmadd231ps zmm", "GFLOP/s", fma_zmm, fma_zmm_ops);
  add("fp32 FMA vfmadd231ps zmm, 12x32 tile loads (L1)", "GFLOP/s", fma_tile_zmm, fma_tile_zmm_ops);
  p.int8_gops = add("int8 VNNI vpdpbusd zmm", "GOP/s", vnni_zmm, vnni_zmm_ops);
  add("int8 VNNI vpdpbusd zmm, 12x32 tile loads (L1)", "GOP/s", vnni_tile_zmm, vnni_tile_zmm_ops);
#elif defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
  p.fp32_gflops = add("fp32 FMA vfmadd231ps ymm", "GFLOP/s", fma_ymm, fma_ymm_ops);
  p.int8_maddubs_gops = add("int8 vpmaddubsw+vpmaddwd+vpaddd ymm", "GOP/s", maddubs_ymm, maddubs_ymm_ops);
  p.int16_madd_gops = add("int8 via int16 vpmaddwd+vpaddd ymm", "GOP/s", madd16_ymm, madd16_ymm_ops);
  p.int8_gops = p.int8_maddubs_gops;
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
  p.fp32_gflops = add("fp32 FMA fmla v.4s", "GFLOP/s", fma_neon, fma_neon_ops);
  p.int8_gops = add("int8 sdot v.4s", "GOP/s", sdot_neon, sdot_neon_ops);
  add("int8 smull+smlal2+sadalp", "GOP/s", smull_neon, smull_neon_ops);
#elif defined(__aarch64__) && defined(__ARM_NEON)
  p.fp32_gflops = add("fp32 FMA fmla v.4s", "GFLOP/s", fma_neon, fma_neon_ops);
  p.int8_gops = add("int8 smull+smlal2+sadalp", "GOP/s", smull_neon, smull_neon_ops);
#elif defined(__x86_64__)
  // scalar backend: SSE2, the x86-64 baseline the compiler vectorises reference loops with.
  p.fp32_gflops = add("fp32 mulps+addps xmm (SSE2, no FMA)", "GFLOP/s", mul_add_xmm, mul_add_xmm_ops);
  p.int8_gops = add("int8 via int16 pmaddwd+paddd xmm (SSE2)", "GOP/s", madd16_xmm, madd16_xmm_ops);
  p.int16_madd_gops = p.int8_gops;
#elif defined(__aarch64__)
  // scalar backend (+nosimd): scalar fmadd / madd.
  p.fp32_gflops = add("fp32 fmadd s (scalar)", "GFLOP/s", fmadd_scalar, fmadd_scalar_ops);
  p.int8_gops = add("int32 madd w (scalar)", "GOP/s", madd_scalar, madd_scalar_ops);
#else
  p.fp32_gflops = add("fp32 mul+add (compiler, scalar flags)", "GFLOP/s", fma_generic, fma_generic_ops);
  p.int8_gops = add("int32 mul+add (compiler, scalar flags)", "GOP/s", int_generic, int_generic_ops);
#endif

  // Bandwidth: one buffer of twice the LLC, at least 256 MiB and at most 512 MiB (page-faulting
  // more costs seconds; on the VMs measured, reads beyond ~96 MiB already ran at DRAM speed
  // whatever LLC size the OS reported). Copies are half of it each way: large enough for
  // glibc's memcpy to take its non-temporal-store path (its threshold scales with the LLC the
  // OS reports; below it, memcpy here ran at ~14.5 instead of ~25 GB/s).
  std::size_t bytes = std::max<std::size_t>(std::size_t(256) << 20, 2 * p.llc_bytes);
  bytes = std::min<std::size_t>(bytes, std::size_t(512) << 20);
  if (const char* env = std::getenv("LIGHTQ_BENCH_BANDWIDTH_MIB")) {
    const std::size_t mib = std::strtoull(env, nullptr, 10);
    if (mib >= 16) bytes = mib << 20;
  }
  bytes = bytes / 4096 * 4096;
  big_buffer buffer(bytes);
  p.bandwidth_buffer_bytes = bytes;
  if (buffer.data) {
    std::uint64_t checksum = read_variants[0].fn(buffer.data, bytes);  // warm-up pass
    for (const read_variant& variant : read_variants) {
      std::vector<double> read_rates;
      for (int r = 0; r < (quick_mode() ? 3 : kBandwidthRuns); ++r) {
        const double t0 = thread_seconds();
        checksum += variant.fn(buffer.data, bytes);
        read_rates.push_back(static_cast<double>(bytes) / (thread_seconds() - t0) * 1e-9);
      }
      peak_measurement m{"DRAM read, one core (" + std::to_string(bytes >> 20) + " MiB, " +
                             std::to_string(variant.bytes * 8) + "-bit loads)",
                         "GB/s", median_of(read_rates), *std::max_element(read_rates.begin(), read_rates.end()), 0};
      p.dram_read_gbs = std::max(p.dram_read_gbs, m.median);  // the best loop is the peak
      p.measurements.push_back(m);
    }
    keep(checksum);

    const std::size_t half = bytes / 2;
    std::memcpy(buffer.data + half, buffer.data, half);  // warm-up pass
    std::vector<double> copy_rates;
    for (int r = 0; r < (quick_mode() ? 3 : kBandwidthRuns); ++r) {
      const double t0 = thread_seconds();
      std::memcpy(buffer.data + half, buffer.data, half);
      const double s = thread_seconds() - t0;
      keep(buffer.data[half + (static_cast<std::size_t>(r) * 4099) % half]);
      copy_rates.push_back(2.0 * static_cast<double>(half) / s * 1e-9);
    }
    peak_measurement c{"memcpy, read+write bytes (" + std::to_string(half >> 20) + " MiB -> " +
                           std::to_string(half >> 20) + " MiB)",
                       "GB/s", median_of(copy_rates), *std::max_element(copy_rates.begin(), copy_rates.end()), 0};
    p.copy_gbs = c.median;
    p.measurements.push_back(c);

    copy_stream(buffer.data + half, buffer.data, half);  // warm-up pass
    std::vector<double> store_rates;
    for (int r = 0; r < (quick_mode() ? 3 : kBandwidthRuns); ++r) {
      const double t0 = thread_seconds();
      copy_stream(buffer.data + half, buffer.data, half);
      const double s = thread_seconds() - t0;
      keep(buffer.data[half + (static_cast<std::size_t>(r) * 4099) % half]);
      store_rates.push_back(2.0 * static_cast<double>(half) / s * 1e-9);
    }
    peak_measurement cs{"copy loop, ordinary stores, read+write bytes", "GB/s", median_of(store_rates),
                        *std::max_element(store_rates.begin(), store_rates.end()), 0};
    p.copy_store_gbs = cs.median;
    p.measurements.push_back(cs);
  }
  p.probe_seconds = seconds_since(t_start);
  p.probe_cpu_seconds = thread_seconds() - cpu_start;
  return p;
}

}  // namespace

std::size_t llc_size_bytes() {
  std::size_t best = 0;
  int best_level = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    const std::string level = read_first_line(dir + "level");
    if (level.empty()) continue;
    const std::string type = read_first_line(dir + "type");
    if (type == "Instruction") continue;
    const int lvl = std::atoi(level.c_str());
    const std::size_t size = parse_cache_size(read_first_line(dir + "size"));
    if (lvl > best_level || (lvl == best_level && size > best)) {
      best_level = lvl;
      best = size;
    }
  }
#if defined(_SC_LEVEL3_CACHE_SIZE)
  if (best == 0) {
    const long s = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (s > 0) best = static_cast<std::size_t>(s);
  }
#endif
  return best ? best : std::size_t(32) << 20;
}

bool cpu_runs_this_backend() { return lightq::cpu_supports<lightq::default_arch>(); }

const machine_peaks& peaks() {
  static const machine_peaks p = measure();
  return p;
}

std::string describe_peaks(const machine_peaks& p) {
  std::ostringstream out;
  out << "lightq peak probe (single thread, thread CPU time, medians of " << (quick_mode() ? 3 : kRuns)
      << " compute / " << (quick_mode() ? 3 : kBandwidthRuns) << " bandwidth runs; best in brackets)\n";
  out << "  backend   : " << p.arch << "\n";
  out << "  cpu       : " << p.cpu_model << "  (best lightq backend here: " << lightq::best_cpu_arch_name() << ")\n";
  out << "  compiler  : " << p.compiler << "\n";
  out << "  flags     : " << p.flags << "\n";
  out << "  LLC       : " << (p.llc_bytes >> 20) << " MiB (as the OS reports it)";
  if (p.clock_ghz > 0) out << format("   core clock ~%.2f GHz (dependent-add chain)", p.clock_ghz);
  out << "\n";
  for (const auto& m : p.measurements) {
    char line[256];
    if (m.ops_per_cycle > 0)
      std::snprintf(line, sizeof line, "  %-48s %9.1f %-7s [%8.1f]  %6.1f /cycle\n", m.name.c_str(), m.median,
                    m.unit.c_str(), m.best, m.ops_per_cycle);
    else
      std::snprintf(line, sizeof line, "  %-48s %9.1f %-7s [%8.1f]\n", m.name.c_str(), m.median, m.unit.c_str(),
                    m.best);
    out << line;
  }
  out << format("  probe took %.2f s (%.2f s of CPU time; the rest is the machine being shared)\n", p.probe_seconds,
                p.probe_cpu_seconds);
  return out.str();
}

std::uint64_t read_stream(const unsigned char* p, std::size_t bytes) {
  return read_stream_width<vec_t>(p, bytes);
}

}  // namespace lightq::bench
