// Quantization throughput benchmarks: quantize, dequantize, qd8 dynamic rows, requantize and
// dequantize-with-bias in GB/s, in L1, in L2 and streamed from DRAM, as a fraction of the
// measured memcpy bandwidth.
//
//   BM_quantize/f32_qs8/<backend>/<elements>          per-tensor, contiguous
//   BM_dequantize/qs8_f32/<backend>/<elements>
//   BM_quantize_rows/f32_qd8/<backend>/<rows>/<K>      dynamic per-row (range pass + quantize pass)
//   BM_requantize/i32_qs8/<backend>/<rows>/<N>         per-channel multipliers + int32 bias
//   BM_dequantize_bias/i32_f32/<backend>/<rows>/<N>    per-channel scales + float bias
//
// "bytes" is what the op reads + writes once (5 per element for f32 <-> int8 and int32 -> int8,
// 8 for int32 -> f32); "%peak" is over the probe's memcpy bandwidth (peak_kind::copy). Sizes:
// 4096 elements (L1), 65536 (L2), 2^22 = 4 Mi elements per call (16-20 MiB in + out) rotated
// through out_of_cache_bytes() of distinct buffers so that every call streams from DRAM.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "lightq/quant/observers.hpp"
#include "lightq/quant/output_stage.hpp"
#include "lightq/quant/quantize.hpp"

namespace {

using lightq::index_t;
using lightq::bench::peak_kind;
using arch = lightq::default_arch;

template <class In, class Out>
struct io_buffers {
  lightq::bench::rotating_buffers<In> in;
  lightq::bench::rotating_buffers<Out> out;
};

template <class In, class Out, class Fill>
io_buffers<In, Out> make_io(std::size_t n, bool out_of_cache, Fill&& fill) {
  const std::size_t copies =
      out_of_cache ? lightq::bench::rotation_count(n * (sizeof(In) + sizeof(Out)), lightq::bench::out_of_cache_bytes()) : 1;
  io_buffers<In, Out> b{lightq::bench::rotating_buffers<In>(n, copies), lightq::bench::rotating_buffers<Out>(n, copies)};
  b.in.fill(fill);
  for (std::size_t c = 0; c < copies; ++c) std::memset(static_cast<void*>(b.out[c]), 0, n * sizeof(Out));  // first touch
  return b;
}

void fill_activations(float* p, std::size_t n) { lightq::bench::fill_random(p, n, -8.0, 8.0); }
void fill_int8(std::int8_t* p, std::size_t n) { lightq::bench::fill_random(p, n, -128.0, 127.0); }
void fill_accumulators(std::int32_t* p, std::size_t n) { lightq::bench::fill_random(p, n, -200000.0, 200000.0); }

/// Runs op(in, out) over rotating buffers and reports `bytes_per_element` * elements per call.
template <class In, class Out, class Fill, class Op>
void run(benchmark::State& state, const std::string& key, index_t rows, index_t cols, bool out_of_cache, double bytes_per_element,
         Fill fill, Op op) {
  const std::size_t n = static_cast<std::size_t>(rows * cols);
  auto& b = lightq::bench::cached_fixture<io_buffers<In, Out>>(key, [&] { return make_io<In, Out>(n, out_of_cache, fill); });
  std::size_t c = 0;
  for (auto _ : state) {
    op(b.in[c], b.out[c], rows, cols);
    benchmark::ClobberMemory();
    c = c + 1 == b.in.count() ? 0 : c + 1;
  }
  lightq::bench::report(state, 0, bytes_per_element * static_cast<double>(n), peak_kind::copy);
  state.counters["copies"] = static_cast<double>(b.in.count());
}

const lightq::per_tensor_params<lightq::qs8> kParams(16.0f / 255.0f, -1);

std::vector<float> channel_values(index_t n, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = lo + (hi - lo) * static_cast<float>(i % 17) / 16.0f;
  return v;
}

void quantize_op(const float* x, std::int8_t* q, index_t rows, index_t cols) {
  lightq::quantize<arch>(lightq::tensor_view<const float, 2>(x, {rows, cols}), lightq::tensor_view<std::int8_t, 2>(q, {rows, cols}),
                         kParams);
}
void dequantize_op(const std::int8_t* q, float* y, index_t rows, index_t cols) {
  lightq::dequantize<arch>(lightq::tensor_view<const std::int8_t, 2>(q, {rows, cols}), lightq::tensor_view<float, 2>(y, {rows, cols}),
                           kParams);
}

const bool registered = [] {
  const std::string impl = lightq::bench::backend_name();
  struct size_case {
    index_t rows, cols;
    bool out_of_cache;
  };
  // Element-wise ops see rows * cols elements; the per-row / per-channel ops use the shape.
  const size_case sizes[] = {{4, 1024, false}, {64, 1024, false}, {4096, 1024, true}};
  for (const size_case& s : sizes) {
    const index_t rows = s.rows, cols = s.cols;
    const bool ooc = s.out_of_cache;
    const long long elements = static_cast<long long>(rows * cols);
    auto add = [&](const std::string& name, auto fn) {
      benchmark::RegisterBenchmark(name.c_str(), [name, fn](benchmark::State& st) { fn(st, name); });
    };
    add(lightq::bench::bench_name("quantize", "f32_qs8", impl, {elements}), [rows, cols, ooc](benchmark::State& st, const std::string& key) {
      run<float, std::int8_t>(st, key, 1, rows * cols, ooc, 5.0, fill_activations, quantize_op);
    });
    add(lightq::bench::bench_name("dequantize", "qs8_f32", impl, {elements}), [rows, cols, ooc](benchmark::State& st, const std::string& key) {
      run<std::int8_t, float>(st, key, 1, rows * cols, ooc, 5.0, fill_int8, dequantize_op);
    });
    add(lightq::bench::bench_name("quantize_rows", "f32_qd8", impl, {rows, cols}), [rows, cols, ooc](benchmark::State& st, const std::string& key) {
      std::vector<lightq::qd8_row_params> params(static_cast<std::size_t>(rows));
      run<float, std::int8_t>(st, key, rows, cols, ooc, 5.0, fill_activations,
                              [&params](const float* x, std::int8_t* q, index_t m, index_t k) {
                                lightq::quantize_dynamic_rows<arch>(lightq::tensor_view<const float, 2>(x, {m, k}),
                                                                    lightq::tensor_view<std::int8_t, 2>(q, {m, k}),
                                                                    lightq::vector_view<lightq::qd8_row_params>(params.data(), {m}));
                              });
    });
    add(lightq::bench::bench_name("requantize", "i32_qs8", impl, {rows, cols}), [rows, cols, ooc](benchmark::State& st, const std::string& key) {
      const std::vector<float> mults = channel_values(cols, 1e-4f, 4e-4f);
      std::vector<std::int32_t> bias(static_cast<std::size_t>(cols));
      for (index_t j = 0; j < cols; ++j) bias[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(j * 37 % 1001) - 500;
      const lightq::requantize_bounds bounds = lightq::make_requantize_bounds(-3, -128, 127);
      run<std::int32_t, std::int8_t>(st, key, rows, cols, ooc, 5.0, fill_accumulators,
                                     [&](const std::int32_t* acc, std::int8_t* out, index_t m, index_t n) {
                                       lightq::requantize<arch>(lightq::tensor_view<const std::int32_t, 2>(acc, {m, n}),
                                                                lightq::tensor_view<std::int8_t, 2>(out, {m, n}),
                                                                lightq::vector_view<const float>(mults.data(), {n}), bounds,
                                                                lightq::vector_view<const std::int32_t>(bias.data(), {n}));
                                     });
    });
    add(lightq::bench::bench_name("dequantize_bias", "i32_f32", impl, {rows, cols}), [rows, cols, ooc](benchmark::State& st, const std::string& key) {
      const std::vector<float> scales = channel_values(cols, 1e-5f, 3e-5f), bias = channel_values(cols, -0.5f, 0.5f);
      run<std::int32_t, float>(st, key, rows, cols, ooc, 8.0, fill_accumulators,
                               [&](const std::int32_t* acc, float* out, index_t m, index_t n) {
                                 lightq::dequantize_with_bias<arch>(lightq::tensor_view<const std::int32_t, 2>(acc, {m, n}),
                                                                    lightq::tensor_view<float, 2>(out, {m, n}),
                                                                    lightq::vector_view<const float>(scales.data(), {n}),
                                                                    lightq::vector_view<const float>(bias.data(), {n}));
                               });
    });
  }
  return true;
}();

}  // namespace
