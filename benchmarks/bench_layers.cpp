// The non-dense layer ops on the CPU at the shapes a ResNet-18/34 training step
// runs at 128 px, batch 32: batch norm at every stage (64x64 after the stem,
// then 32, 16, 8, 4 px), the stem's 3x3/2 max pool, the fastai head's concat
// pool, residual add, ReLU, gradient accumulation, dropout on the head's
// 1024 features, and one SGD step over ResNet-18's 11.7M parameters.
// The GB/s counter is the minimum traffic of the op (each tensor it must read
// or write counted once, per second of wall time), so it can be held against
// the machine's memory bandwidth.
#include <benchmark/benchmark.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/ops/activation.h"
#include "kernels/ops/adamw.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/elementwise.h"
#include "kernels/ops/loss.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/sgd.h"

namespace {

using gcnn::Shape;
using gcnn::Tensor;
namespace ops = gcnn::ops;

constexpr std::int64_t kBatch = 32;
constexpr std::int64_t kResNet18Params = 11'689'512;  // torchvision resnet18, 1000 classes

// Runs body in the timing loop and reports `bytes` per iteration as GB/s.
void run(benchmark::State& state, double bytes, const std::function<void()>& body) {
  for (auto _ : state) {
    body();
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Registers a benchmark timed by wall clock (the ops run on several OpenMP threads).
template <class Fn>
void register_op(const std::string& name, Fn fn) {
  benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime();
}

// Bytes of `tensors` f32 tensors of shape s.
double tensor_bytes(const Shape& s, int tensors) { return 4.0 * static_cast<double>(gcnn::shape_numel(s)) * tensors; }

Tensor filled(const Shape& s, float v) { return Tensor::full(s, v); }
Tensor ramp(const Shape& s) {
  std::vector<float> v(static_cast<std::size_t>(gcnn::shape_numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 97) * 0.01f - 0.4f;
  return Tensor::from_vector(s, v);
}

void register_batchnorm(std::int64_t c, std::int64_t hw) {
  const Shape xs{kBatch, c, hw, hw};
  const std::string tag = std::to_string(kBatch) + "x" + std::to_string(c) + "x" + std::to_string(hw) + "x" +
                          std::to_string(hw);
  register_op("batchnorm_forward_train/" + tag, [=](benchmark::State& st) {
    Tensor x = ramp(xs), y = Tensor::empty(xs), g = filled({c}, 1.0f), b = filled({c}, 0.0f);
    Tensor rm = filled({c}, 0.0f), rv = filled({c}, 1.0f), m = Tensor::empty({c}), s = Tensor::empty({c});
    run(st, tensor_bytes(xs, 2), [&] { ops::batchnorm_forward_train(x, g, b, rm, rv, 0.1f, 1e-5f, y, m, s); });
  });
  register_op("batchnorm_forward_eval/" + tag, [=](benchmark::State& st) {
    Tensor x = ramp(xs), y = Tensor::empty(xs), g = filled({c}, 1.0f), b = filled({c}, 0.0f);
    Tensor rm = filled({c}, 0.0f), rv = filled({c}, 1.0f);
    run(st, tensor_bytes(xs, 2), [&] { ops::batchnorm_forward_eval(x, g, b, rm, rv, 1e-5f, y); });
  });
  register_op("batchnorm_backward/" + tag, [=](benchmark::State& st) {
    Tensor x = ramp(xs), dy = ramp(xs), dx = Tensor::empty(xs), g = filled({c}, 1.0f);
    Tensor m = filled({c}, 0.1f), s = filled({c}, 2.0f), dg = Tensor::empty({c}), db = Tensor::empty({c});
    run(st, tensor_bytes(xs, 3), [&] { ops::batchnorm_backward(x, g, m, s, dy, dx, dg, db); });
  });
}

void register_all() {
  // (channels, spatial size): after the stem, then stages 1 to 4.
  const std::vector<std::pair<std::int64_t, std::int64_t>> bn_shapes = {
      {64, 64}, {64, 32}, {128, 16}, {256, 8}, {512, 4}};
  for (auto [c, hw] : bn_shapes) register_batchnorm(c, hw);

  const Shape stem{kBatch, 64, 64, 64};
  const ops::Pool2dParams pool;
  const Shape pooled = ops::pool2d_output_shape(stem, pool);
  register_op("maxpool2d_forward/32x64x64x64", [=](benchmark::State& st) {
    Tensor x = ramp(stem), y = Tensor::empty(pooled);
    run(st, tensor_bytes(stem, 1) + tensor_bytes(pooled, 1), [&] { ops::maxpool2d_forward(x, y, pool); });
  });
  register_op("maxpool2d_backward/32x64x64x64", [=](benchmark::State& st) {
    Tensor x = ramp(stem), dy = ramp(pooled), dx = Tensor::empty(stem);
    run(st, tensor_bytes(stem, 2) + tensor_bytes(pooled, 1), [&] { ops::maxpool2d_backward(x, dy, dx, pool); });
  });

  const Shape head{kBatch, 512, 4, 4}, cat{kBatch, 1024};
  register_op("concat_pool_forward/32x512x4x4", [=](benchmark::State& st) {
    Tensor x = ramp(head), y = Tensor::empty(cat);
    run(st, tensor_bytes(head, 1) + tensor_bytes(cat, 1), [&] { ops::concat_pool_forward(x, y); });
  });
  register_op("concat_pool_backward/32x512x4x4", [=](benchmark::State& st) {
    Tensor x = ramp(head), dy = ramp(cat), dx = Tensor::empty(head);
    run(st, tensor_bytes(head, 2) + tensor_bytes(cat, 1), [&] { ops::concat_pool_backward(x, dy, dx); });
  });
  register_op("global_avgpool_forward/32x512x4x4", [=](benchmark::State& st) {
    Tensor x = ramp(head), y = Tensor::empty({kBatch, 512});
    run(st, tensor_bytes(head, 1), [&] { ops::global_avgpool_forward(x, y); });
  });

  const Shape act{kBatch, 64, 32, 32};
  register_op("add/32x64x32x32", [=](benchmark::State& st) {
    Tensor a = ramp(act), b = ramp(act), y = Tensor::empty(act);
    run(st, tensor_bytes(act, 3), [&] { ops::add(a, b, y); });
  });
  register_op("accumulate/32x64x32x32", [=](benchmark::State& st) {
    Tensor d = ramp(act), s = ramp(act);
    run(st, tensor_bytes(act, 3), [&] { ops::accumulate(d, s); });
  });
  register_op("relu_forward/32x64x32x32", [=](benchmark::State& st) {
    Tensor x = ramp(act), y = Tensor::empty(act);
    run(st, tensor_bytes(act, 2), [&] { ops::relu_forward(x, y); });
  });
  register_op("relu_backward/32x64x32x32", [=](benchmark::State& st) {
    Tensor y = ramp(act), dy = ramp(act), dx = Tensor::empty(act);
    run(st, tensor_bytes(act, 3), [&] { ops::relu_backward(y, dy, dx); });
  });

  register_op("dropout_forward/32x1024", [=](benchmark::State& st) {
    Tensor x = ramp(cat), m = Tensor::empty(cat), y = Tensor::empty(cat);
    std::uint64_t seed = 0;
    run(st, tensor_bytes(cat, 3), [&] { ops::dropout_forward(x, 0.5f, ++seed, m, y); });
  });
  register_op("mse_loss_forward_backward/32x1", [=](benchmark::State& st) {
    Tensor p = ramp({kBatch, 1}), t = filled({kBatch, 1}, 0.1f), d = Tensor::empty({kBatch, 1});
    run(st, tensor_bytes({kBatch, 1}, 5), [&] {
      benchmark::DoNotOptimize(ops::loss_forward(ops::LossKind::MSE, p, t));
      ops::loss_backward(ops::LossKind::MSE, p, t, d);
    });
  });

  const Shape params{kResNet18Params};
  register_op("sgd_update_nesterov/11.7M", [=](benchmark::State& st) {
    Tensor w = ramp(params), g = ramp(params), buf = filled(params, 0.0f);
    // Reads param, grad and buf; writes param and buf.
    run(st, tensor_bytes(params, 5), [&] { ops::sgd_update(w, g, buf, 1e-6f, 0.9f, 5e-4f, true); });
  });
  register_op("adamw_update/11.7M", [=](benchmark::State& st) {
    Tensor w = ramp(params), g = ramp(params), m = filled(params, 0.0f), v = filled(params, 0.0f);
    std::int64_t step = 0;
    // Reads param, grad and both moments; writes param and moments.
    run(st, tensor_bytes(params, 7), [&] {
      const ops::AdamWTensor t{&w, &g, &m, &v, 1e-6f, 1e-2f, ++step};
      ops::adamw_update({&t, 1}, {});
    });
  });
}

const bool registered = (register_all(), true);

}  // namespace
