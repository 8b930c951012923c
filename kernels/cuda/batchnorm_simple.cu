// Batch normalisation on CUDA, the simple version kept as the yardstick of the
// fast one (batchnorm.cu) in `gcnn bench kernels`. Training forward and
// backward: one block per channel; its threads stride over the channel's
// N * plane values and meet in block_sum (mean, then variance around the mean;
// or sum dy and sum dy * (x - mean)), after which every thread writes its
// share of y or dx and thread 0 the per-channel outputs. Eval forward: a
// grid-stride elementwise kernel.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/block_reduce.cuh"

namespace gcnn::cuda {
namespace {

constexpr int kChannelThreads = 256;

// x viewed as [N, C, plane]; the offset of the i-th of channel ch's N * plane values.
struct Layout {
  std::int64_t n, c, plane;
  __device__ __forceinline__ std::int64_t offset(std::int64_t i, std::int64_t ch) const {
    const std::int64_t b = i / plane;
    return (b * c + ch) * plane + (i - b * plane);
  }
  __device__ __forceinline__ std::int64_t count() const { return n * plane; }
};

Layout layout_of(const Tensor& x) { return {x.dim(0), x.dim(1), x.ndim() == 4 ? x.dim(2) * x.dim(3) : 1}; }

// One block per channel: mean, variance, y and the saved and running statistics.
__global__ void batchnorm_forward_train_simple_kernel(const float* x, const float* gamma, const float* beta,
                                               float* running_mean, float* running_var, float momentum, float eps,
                                               float* y, float* save_mean, float* save_invstd, Layout l) {
  const std::int64_t ch = blockIdx.x, count = l.count();
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) sum += x[l.offset(i, ch)];
  const float mean = block_sum(sum) / static_cast<float>(count);
  float squares = 0.0f;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const float centered = x[l.offset(i, ch)] - mean;
    squares += centered * centered;
  }
  squares = block_sum(squares);
  const float invstd = rsqrtf(squares / static_cast<float>(count) + eps);
  const float scale = gamma[ch] * invstd, shift = beta[ch] - mean * scale;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const std::int64_t o = l.offset(i, ch);
    y[o] = x[o] * scale + shift;
  }
  if (threadIdx.x == 0) {
    save_mean[ch] = mean;
    save_invstd[ch] = invstd;
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * squares / static_cast<float>(count - 1);
  }
}

// y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, one element per thread.
__global__ void batchnorm_forward_eval_simple_kernel(const float* x, const float* gamma, const float* beta,
                                              const float* running_mean, const float* running_var, float eps,
                                              float* y, Layout l) {
  const std::size_t total = static_cast<std::size_t>(l.n * l.c * l.plane);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ch = (static_cast<std::int64_t>(i) / l.plane) % l.c;
    const float scale = gamma[ch] * rsqrtf(running_var[ch] + eps);
    y[i] = (x[i] - running_mean[ch]) * scale + beta[ch];
  }
}

// One block per channel: dgamma, dbeta, then dx.
__global__ void batchnorm_backward_simple_kernel(const float* x, const float* gamma, const float* save_mean,
                                          const float* save_invstd, const float* dy, float* dx, float* dgamma,
                                          float* dbeta, Layout l) {
  const std::int64_t ch = blockIdx.x, count = l.count();
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  float sum_dy = 0.0f, sum_dy_centered = 0.0f;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const std::int64_t o = l.offset(i, ch);
    sum_dy += dy[o];
    sum_dy_centered += dy[o] * (x[o] - mean);
  }
  sum_dy = block_sum(sum_dy);
  sum_dy_centered = block_sum(sum_dy_centered);
  const float dgamma_ch = sum_dy_centered * invstd;
  // dx = gamma invstd (dy - dbeta / M - (x - mean) invstd dgamma / M)
  const float k = gamma[ch] * invstd, mean_dy = sum_dy / static_cast<float>(count),
              centered_coef = invstd * dgamma_ch / static_cast<float>(count);
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const std::int64_t o = l.offset(i, ch);
    dx[o] = k * (dy[o] - mean_dy - (x[o] - mean) * centered_coef);
  }
  if (threadIdx.x == 0) {
    dgamma[ch] = dgamma_ch;
    dbeta[ch] = sum_dy;
  }
}

}  // namespace

void batchnorm_forward_train_simple(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd) {
  const Layout l = layout_of(x);
  if (l.c == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(batchnorm_forward_train_simple_kernel, static_cast<unsigned>(l.c), kChannelThreads, 0, ctx.stream,
              x.data<float>(), gamma.data<float>(), beta.data<float>(), running_mean.data<float>(),
              running_var.data<float>(), momentum, eps, y.data<float>(), save_mean.data<float>(),
              save_invstd.data<float>(), l);
}

void batchnorm_forward_eval_simple(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y) {
  const std::size_t n = static_cast<std::size_t>(x.numel());
  if (n == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(batchnorm_forward_eval_simple_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(),
              gamma.data<float>(), beta.data<float>(), running_mean.data<float>(), running_var.data<float>(), eps,
              y.data<float>(), layout_of(x));
}

void batchnorm_backward_simple(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  const Layout l = layout_of(x);
  if (l.c == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(batchnorm_backward_simple_kernel, static_cast<unsigned>(l.c), kChannelThreads, 0, ctx.stream,
              x.data<float>(), gamma.data<float>(), save_mean.data<float>(), save_invstd.data<float>(),
              dy.data<float>(), dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(), l);
}

}  // namespace gcnn::cuda
