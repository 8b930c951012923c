// Dropout on CUDA: a grid-stride kernel drawing each element's mask from
// ops::dropout_mask_value (the same hash as the CPU), and the masked backward.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/dropout.h"
#include "kernels/ops/dropout.h"

namespace gcnn::cuda {
namespace {

__global__ void dropout_forward_kernel(const float* x, float p, float keep_scale, std::uint64_t seed, float* mask,
                                       float* y, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float m = ops::dropout_mask_value(seed, i, p, keep_scale);
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

__global__ void dropout_backward_kernel(const float* dy, const float* mask, float* dx, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * mask[i];
}

}  // namespace

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y) {
  const std::size_t n = static_cast<std::size_t>(x.numel());
  if (n == 0) return;
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(dropout_forward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(), p,
              keep_scale, seed, mask.data<float>(), y.data<float>(), n);
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  const std::size_t n = static_cast<std::size_t>(dy.numel());
  if (n == 0) return;
  auto& ctx = context(dy.device().index);
  GCNN_LAUNCH(dropout_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, dy.data<float>(),
              mask.data<float>(), dx.data<float>(), n);
}

}  // namespace gcnn::cuda
