// Elementwise arithmetic on CUDA: grid-stride kernels for the residual add
// (alone and fused with its ReLU),
// gradient accumulation and scaling, with their launchers.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/elementwise.h"

namespace gcnn::cuda {
namespace {

__global__ void add_kernel(const float* a, const float* b, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = a[i] + b[i];
}

// y = max(0, a + b).
__global__ void add_relu_kernel(const float* a, const float* b, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = fmaxf(a[i] + b[i], 0.0f);
}

__global__ void accumulate_kernel(float* dst, const float* src, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dst[i] += src[i];
}

__global__ void scale_kernel(const float* x, float alpha, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = alpha * x[i];
}

}  // namespace

void add(const Tensor& a, const Tensor& b, Tensor& y) {
  const std::size_t n = static_cast<std::size_t>(a.numel());
  if (n == 0) return;
  auto& ctx = context(a.device().index);
  GCNN_LAUNCH(add_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, a.data<float>(), b.data<float>(),
              y.data<float>(), n);
}

void add_relu(const Tensor& a, const Tensor& b, Tensor& y) {
  const std::size_t n = static_cast<std::size_t>(a.numel());
  if (n == 0) return;
  auto& ctx = context(a.device().index);
  GCNN_LAUNCH(add_relu_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, a.data<float>(), b.data<float>(),
              y.data<float>(), n);
}

void accumulate(Tensor& dst, const Tensor& src) {
  const std::size_t n = static_cast<std::size_t>(dst.numel());
  if (n == 0) return;
  auto& ctx = context(dst.device().index);
  GCNN_LAUNCH(accumulate_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, dst.data<float>(),
              src.data<float>(), n);
}

void scale(const Tensor& x, float alpha, Tensor& y) {
  const std::size_t n = static_cast<std::size_t>(x.numel());
  if (n == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(scale_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(), alpha,
              y.data<float>(), n);
}

}  // namespace gcnn::cuda
