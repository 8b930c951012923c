// Warp- and block-wide sums shared by the CUDA kernels (channel_sum, batch-norm
// statistics, loss sums): each thread passes its partial value and every
// thread of the warp or block gets the total. Included after common.cuh.
#pragma once

namespace gcnn::cuda {

// Sum over the 32 lanes of a warp (butterfly: every lane ends with the total).
__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

// Sum over all threads of the block; blockDim.x must be a multiple of 32 (at
// most 1024) and every thread of the block must call it. Warps reduce with
// shuffles, then warp totals meet in shared memory; the trailing barrier lets
// a kernel call block_sum again straight away.
__device__ __forceinline__ float block_sum(float value) {
  __shared__ float warp_totals[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  value = warp_sum(value);
  if (lane == 0) warp_totals[warp] = value;
  __syncthreads();
  value = warp_sum(lane < warps ? warp_totals[lane] : 0.0f);
  __syncthreads();
  return value;
}

}  // namespace gcnn::cuda
