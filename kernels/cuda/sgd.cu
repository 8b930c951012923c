// The fused SGD update on CUDA: one grid-stride kernel that reads param, grad
// and the momentum buffer once and writes param and buffer (torch.optim.SGD
// semantics, dampening 0; see kernels/ops/sgd.h).
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/sgd.h"

namespace gcnn::cuda {
namespace {

__global__ void sgd_update_kernel(float* param, const float* grad, float* buf, float lr, float momentum,
                                  float weight_decay, float d_coef, float buf_coef, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float w = param[i];
    const float d = grad[i] + weight_decay * w;
    const float b = momentum * buf[i] + d;
    buf[i] = b;
    param[i] = w - lr * (d * d_coef + b * buf_coef);
  }
}

}  // namespace

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov) {
  const std::size_t n = static_cast<std::size_t>(param.numel());
  if (n == 0) return;
  // nesterov: d + momentum * buf; plain: buf.
  const float d_coef = nesterov ? 1.0f : 0.0f, buf_coef = nesterov ? momentum : 1.0f;
  auto& ctx = context(param.device().index);
  GCNN_LAUNCH(sgd_update_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, param.data<float>(),
              grad.data<float>(), momentum_buf.data<float>(), lr, momentum, weight_decay, d_coef, buf_coef, n);
}

}  // namespace gcnn::cuda
