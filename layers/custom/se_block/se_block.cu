// The squeeze-and-excitation kernels on CUDA, with their launchers (see
// se_block_kernels.h). Compiled by nvcc for the GPU and as host C++ under the
// emulation harness, like the engine's kernels.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/block_reduce.cuh"
#include "layers/custom/se_block/se_block_kernels.h"

namespace gcnn::se_block::cuda {
namespace {

using gcnn::cuda::blocks_for;
using gcnn::cuda::context;
using gcnn::cuda::kThreadsPerBlock;

__device__ __forceinline__ float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

// y[i] = x[i] * sigmoid(z[i / hw]), grid-stride over all elements.
__global__ void scale_forward_kernel(const float* x, const float* z, float* y, std::size_t n, std::size_t hw) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = x[i] * sigmoid(z[i / hw]);
}

// dz[p] = s (1 - s) * sum over plane p of dy * x, s = sigmoid(z[p]): one block per plane.
__global__ void gate_grad_kernel(const float* x, const float* z, const float* dy, float* dz, std::size_t hw) {
  const std::size_t plane = blockIdx.x;
  const float* xp = x + plane * hw;
  const float* dyp = dy + plane * hw;
  float partial = 0.0f;
  for (std::size_t i = threadIdx.x; i < hw; i += blockDim.x) partial += dyp[i] * xp[i];
  const float sum = gcnn::cuda::block_sum(partial);
  if (threadIdx.x == 0) {
    const float s = sigmoid(z[plane]);
    dz[plane] = s * (1.0f - s) * sum;
  }
}

// dx[i] = dy[i] * sigmoid(z[p]) + dpooled[p] / hw with p = i / hw, grid-stride.
__global__ void input_grad_kernel(const float* dy, const float* z, const float* dpooled, float* dx, std::size_t n,
                                  std::size_t hw) {
  const float inv_hw = 1.0f / static_cast<float>(hw);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t p = i / hw;
    dx[i] = dy[i] * sigmoid(z[p]) + dpooled[p] * inv_hw;
  }
}

}  // namespace

void scale_forward(const Tensor& x, const Tensor& z, Tensor& y) {
  const auto n = static_cast<std::size_t>(x.numel()), hw = n / static_cast<std::size_t>(z.numel());
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(scale_forward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(), z.data<float>(),
              y.data<float>(), n, hw);
}

void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz) {
  const auto planes = static_cast<unsigned>(z.numel());
  const auto hw = static_cast<std::size_t>(x.numel()) / planes;
  // Small planes (the last ResNet stages: 4x4 or less) get one warp, not eight idle ones.
  const int threads = hw >= kThreadsPerBlock ? kThreadsPerBlock : static_cast<int>((hw + 31) / 32 * 32);
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(gate_grad_kernel, planes, threads, 0, ctx.stream, x.data<float>(), z.data<float>(),
              dy.data<float>(), dz.data<float>(), hw);
}

void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx) {
  const auto n = static_cast<std::size_t>(dy.numel()), hw = n / static_cast<std::size_t>(z.numel());
  auto& ctx = context(dy.device().index);
  GCNN_LAUNCH(input_grad_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, dy.data<float>(), z.data<float>(),
              dpooled.data<float>(), dx.data<float>(), n, hw);
}

}  // namespace gcnn::se_block::cuda
