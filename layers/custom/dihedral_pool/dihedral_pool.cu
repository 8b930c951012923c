// The dihedral-invariant pooling's kernels on CUDA, with their launchers (see
// dihedral_pool_kernels.h): one thread per output element, grid-stride.
#include "kernels/cuda/common.cuh"

#include "layers/custom/dihedral_pool/dihedral_map.h"
#include "layers/custom/dihedral_pool/dihedral_pool_kernels.h"

namespace gcnn::dihedral::cuda {
namespace {

using gcnn::cuda::blocks_for;
using gcnn::cuda::context;
using gcnn::cuda::kThreadsPerBlock;

// xs[t, p, i, j] = x[p, transform_source(t, i, j)] over 8 * planes * s * s elements.
__global__ void expand_kernel(const float* x, float* xs, std::int64_t planes, std::int64_t s) {
  const std::int64_t plane = s * s, total = kTransforms * planes * plane;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t j = k % s, i = (k / s) % s, p = (k / plane) % planes;
    const int t = static_cast<int>(k / (plane * planes));
    std::int64_t a, b;
    transform_source(t, s, i, j, a, b);
    xs[k] = x[p * plane + a * s + b];
  }
}

// dx[p, a, b] = sum over t of dxs[t, p, transform_target(t, a, b)].
__global__ void fold_kernel(const float* dxs, float* dx, std::int64_t planes, std::int64_t s) {
  const std::int64_t plane = s * s, total = planes * plane;
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t b = k % s, a = (k / s) % s, p = k / plane;
    float sum = 0.0f;
    for (int t = 0; t < kTransforms; ++t) {
      std::int64_t i, j;
      transform_target(t, s, a, b, i, j);
      sum += dxs[(t * planes + p) * plane + i * s + j];
    }
    dx[k] = sum;
  }
}

// y[k] = mean over t of h[t n + k], summed in double.
__global__ void mean_kernel(const float* h, float* y, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    double sum = 0.0;
    for (int t = 0; t < kTransforms; ++t) sum += h[t * n + k];
    y[k] = static_cast<float>(sum / kTransforms);
  }
}

// dh[t n + k] = dy[k] / 8.
__global__ void mean_grad_kernel(const float* dy, float* dh, std::int64_t n) {
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < kTransforms * n;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dh[k] = dy[k % n] / kTransforms;
}

}  // namespace

void expand(const Tensor& x, Tensor& xs) {
  const std::int64_t planes = x.dim(0) * x.dim(1), s = x.dim(2);
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(expand_kernel, blocks_for(static_cast<std::size_t>(xs.numel())), kThreadsPerBlock, 0, ctx.stream,
              x.data<float>(), xs.data<float>(), planes, s);
}

void fold(const Tensor& dxs, Tensor& dx) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), s = dx.dim(2);
  auto& ctx = context(dx.device().index);
  GCNN_LAUNCH(fold_kernel, blocks_for(static_cast<std::size_t>(dx.numel())), kThreadsPerBlock, 0, ctx.stream,
              dxs.data<float>(), dx.data<float>(), planes, s);
}

void mean(const Tensor& h, Tensor& y) {
  auto& ctx = context(y.device().index);
  GCNN_LAUNCH(mean_kernel, blocks_for(static_cast<std::size_t>(y.numel())), kThreadsPerBlock, 0, ctx.stream,
              h.data<float>(), y.data<float>(), y.numel());
}

void mean_grad(const Tensor& dy, Tensor& dh) {
  auto& ctx = context(dy.device().index);
  GCNN_LAUNCH(mean_grad_kernel, blocks_for(static_cast<std::size_t>(dh.numel())), kThreadsPerBlock, 0, ctx.stream,
              dy.data<float>(), dh.data<float>(), dy.numel());
}

}  // namespace gcnn::dihedral::cuda
