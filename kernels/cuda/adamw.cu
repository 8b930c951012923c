// The fused AdamW update on CUDA: one launch updates up to
// kAdamWTensorsPerLaunch parameter tensors (torch.optim.AdamW semantics, see
// kernels/ops/adamw.h). The tensors' pointers and per-tensor scalars travel in
// one by-value kernel argument (about 2.5 KB, under the 4 KB limit of older
// toolkits); blockIdx.y picks the tensor, and the blocks along x stride over
// its elements, reading param, grad and both moments once and writing param
// and moments: 20 bytes moved per element, no synchronisation.
#include "kernels/cuda/common.cuh"

#include <algorithm>

#include "kernels/cuda/adamw.h"

namespace gcnn::cuda {
namespace {

constexpr int kAdamWTensorsPerLaunch = 48;
// Blocks per tensor at most; larger tensors are covered by the grid-stride loop.
constexpr unsigned kMaxBlocksPerTensor = 512;

struct AdamWLaunch {
  float* param[kAdamWTensorsPerLaunch];
  const float* grad[kAdamWTensorsPerLaunch];
  float* exp_avg[kAdamWTensorsPerLaunch];
  float* exp_avg_sq[kAdamWTensorsPerLaunch];
  std::size_t n[kAdamWTensorsPerLaunch];
  ops::AdamWScalars scalars[kAdamWTensorsPerLaunch];
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
};

// Updates tensor blockIdx.y of the launch: moments, then decayed param minus the bias-corrected Adam step.
__global__ void adamw_update_kernel(AdamWLaunch launch) {
  const unsigned t = blockIdx.y;
  float* param = launch.param[t];
  const float* grad = launch.grad[t];
  float* exp_avg = launch.exp_avg[t];
  float* exp_avg_sq = launch.exp_avg_sq[t];
  const ops::AdamWScalars s = launch.scalars[t];
  const float beta1 = launch.beta1, one_minus_beta1 = launch.one_minus_beta1;
  const float beta2 = launch.beta2, one_minus_beta2 = launch.one_minus_beta2, eps = launch.eps;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < launch.n[t];
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float g = grad[i];
    const float m = beta1 * exp_avg[i] + one_minus_beta1 * g;
    const float v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = param[i] * s.decay_factor - s.step_size * m / (sqrtf(v) / s.bias_correction2_sqrt + eps);
  }
}

}  // namespace

void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas) {
  auto& ctx = context(tensors.front().param->device().index);
  for (std::size_t first = 0; first < tensors.size(); first += kAdamWTensorsPerLaunch) {
    AdamWLaunch launch{};
    launch.beta1 = static_cast<float>(betas.beta1);
    launch.one_minus_beta1 = static_cast<float>(1.0 - betas.beta1);
    launch.beta2 = static_cast<float>(betas.beta2);
    launch.one_minus_beta2 = static_cast<float>(1.0 - betas.beta2);
    launch.eps = static_cast<float>(betas.eps);
    unsigned count = 0;
    std::size_t largest = 0;
    for (std::size_t i = first; i < std::min(tensors.size(), first + kAdamWTensorsPerLaunch); ++i) {
      const ops::AdamWTensor& t = tensors[i];
      const auto n = static_cast<std::size_t>(t.param->numel());
      if (n == 0) continue;
      launch.param[count] = t.param->data<float>();
      launch.grad[count] = t.grad->data<float>();
      launch.exp_avg[count] = t.exp_avg->data<float>();
      launch.exp_avg_sq[count] = t.exp_avg_sq->data<float>();
      launch.n[count] = n;
      launch.scalars[count] = ops::adamw_scalars(t, betas);
      largest = std::max(largest, n);
      ++count;
    }
    if (count == 0) continue;
    const dim3 grid(std::min<unsigned>(blocks_for(largest), kMaxBlocksPerTensor), count);
    GCNN_LAUNCH(adamw_update_kernel, grid, kThreadsPerBlock, 0, ctx.stream, launch);
  }
}

}  // namespace gcnn::cuda
