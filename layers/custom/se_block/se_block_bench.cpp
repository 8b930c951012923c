// Benchmark rows of the squeeze-and-excitation block (gcnn_bench, filter
// "se_block"): the whole layer's forward and backward at the shapes of
// ResNet-18's stages at 128 px, batch 32, and its own kernels alone. The GB/s
// counter of a kernel is its minimum traffic (each tensor read or written
// once) per second; a layer row counts the x, y, dy, dx traffic only.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "layers/custom/se_block/se_block.h"
#include "layers/custom/se_block/se_block_kernels.h"

namespace gcnn {
namespace {

Tensor ramp(const Shape& s) {
  std::vector<float> v(static_cast<std::size_t>(shape_numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 97) * 0.01f - 0.4f;
  return Tensor::from_vector(s, v);
}

void set_bytes(benchmark::State& state, const Shape& s, int tensors) {
  state.counters["GB/s"] = benchmark::Counter(4e-9 * static_cast<double>(shape_numel(s)) * tensors,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void register_shape(std::int64_t c, std::int64_t hw) {
  const Shape xs{32, c, hw, hw};
  const std::string tag = "32x" + std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw);
  benchmark::RegisterBenchmark(("se_block_forward_backward/r16/" + tag).c_str(), [=](benchmark::State& st) {
    SqueezeExcitation se(static_cast<int>(c), 16);
    se.reset_parameters(1);
    Tensor x = ramp(xs), dy = ramp(xs);
    for (auto _ : st) {
      se.forward(x, true);
      benchmark::DoNotOptimize(se.backward(dy));
    }
    set_bytes(st, xs, 4);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("se_block_scale_forward/" + tag).c_str(), [=](benchmark::State& st) {
    Tensor x = ramp(xs), z = ramp({32, c}), y = Tensor::empty(xs);
    for (auto _ : st) se_block::scale_forward(x, z, y);
    set_bytes(st, xs, 2);
  })->UseRealTime();
  benchmark::RegisterBenchmark(("se_block_gate_and_input_grad/" + tag).c_str(), [=](benchmark::State& st) {
    Tensor x = ramp(xs), dy = ramp(xs), z = ramp({32, c}), dz = Tensor::empty({32, c}), dx = Tensor::empty(xs);
    for (auto _ : st) {
      se_block::gate_grad(x, z, dy, dz);
      se_block::input_grad(dy, z, dz, dx);
    }
    set_bytes(st, xs, 5);  // x and dy twice, dx once
  })->UseRealTime();
}

const bool registered = [] {
  // The output of each ResNet-18 stage at 128 px: 64x32x32, 128x16x16, 256x8x8, 512x4x4.
  for (auto [c, hw] : std::vector<std::pair<std::int64_t, std::int64_t>>{{64, 32}, {128, 16}, {256, 8}, {512, 4}})
    register_shape(c, hw);
  return true;
}();

}  // namespace
}  // namespace gcnn
