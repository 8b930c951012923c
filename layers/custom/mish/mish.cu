// Mish's CUDA kernels and launchers (formulas in mish_kernels.h).
#include "kernels/cuda/common.cuh"

#include "layers/custom/mish/mish_kernels.h"

namespace gcnn::mish::cuda {
namespace {

using gcnn::cuda::blocks_for;
using gcnn::cuda::kThreadsPerBlock;

// y[i] = mish(x[i]), grid-stride.
__global__ void forward_kernel(const float* x, float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = value(x[i]);
}

// dx[i] = dy[i] * mish'(x[i]), grid-stride.
__global__ void backward_kernel(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * derivative(x[i]);
}

}  // namespace

void forward(const Tensor& x, Tensor& y) {
  const auto n = static_cast<std::size_t>(x.numel());
  GCNN_LAUNCH(forward_kernel, blocks_for(n), kThreadsPerBlock, 0, gcnn::cuda::context(x.device().index).stream,
              x.data<float>(), y.data<float>(), n);
}

void backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const auto n = static_cast<std::size_t>(x.numel());
  GCNN_LAUNCH(backward_kernel, blocks_for(n), kThreadsPerBlock, 0, gcnn::cuda::context(x.device().index).stream,
              x.data<float>(), dy.data<float>(), dx.data<float>(), n);
}

}  // namespace gcnn::mish::cuda
