// The alternative the CPU convolution was chosen against, kept runnable beside
// it (bench_ops.cpp times the backend): forward convolution as Caffe does it,
// im2col per image + OpenBLAS sgemm, at every distinct ResNet-18/34
// convolution, batch 32. The GFLOP counter is per second of wall time.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>
#include <vector>

#include "benchmarks/kernel_cases.h"
#include "kernels/ops/conv.h"

namespace {

using gcnn::Shape;
using gcnn::Tensor;
using gcnn::bench::ConvShape;

constexpr std::int64_t kBatch = 32;

// Per image, unfolds x into a [C R S, OH OW] matrix and multiplies w [K, C R S] by it.
void BM_conv_fwd_im2col_openblas(benchmark::State& state, ConvShape s) {
  const gcnn::ops::Conv2dParams params{s.stride, s.stride, s.pad, s.pad};
  const Shape xs{kBatch, s.c, s.hw, s.hw}, ws{s.k, s.c, s.rs, s.rs};
  const Tensor x = Tensor::full(xs, 0.5f), w = Tensor::full(ws, 0.01f);
  Tensor y = Tensor::empty(gcnn::ops::conv2d_output_shape(xs, ws, params));
  const std::int64_t oh = y.dim(2), ow = y.dim(3), crs = s.c * s.rs * s.rs, plane = oh * ow;
  std::vector<float> col(static_cast<std::size_t>(crs * plane));
  const float* X = x.data<float>();
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
                  static_cast<int>(crs), 1.0f, w.data<float>(), static_cast<int>(crs), col.data(),
                  static_cast<int>(plane), 0.0f, y.data<float>() + n * s.k * plane, static_cast<int>(plane));
    }
    benchmark::DoNotOptimize(y.data<float>());
  }
  // The baseline must compute the same thing as the backend it is compared with.
  Tensor expected = Tensor::empty(y.shape());
  gcnn::ops::conv2d_forward(x, w, Tensor(), expected, params);
  const std::vector<float> got = y.to_vector(), want = expected.to_vector();
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff += (got[i] - want[i]) * static_cast<double>(got[i] - want[i]);
    norm += want[i] * static_cast<double>(want[i]);
  }
  if (diff > 1e-8 * norm) state.SkipWithError("im2col baseline disagrees with conv2d_forward");
  state.counters["GFLOP"] = benchmark::Counter(2.0 * kBatch * s.k * plane * crs * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const ConvShape& s : gcnn::bench::resnet_conv_shapes())
    benchmark::RegisterBenchmark((std::string("conv_fwd_im2col_openblas/") + s.name).c_str(),
                                 BM_conv_fwd_im2col_openblas, s)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
