// Peak-throughput probe: this machine's single-thread FMA, int8 dot-product and memory peaks.
//
// Every benchmark executable is built for one lightq backend (its compiler flags); the probe
// measures the peaks *of that backend* on the CPU it runs on, once, before the benchmarks, so
// kernels can report "% of peak" against numbers taken in the same process and the same run.
// Nothing here depends on Google Benchmark, so the probe also builds (and runs) on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lightq::bench {

/// One measured peak: the median and the best of several short runs.
struct peak_measurement {
  std::string name;         ///< what was measured, e.g. "fp32 FMA vfmadd231ps zmm"
  std::string unit;         ///< "GFLOP/s", "GOP/s" or "GB/s"
  double median = 0;        ///< median over the runs (the value benchmarks compare against)
  double best = 0;          ///< best run (an upper bound on a shared, noisy machine)
  double ops_per_cycle = 0; ///< per core clock, when the clock could be estimated; else 0
};

/// The peaks of this executable's backend on this machine, single thread.
struct machine_peaks {
  double fp32_gflops;    ///< fp32 FMA peak (2 flop per lane and FMA), GFLOP/s
  double int8_gops;      ///< int8 dot-product peak of the backend (2 op per multiply-add), GOP/s
  double dram_read_gbs;  ///< one-core read bandwidth on buffers far beyond the LLC, GB/s
  double copy_gbs;       ///< memcpy bandwidth, bytes read + bytes written per second, GB/s
  const char* arch;      ///< lightq backend name of this executable ("avx512_vnni", ...)

  // --- added beyond the minimal API ---
  double int8_maddubs_gops = 0;  ///< avx2: vpmaddubsw+vpmaddwd+vpaddd ymm (0 elsewhere)
  double int16_madd_gops = 0;    ///< avx2: vpmaddwd+vpaddd ymm on int16 (exact int8 via int16; 0 elsewhere)
  double copy_store_gbs = 0;      ///< copy loop with ordinary (write-allocate) stores, read + write bytes/s
  double clock_ghz = 0;          ///< estimated core clock from a dependent-add chain (0 if unknown)
  std::size_t llc_bytes = 0;     ///< last-level cache size as the OS reports it
  std::size_t bandwidth_buffer_bytes = 0;  ///< buffer size the bandwidth probe streamed
  double probe_seconds = 0;      ///< wall time the whole probe took
  double probe_cpu_seconds = 0;  ///< CPU time of the probe's thread
  std::string compiler;          ///< compiler name and version
  std::string flags;             ///< backend compiler flags of this executable
  std::string cpu_model;         ///< /proc/cpuinfo model name (or "unknown")
  std::vector<peak_measurement> measurements;  ///< everything measured, for printing
};

/// The peaks, measured on first call (about 1-2 s) and cached for the process.
const machine_peaks& peaks();

/// A readable multi-line block describing the machine, compiler and peaks.
std::string describe_peaks(const machine_peaks& p);

/// Last-level cache size in bytes (sysfs, then sysconf, else 32 MiB).
std::size_t llc_size_bytes();

/// Reads every byte of [p, p + bytes) once with the widest vectors of this executable's flags
/// (8 independent xor chains) and returns a checksum: the loop the DRAM-read probe times.
std::uint64_t read_stream(const unsigned char* p, std::size_t bytes);

/// True when the CPU running this process can execute this executable's backend.
bool cpu_runs_this_backend();

}  // namespace lightq::bench
