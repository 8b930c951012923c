// FP32 <-> bf16 conversion of CUDA tensors: one grid-stride launch per tensor.
// Each element reads 4 and writes 2 bytes (or the reverse): memory-bound, about
// 6 bytes per element at the device's bandwidth.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/bf16_convert.h"

namespace gcnn::cuda {
namespace {

// out[i] = in[i] rounded to the nearest bf16 (ties to even, NaN kept NaN).
__global__ void float_to_bf16_kernel(const float* in, __nv_bfloat16* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16_rn(in[i]);
}

// out[i] = in[i] as a float (exact: every bf16 value is a float).
__global__ void bf16_to_float_kernel(const __nv_bfloat16* in, float* out, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[i] = __bfloat162float(in[i]);
}

}  // namespace

Tensor to_bf16(const Tensor& src) {
  GCNN_CHECK(src.device().is_cuda() && src.dtype() == DType::F32, "to_bf16: {} is not an f32 CUDA tensor",
             src.describe());
  Tensor out = Tensor::empty(src.shape(), src.device(), DType::BF16);
  if (src.numel() == 0) return out;
  GCNN_LAUNCH(float_to_bf16_kernel, blocks_for(static_cast<std::size_t>(src.numel())), kThreadsPerBlock, 0,
              context(src.device().index).stream, src.data<float>(), static_cast<__nv_bfloat16*>(out.raw_data()),
              src.numel());
  return out;
}

void bf16_to_float(const Tensor& src, Tensor& dst) {
  GCNN_CHECK(src.dtype() == DType::BF16 && dst.dtype() == DType::F32 && src.numel() == dst.numel() &&
                 src.device() == dst.device() && src.device().is_cuda(),
             "bf16_to_float: needs a bf16 and an f32 CUDA tensor of the same size, got {} and {}", src.describe(),
             dst.describe());
  if (src.numel() == 0) return;
  GCNN_LAUNCH(bf16_to_float_kernel, blocks_for(static_cast<std::size_t>(src.numel())), kThreadsPerBlock, 0,
              context(src.device().index).stream, static_cast<const __nv_bfloat16*>(src.raw_data()),
              dst.data<float>(), src.numel());
}

}  // namespace gcnn::cuda
