// Regression loss terms on CUDA: the sum of ops::loss_element over all
// elements, each times its target's weight when weights are given (each block
// reduces a grid-stride share with block_sum into one partial; the few
// partials are added in double on the host, where the loss value is wanted
// anyway), and the elementwise gradient.
#include "kernels/cuda/common.cuh"

#include <vector>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/loss.h"

namespace gcnn::cuda {
namespace {

constexpr unsigned kMaxLossBlocks = 64;

// One partial sum per block of the (weighted) element terms; weights: [columns] or nullptr.
__global__ void loss_partial_sums_kernel(ops::LossKind kind, const float* pred, const float* target,
                                         float huber_delta, const float* weights, std::size_t columns,
                                         float* partials, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    sum += (weights ? weights[i % columns] : 1.0f) * ops::loss_element(kind, pred[i] - target[i], huber_delta);
  sum = block_sum(sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

// dpred = grad_scale * w[column] * the element term's derivative; weights: [columns] or nullptr.
__global__ void loss_backward_kernel(ops::LossKind kind, const float* pred, const float* target, float huber_delta,
                                     float grad_scale, const float* weights, std::size_t columns, float* dpred,
                                     std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dpred[i] = grad_scale * (weights ? weights[i % columns] : 1.0f) *
               ops::loss_element_grad(kind, pred[i] - target[i], huber_delta);
}

}  // namespace

double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights) {
  const std::size_t n = static_cast<std::size_t>(pred.numel());
  const unsigned blocks = blocks_for(n) < kMaxLossBlocks ? blocks_for(n) : kMaxLossBlocks;
  Tensor partials = Tensor::empty({static_cast<std::int64_t>(blocks)}, pred.device());
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_partial_sums_kernel, blocks, kThreadsPerBlock, 0, ctx.stream, kind, pred.data<float>(),
              target.data<float>(), huber_delta, weights, static_cast<std::size_t>(pred.shape()[1]),
              partials.data<float>(), n);
  double total = 0.0;
  for (float partial : partials.to_vector()) total += partial;
  return total;
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale, const float* weights) {
  const std::size_t n = static_cast<std::size_t>(pred.numel());
  if (n == 0) return;
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, kind, pred.data<float>(),
              target.data<float>(), huber_delta, grad_scale, weights, static_cast<std::size_t>(pred.shape()[1]),
              dpred.data<float>(), n);
}

}  // namespace gcnn::cuda
