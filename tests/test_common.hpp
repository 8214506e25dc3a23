// Shared test utilities: the backend under test, seeded random data, the shape generator,
// guarded output buffers. Every kernel test draws its shapes from here (DESIGN.md §7).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lightq/core/arch.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {
namespace test {

/// The backend this test executable was compiled for (its -m flags decide).
using test_arch = lightq::default_arch;

/// Base seed: LIGHTQ_TEST_SEED from the environment, else a fixed value. Printed by main().
inline std::uint64_t base_seed() {
  static const std::uint64_t seed = [] {
    const char* env = std::getenv("LIGHTQ_TEST_SEED");
    return env ? std::strtoull(env, nullptr, 10) : 20261122ull;
  }();
  return seed;
}

/// A deterministic generator for one test case: seed = base_seed() + salt (shown on failure).
inline std::mt19937_64 make_rng(std::uint64_t salt) { return std::mt19937_64(base_seed() * 1000003ull + salt); }

template <class T>
std::vector<T> random_ints(std::mt19937_64& rng, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

inline std::vector<float> random_floats(std::mt19937_64& rng, std::size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<float> gaussian_floats(std::mt19937_64& rng, std::size_t n, float mean = 0.0f, float stddev = 1.0f) {
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

/// Sizes around a tile: 1, tile-1, tile, tile+1, 2*tile+1 (deduplicated, positive).
inline std::vector<index_t> sizes_around(index_t tile) {
  std::vector<index_t> s = {1, tile - 1, tile, tile + 1, 2 * tile + 1};
  s.erase(std::remove_if(s.begin(), s.end(), [](index_t x) { return x < 1; }), s.end());
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

/// Small primes that land between tile sizes.
inline std::vector<index_t> prime_sizes() { return {2, 3, 5, 7, 13, 17, 31, 37}; }

/// One GEMM-like problem: C[M,N] = A[M,K] * B[K,N]; `strided` asks for padded leading dims.
struct gemm_shape {
  index_t m, n, k;
  bool strided;
  std::string to_string() const {
    return "M=" + std::to_string(m) + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
           (strided ? " strided" : "");
  }
};

/// The shared GEMM shape sweep for micro-kernel tiles (mr x nr, k block kr): every dimension at
/// 1, tile-1, tile, tile+1, 2*tile+1 and primes, deep K, and strided variants. Bounded in size
/// so every backend (including qemu) runs it in seconds.
inline std::vector<gemm_shape> gemm_shapes(index_t mr, index_t nr, index_t kr, bool include_deep_k = true) {
  std::vector<gemm_shape> shapes;
  const auto ms = sizes_around(mr);
  const auto ns = sizes_around(nr);
  std::vector<index_t> ks = sizes_around(kr);
  for (index_t k : {index_t{1}, index_t{3}, index_t{17}, index_t{64}, index_t{129}}) ks.push_back(k);
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  for (index_t m : ms)
    for (index_t n : ns)
      for (index_t k : ks) shapes.push_back({m, n, k, false});
  for (index_t p : prime_sizes()) shapes.push_back({p, 2 * p + 1, p * 3, true});
  shapes.push_back({2 * mr + 1, 2 * nr + 1, 2 * kr + 1, true});
  if (include_deep_k) {
    shapes.push_back({mr + 1, nr + 1, 2053, false});
    shapes.push_back({3, 2 * nr + 1, 4099, true});
  }
  return shapes;
}

/// An output buffer with guard elements before and after; `intact()` checks nothing was written
/// outside [data(), data() + size).
template <class T>
class guarded_buffer {
 public:
  explicit guarded_buffer(std::size_t n, std::size_t guard = 64) : n_(n), guard_(guard), storage_(n + 2 * guard) {
    std::memset(storage_.data(), kPattern, storage_.size() * sizeof(T));
  }
  T* data() { return storage_.data() + guard_; }
  std::size_t size() const { return n_; }
  bool intact() const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(storage_.data());
    const std::size_t g = guard_ * sizeof(T);
    const std::size_t tail = (guard_ + n_) * sizeof(T);
    for (std::size_t i = 0; i < g; ++i)
      if (bytes[i] != kPattern || bytes[tail + i] != kPattern) return false;
    return true;
  }

 private:
  static constexpr unsigned char kPattern = 0xA5;
  std::size_t n_, guard_;
  std::vector<T> storage_;
};

/// Signal-to-quantization-noise ratio in dB of `approx` against `exact`.
inline double sqnr_db(const float* exact, const float* approx, std::size_t n) {
  double signal = 0, noise = 0;
  for (std::size_t i = 0; i < n; ++i) {
    signal += double(exact[i]) * exact[i];
    const double d = double(exact[i]) - approx[i];
    noise += d * d;
  }
  if (noise == 0) return 300.0;
  return 10.0 * std::log10(signal / noise);
}

/// Cosine similarity of two float arrays.
inline double cosine_similarity(const float* a, const float* b, std::size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  if (aa == 0 && bb == 0) return 1.0;
  return ab / std::sqrt(aa * bb);
}

}  // namespace test
}  // namespace lightq
