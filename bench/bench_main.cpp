// Entry point of every lightq benchmark executable: checks the CPU, measures and prints this
// machine's peaks for the executable's backend, records them in the JSON context, then runs.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "bench_common.hpp"
#include "lightq/core/cpu_features.hpp"

#ifndef LIGHTQ_BENCH_MODULE
#define LIGHTQ_BENCH_MODULE "unknown"
#endif

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void add_context(const lightq::bench::machine_peaks& p) {
  using benchmark::AddCustomContext;
  AddCustomContext("lightq_module", LIGHTQ_BENCH_MODULE);
  AddCustomContext("lightq_arch", p.arch);
  AddCustomContext("lightq_compiler", p.compiler);
  AddCustomContext("lightq_flags", p.flags);
  AddCustomContext("lightq_cpu", p.cpu_model);
  AddCustomContext("lightq_best_cpu_arch", lightq::best_cpu_arch_name());
  AddCustomContext("lightq_llc_bytes", std::to_string(p.llc_bytes));
  AddCustomContext("lightq_clock_ghz", number(p.clock_ghz));
  AddCustomContext("lightq_peak_fp32_gflops", number(p.fp32_gflops));
  AddCustomContext("lightq_peak_int8_gops", number(p.int8_gops));
  AddCustomContext("lightq_peak_int8_maddubs_gops", number(p.int8_maddubs_gops));
  AddCustomContext("lightq_peak_int16_madd_gops", number(p.int16_madd_gops));
  AddCustomContext("lightq_peak_dram_read_gbs", number(p.dram_read_gbs));
  AddCustomContext("lightq_peak_copy_gbs", number(p.copy_gbs));
  AddCustomContext("lightq_peak_copy_store_gbs", number(p.copy_store_gbs));
  AddCustomContext("lightq_bandwidth_buffer_bytes", std::to_string(p.bandwidth_buffer_bytes));
  int i = 0;
  for (const auto& m : p.measurements) {
    AddCustomContext("lightq_probe_" + std::to_string(i++),
                     m.name + " | " + m.unit + " | median " + number(m.median) + " | best " + number(m.best));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--benchmark_list_tests", 22) == 0 && std::strstr(argv[i], "=false") == nullptr)
      listing = true;

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const char* arch = lightq::default_arch::name;
  if (!lightq::bench::cpu_runs_this_backend()) {
    std::printf("lightq bench: SKIPPED %s on backend %s: this CPU cannot run it (best here: %s)\n",
                LIGHTQ_BENCH_MODULE, arch, lightq::best_cpu_arch_name());
    return 77;
  }
  if (!listing) {
    std::printf("lightq bench: module %s, backend %s\n", LIGHTQ_BENCH_MODULE, arch);
    const lightq::bench::machine_peaks& p = lightq::bench::peaks();
    std::fputs(lightq::bench::describe_peaks(p).c_str(), stdout);
    std::fflush(stdout);
    add_context(p);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
