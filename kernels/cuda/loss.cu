// Regression loss terms on CUDA: the sum of ops::loss_element over all
// elements, each times its target's weight when weights are given (each block
// reduces a grid-stride share with block_sum into one partial; the few
// partials are added in double on the host, where the loss value is wanted
// anyway, or by one more thread into the loss state kept on the device), the
// elementwise gradient, and the running sum of step losses.
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

// state = {loss, gradient scale} from the block partials, added in double in
// order (as the host does); one thread.
__global__ void loss_state_kernel(const float* partials, unsigned blocks, const float* weights, std::size_t columns,
                                  std::size_t rows, bool rmse, float* state) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  double sum = 0.0, weight_sum = static_cast<double>(columns);
  for (unsigned b = 0; b < blocks; ++b) sum += partials[b];
  if (weights) {
    weight_sum = 0.0;
    for (std::size_t t = 0; t < columns; ++t) weight_sum += weights[t];
  }
  ops::loss_state_from_sum(sum, static_cast<double>(rows) * weight_sum, rmse, state);
}

// dpred = scale * w[column] * the element term's derivative, scale = *scale_on_device
// when given, else grad_scale; weights: [columns] or nullptr.
__global__ void loss_backward_kernel(ops::LossKind kind, const float* pred, const float* target, float huber_delta,
                                     float grad_scale, const float* scale_on_device, const float* weights,
                                     std::size_t columns, float* dpred, std::size_t n) {
  const float scale = scale_on_device ? *scale_on_device : grad_scale;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dpred[i] = scale * (weights ? weights[i % columns] : 1.0f) *
               ops::loss_element_grad(kind, pred[i] - target[i], huber_delta);
}

// running += state[0] (ops::add_running_loss); one thread.
__global__ void accumulate_loss_kernel(const float* state, float* running, std::int64_t step) {
  if (threadIdx.x == 0 && blockIdx.x == 0) ops::add_running_loss(state[0], running, step);
}

unsigned loss_blocks(std::size_t n) { return blocks_for(n) < kMaxLossBlocks ? blocks_for(n) : kMaxLossBlocks; }

// The per-block partial sums of the (weighted) element terms, on the device.
Tensor loss_partials(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                     const float* weights) {
  const std::size_t n = static_cast<std::size_t>(pred.numel());
  const unsigned blocks = loss_blocks(n);
  Tensor partials = Tensor::empty({static_cast<std::int64_t>(blocks)}, pred.device());
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_partial_sums_kernel, blocks, kThreadsPerBlock, 0, ctx.stream, kind, pred.data<float>(),
              target.data<float>(), huber_delta, weights, static_cast<std::size_t>(pred.shape()[1]),
              partials.data<float>(), n);
  return partials;
}

}  // namespace

double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights) {
  double total = 0.0;
  for (float partial : loss_partials(kind, pred, target, huber_delta, weights).to_vector()) total += partial;
  return total;
}

void loss_state(ops::LossKind kind, bool rmse, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights, Tensor& state) {
  Tensor partials = loss_partials(kind, pred, target, huber_delta, weights);
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_state_kernel, 1, 1, 0, ctx.stream, partials.data<float>(), static_cast<unsigned>(partials.numel()),
              weights, static_cast<std::size_t>(pred.shape()[1]), static_cast<std::size_t>(pred.shape()[0]), rmse,
              state.data<float>());
}

void accumulate_loss(const Tensor& state, Tensor& running, std::int64_t step) {
  auto& ctx = context(state.device().index);
  GCNN_LAUNCH(accumulate_loss_kernel, 1, 1, 0, ctx.stream, state.data<float>(), running.data<float>(), step);
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale, const float* weights) {
  const std::size_t n = static_cast<std::size_t>(pred.numel());
  if (n == 0) return;
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, kind, pred.data<float>(),
              target.data<float>(), huber_delta, grad_scale, static_cast<const float*>(nullptr), weights,
              static_cast<std::size_t>(pred.shape()[1]), dpred.data<float>(), n);
}

void loss_backward_scaled(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred,
                          float huber_delta, const Tensor& state, const float* weights) {
  const std::size_t n = static_cast<std::size_t>(pred.numel());
  auto& ctx = context(pred.device().index);
  GCNN_LAUNCH(loss_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, kind, pred.data<float>(),
              target.data<float>(), huber_delta, 0.0f, state.data<float>() + 1, weights,
              static_cast<std::size_t>(pred.shape()[1]), dpred.data<float>(), n);
}

}  // namespace gcnn::cuda
