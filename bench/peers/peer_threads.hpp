// Forces the peers' thread pools to one thread (lightq benchmarks compare single cores).
#pragma once

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

namespace lightq::bench::peers {

/// Sets OpenMP (used by Debian's oneDNN) to one thread, if an OpenMP runtime is loaded. Looked
/// up with dlsym so the benchmark never links an OpenMP runtime itself (g++ and clang++ ship
/// different ones); run.sh also exports OMP_NUM_THREADS=1, which covers the pool's creation.
inline void openmp_single_thread() {
#if defined(__unix__) || defined(__APPLE__)
  using set_fn = void (*)(int);
  if (void* sym = dlsym(RTLD_DEFAULT, "omp_set_num_threads")) {
    set_fn set = nullptr;
    static_assert(sizeof(set) == sizeof(sym), "function and object pointers differ in size");
    __builtin_memcpy(&set, &sym, sizeof(set));
    set(1);
  }
#endif
}

}  // namespace lightq::bench::peers
