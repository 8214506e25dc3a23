// The usage example shown in README.md (compiled and run by the tests).
#include <lightq/lightq.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

int main() {
  using namespace lightq;
  const index_t M = 4, N = 64, K = 256;                          // y[M,N] = x[M,K] * W[N,K]^T
  tensor<float, 2> x({M, K}), w({N, K}), y({M, N}), y_fp32({M, N});
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : x) v = normal(rng);
  for (float& v : w) v = normal(rng) / 16;

  tensor<float, 1> scales({N});                                  // int8 weights, a scale per row
  for (index_t n = 0; n < N; ++n)
    for (index_t k = 0; k < K; ++k) scales(n) = std::max(scales(n), std::fabs(w(n, k)) / 127);
  tensor<std::int8_t, 2> w_int8({N, K});
  quantize(w.cview(), w_int8.view(), per_channel_params<qc8w>({scales.begin(), scales.end()}, /*axis=*/0));
  const auto packed = pack_weights(w_int8.cview(), scales.cview());

  linear(x.cview(), packed, {}, y.view());                       // qd8: x quantized per row
  linear(x.cview(), pack_weights(w.cview()), {}, y_fp32.view()); // the fp32 layer it replaces

  double err = 0, ref = 0;
  for (index_t i = 0; i < M * N; ++i) {
    err += std::pow(y.data()[i] - y_fp32.data()[i], 2);
    ref += std::pow(y_fp32.data()[i], 2);
  }
  std::printf("backend %s: weights %td bytes int8 vs %td fp32, SQNR %.1f dB\n", default_arch::name, N * K,
              N * K * 4, 10 * std::log10(ref / err));
  return 10 * std::log10(ref / err) > 30 ? 0 : 1;
}
