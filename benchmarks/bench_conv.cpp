// Dense ops at the shapes training runs: every distinct convolution of
// ResNet-18/34 at 128 px input, batch 32 (forward, backward data, backward
// weights), and the fastai head's linear layers (1024->512, 512->1), on the
// CPU and, when a device exists, on CUDA. The GFLOP counter is shown per
// second (wall time). BM_conv_fwd_im2col_openblas is the alternative the CPU
// backend was chosen against: im2col per image + OpenBLAS sgemm.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>
#include <vector>

#include "kernels/cpu/conv.h"
#include "kernels/cuda/backend.h"
#include "kernels/cuda/conv.h"
#include "kernels/device.h"
#include "kernels/ops/conv.h"
#include "kernels/ops/linear.h"

namespace {

using gcnn::Device;
using gcnn::Shape;
using gcnn::Tensor;

struct ConvShape {
  const char* name;
  std::int64_t c, hw, k, rs;
  int stride, pad;
};
constexpr std::int64_t kBatch = 32;
// After the stem (64x64) and max pool, the stages run at 32, 16, 8 and 4 px.
const std::vector<ConvShape> kResNetConvs = {
    {"stem_7x7s2_3x128", 3, 128, 64, 7, 2, 3},
    {"l1_3x3_64x32", 64, 32, 64, 3, 1, 1},
    {"l2_3x3s2_64x32", 64, 32, 128, 3, 2, 1},
    {"l2_proj_1x1s2_64x32", 64, 32, 128, 1, 2, 0},
    {"l2_3x3_128x16", 128, 16, 128, 3, 1, 1},
    {"l3_3x3s2_128x16", 128, 16, 256, 3, 2, 1},
    {"l3_proj_1x1s2_128x16", 128, 16, 256, 1, 2, 0},
    {"l3_3x3_256x8", 256, 8, 256, 3, 1, 1},
    {"l4_3x3s2_256x8", 256, 8, 512, 3, 2, 1},
    {"l4_proj_1x1s2_256x8", 256, 8, 512, 1, 2, 0},
    {"l4_3x3_512x4", 512, 4, 512, 3, 1, 1},
};

struct ConvOperands {
  gcnn::ops::Conv2dParams params;
  Tensor x, w, y, dy, dx, dw;
  double flops;  // 2 N K OH OW C R S: the same for all three directions
};

ConvOperands make_conv(const ConvShape& s, Device device) {
  ConvOperands o;
  o.params = {s.stride, s.stride, s.pad, s.pad};
  const Shape xs{kBatch, s.c, s.hw, s.hw}, ws{s.k, s.c, s.rs, s.rs};
  const Shape ys = gcnn::ops::conv2d_output_shape(xs, ws, o.params);
  o.x = Tensor::full(xs, 0.5f, device);
  o.w = Tensor::full(ws, 0.01f, device);
  o.y = Tensor::empty(ys, device);
  o.dy = Tensor::full(ys, 0.1f, device);
  o.dx = Tensor::empty(xs, device);
  o.dw = Tensor::empty(ws, device);
  o.flops = 2.0 * kBatch * s.k * ys[2] * ys[3] * s.c * s.rs * s.rs;
  return o;
}

void set_gflops(benchmark::State& state, double flops) {
  state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

enum class Direction { Forward, BackwardData, BackwardWeights };

template <class Sync>
void run_conv(benchmark::State& state, const ConvShape& s, Device device, Direction direction, Sync sync) {
  ConvOperands o = make_conv(s, device);
  auto step = [&] {
    switch (direction) {
      case Direction::Forward: gcnn::ops::conv2d_forward(o.x, o.w, Tensor(), o.y, o.params); break;
      case Direction::BackwardData:
        if (device.is_cpu()) gcnn::cpu::conv2d_backward_data(o.w, o.dy, o.dx, o.params);
        else gcnn::cuda::conv2d_backward_data(o.w, o.dy, o.dx, o.params);
        break;
      case Direction::BackwardWeights:
        gcnn::ops::conv2d_backward(o.x, o.w, o.dy, nullptr, o.dw, nullptr, o.params);
        break;
    }
  };
  step();  // builds and caches the plan outside the timed loop
  sync();
  for (auto _ : state) {
    step();
    sync();
  }
  set_gflops(state, o.flops);
}

// Forward convolution as Caffe does it: per image, unfold x into a
// [C R S, OH OW] matrix and multiply by w [K, C R S] with sgemm.
void BM_conv_fwd_im2col_openblas(benchmark::State& state, ConvShape s) {
  ConvOperands o = make_conv(s, Device::cpu());
  const std::int64_t oh = o.y.dim(2), ow = o.y.dim(3), crs = s.c * s.rs * s.rs, plane = oh * ow;
  std::vector<float> col(static_cast<std::size_t>(crs * plane));
  const float* X = o.x.data<float>();
  for (auto _ : state) {
    for (std::int64_t n = 0; n < kBatch; ++n) {
      const float* xn = X + n * s.c * s.hw * s.hw;
#pragma omp parallel for schedule(static)
      for (std::int64_t row = 0; row < crs; ++row) {
        const std::int64_t c = row / (s.rs * s.rs), r = row / s.rs % s.rs, q = row % s.rs;
        float* dst = col.data() + row * plane;
        for (std::int64_t i = 0; i < oh; ++i) {
          const std::int64_t ih = i * s.stride - s.pad + r;
          for (std::int64_t j = 0; j < ow; ++j) {
            const std::int64_t iw = j * s.stride - s.pad + q;
            dst[i * ow + j] =
                ih >= 0 && ih < s.hw && iw >= 0 && iw < s.hw ? xn[(c * s.hw + ih) * s.hw + iw] : 0.0f;
          }
        }
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.k), static_cast<int>(plane),
                  static_cast<int>(crs), 1.0f, o.w.data<float>(), static_cast<int>(crs), col.data(),
                  static_cast<int>(plane), 0.0f, o.y.data<float>() + n * s.k * plane, static_cast<int>(plane));
    }
    benchmark::DoNotOptimize(o.y.data<float>());
  }
  // The baseline must compute the same thing as the backend it is compared with.
  Tensor expected = Tensor::empty(o.y.shape());
  gcnn::ops::conv2d_forward(o.x, o.w, Tensor(), expected, o.params);
  const std::vector<float> got = o.y.to_vector(), want = expected.to_vector();
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff += (got[i] - want[i]) * static_cast<double>(got[i] - want[i]);
    norm += want[i] * static_cast<double>(want[i]);
  }
  if (diff > 1e-8 * norm) state.SkipWithError("im2col baseline disagrees with conv2d_forward");
  set_gflops(state, o.flops);
}

struct LinearShape {
  const char* name;
  std::int64_t in, out;
};
const std::vector<LinearShape> kHeadLinears = {{"head_1024x512", 1024, 512}, {"head_512x1", 512, 1}};

template <class Sync>
void run_linear(benchmark::State& state, const LinearShape& s, Device device, bool backward, Sync sync) {
  const Tensor x = Tensor::full({kBatch, s.in}, 0.5f, device), w = Tensor::full({s.out, s.in}, 0.01f, device),
               b = Tensor::zeros({s.out}, device), dy = Tensor::full({kBatch, s.out}, 0.1f, device);
  Tensor y = Tensor::empty({kBatch, s.out}, device), dx = Tensor::empty({kBatch, s.in}, device),
         dw = Tensor::empty({s.out, s.in}, device), db = Tensor::empty({s.out}, device);
  for (auto _ : state) {
    if (backward) gcnn::ops::linear_backward(x, w, dy, &dx, dw, &db);
    else gcnn::ops::linear_forward(x, w, b, y);
    sync();
  }
  // Forward is one product; backward two (dx and dw).
  set_gflops(state, (backward ? 4.0 : 2.0) * kBatch * s.in * s.out);
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::Forward: return "fwd";
    case Direction::BackwardData: return "bwd_data";
    case Direction::BackwardWeights: return "bwd_weights";
  }
  return "?";
}

// Registers every benchmark, the CUDA ones only when a device is usable.
const bool registered = [] {
  const bool cuda = gcnn::cuda_unavailable_reason().empty();
  auto no_sync = [] {};
  auto cuda_sync = [] { gcnn::cuda::synchronize(0); };
  for (const ConvShape& s : kResNetConvs) {
    for (Direction d : {Direction::Forward, Direction::BackwardData, Direction::BackwardWeights}) {
      benchmark::RegisterBenchmark(
          (std::string("BM_conv_cpu_") + direction_name(d) + "/" + s.name).c_str(),
          [s, d, no_sync](benchmark::State& st) { run_conv(st, s, Device::cpu(), d, no_sync); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
      if (cuda)
        benchmark::RegisterBenchmark(
            (std::string("BM_conv_cuda_") + direction_name(d) + "/" + s.name).c_str(),
            [s, d, cuda_sync](benchmark::State& st) { run_conv(st, s, Device::cuda(0), d, cuda_sync); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark((std::string("BM_conv_fwd_im2col_openblas/") + s.name).c_str(),
                                 BM_conv_fwd_im2col_openblas, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const LinearShape& s : kHeadLinears)
    for (bool backward : {false, true}) {
      const std::string dir = backward ? "bwd/" : "fwd/";
      benchmark::RegisterBenchmark(("BM_linear_cpu_" + dir + s.name).c_str(),
                                   [s, backward, no_sync](benchmark::State& st) {
                                     run_linear(st, s, Device::cpu(), backward, no_sync);
                                   })
          ->UseRealTime();
      if (cuda)
        benchmark::RegisterBenchmark(("BM_linear_cuda_" + dir + s.name).c_str(),
                                     [s, backward, cuda_sync](benchmark::State& st) {
                                       run_linear(st, s, Device::cuda(0), backward, cuda_sync);
                                     })
            ->UseRealTime();
    }
  return true;
}();

}  // namespace
