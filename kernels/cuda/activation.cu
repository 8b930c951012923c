// ReLU forward (y = max(x, 0)) and backward (dx = dy * [y > 0]) as grid-stride
// elementwise kernels, with their launchers.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/activation.h"

namespace gcnn::cuda {
namespace {

__global__ void relu_forward_kernel(const float* x, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
}

__global__ void relu_backward_kernel(const float* y, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

}  // namespace

void relu_forward(const Tensor& x, Tensor& y) {
  std::size_t n = static_cast<std::size_t>(x.numel());
  if (n == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(relu_forward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(),
              y.data<float>(), n);
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  std::size_t n = static_cast<std::size_t>(y.numel());
  if (n == 0) return;
  auto& ctx = context(y.device().index);
  GCNN_LAUNCH(relu_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, y.data<float>(),
              dy.data<float>(), dx.data<float>(), n);
}

}  // namespace gcnn::cuda
