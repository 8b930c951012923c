// The fused inference body's two algorithms for 3x3 stride-1 convolutions,
// side by side at every such ResNet-18/34 shape, batch 32, FP32 in nChw8c
// (AVX2's layout): oneDNN's direct convolution and WinogradConv3x3 (kernels/
// cpu/winograd.h) with chunks of 256 KiB, 1 MiB and 4 MiB of transformed patches. The
// GFLOP counter is the direct convolution's FLOPs per second of wall time for
// both, so the rows compare time. Each Winograd row checks its output against
// the direct one first. Skipped without AVX2 and FMA.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "benchmarks/kernel_cases.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/winograd.h"
#include "layers/init.h"

namespace {

using dnnl::memory;
using gcnn::Tensor;
using gcnn::bench::ConvShape;
using gcnn::cpu::WinogradConv3x3;

constexpr std::int64_t kBatch = 32;

// oneDNN's direct convolution y = conv(x, w) + b in nChw8c, and its operands.
struct DirectConv {
  explicit DirectConv(const ConvShape& s, const Tensor& w, const Tensor& b) {
    const memory::desc x_desc({kBatch, s.c, s.hw, s.hw}, memory::data_type::f32, memory::format_tag::aBcd8b),
        y_desc({kBatch, s.k, s.hw, s.hw}, memory::data_type::f32, memory::format_tag::aBcd8b),
        w_any({s.k, s.c, 3, 3}, memory::data_type::f32, memory::format_tag::any),
        b_desc({s.k}, memory::data_type::f32, memory::format_tag::a);
    const dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, x_desc,
                                        w_any, b_desc, y_desc, {1, 1}, {1, 1}, {1, 1}),
        gcnn::cpu::onednn_engine());
    conv = dnnl::convolution_forward(pd);
    x = memory(x_desc, gcnn::cpu::onednn_engine());
    y = memory(y_desc, gcnn::cpu::onednn_engine());
    weights = memory(pd.weights_desc(), gcnn::cpu::onednn_engine());
    memory w_user({{s.k, s.c, 3, 3}, memory::data_type::f32, memory::format_tag::oihw}, gcnn::cpu::onednn_engine(),
                  const_cast<float*>(w.data<float>()));
    dnnl::reorder(w_user, weights).execute(gcnn::cpu::onednn_stream(), w_user, weights);
    bias = memory(b_desc, gcnn::cpu::onednn_engine(), const_cast<float*>(b.data<float>()));
    float* in = static_cast<float*>(x.get_data_handle());
    for (std::size_t i = 0; i < x_desc.get_size() / sizeof(float); ++i) in[i] = std::sin(0.37f * static_cast<float>(i));
  }
  void run() {
    conv.execute(gcnn::cpu::onednn_stream(),
                 {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, y}});
    gcnn::cpu::onednn_stream().wait();
  }
  dnnl::convolution_forward conv;
  memory x, y, weights, bias;
};

// Kaiming-scaled weights and a small bias for shape s.
std::pair<Tensor, Tensor> parameters(const ConvShape& s) {
  Tensor w = Tensor::empty({s.k, s.c, 3, 3}), b = Tensor::empty({s.k});
  gcnn::init_kaiming_normal(w, 9.0 * static_cast<double>(s.c), 1);
  gcnn::init_normal(b, 0.1, 2);
  return {w, b};
}

void set_flops(benchmark::State& state, const ConvShape& s) {
  state.counters["GFLOP"] = benchmark::Counter(2.0 * kBatch * s.k * s.c * 9 * s.hw * s.hw * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

void BM_conv3x3_direct(benchmark::State& state, ConvShape s) {
  const auto [w, b] = parameters(s);
  DirectConv direct(s, w, b);
  for (auto _ : state) direct.run();
  set_flops(state, s);
}

void BM_conv3x3_winograd(benchmark::State& state, ConvShape s, std::size_t chunk_bytes) {
  if (!WinogradConv3x3::available()) {
    state.SkipWithError("the CPU has no AVX2 and FMA");
    return;
  }
  const auto [w, b] = parameters(s);
  DirectConv direct(s, w, b);
  const WinogradConv3x3 winograd(std::make_shared<const gcnn::cpu::WinogradWeights>(w, b), kBatch, s.hw, s.hw,
                                 WinogradConv3x3::Epilogue::none, chunk_bytes);
  std::vector<float> scratch(winograd.scratch_floats());
  std::vector<float> y(direct.y.get_desc().get_size() / sizeof(float));
  const auto* x = static_cast<const float*>(direct.x.get_data_handle());
  for (auto _ : state) winograd.run(x, y.data(), scratch.data());
  // The two algorithms must agree (FP32 rounding apart) for the comparison to mean anything.
  direct.run();
  const auto* want = static_cast<const float*>(direct.y.get_data_handle());
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    diff += (y[i] - want[i]) * static_cast<double>(y[i] - want[i]);
    norm += want[i] * static_cast<double>(want[i]);
  }
  if (!(diff <= 1e-10 * norm)) state.SkipWithError("winograd disagrees with oneDNN's direct convolution");
  set_flops(state, s);
}

const bool registered = [] {
  for (const ConvShape& s : gcnn::bench::resnet_conv_shapes()) {
    if (s.rs != 3 || s.stride != 1 || s.pad != 1) continue;
    benchmark::RegisterBenchmark((std::string("conv3x3_nchw8c/direct/") + s.name).c_str(), BM_conv3x3_direct, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    for (const std::size_t kib : {256, 1024, 4096})
      benchmark::RegisterBenchmark(
          (std::string("conv3x3_nchw8c/winograd_") + std::to_string(kib) + "KiB/" + s.name).c_str(),
          BM_conv3x3_winograd, s, kib << 10)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
