// Per-channel sum of an [N, C, ...] tensor: one block per channel; each thread
// strides over that channel's N * plane elements, then block_sum combines the
// partial sums (warp shuffles, then shared memory).
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/reduction.h"

namespace gcnn::cuda {
namespace {

constexpr int kReduceThreads = 256;  // a multiple of the warp size, as block_sum needs

__global__ void channel_sum_kernel(const float* x, float* out, std::int64_t n, std::int64_t c,
                                   std::int64_t plane) {
  const std::int64_t ch = blockIdx.x;
  const std::int64_t count = n * plane;
  float sum = 0.0f;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    std::int64_t b = i / plane, p = i - b * plane;
    sum += x[(b * c + ch) * plane + p];
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) out[ch] = sum;
}

}  // namespace

void channel_sum(const Tensor& x, Tensor& out) {
  const std::int64_t n = x.dim(0), c = x.dim(1);
  if (c == 0) return;
  const std::int64_t plane = n == 0 ? 0 : x.numel() / (n * c);
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(channel_sum_kernel, static_cast<unsigned>(c), kReduceThreads, 0, ctx.stream, x.data<float>(),
              out.data<float>(), n, c, plane);
}

}  // namespace gcnn::cuda
