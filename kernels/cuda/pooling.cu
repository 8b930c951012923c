// Pooling on CUDA. Max pooling: one thread per output (forward) and, for the
// backward, one thread per input that gathers dy from every window covering it
// whose recomputed first argmax is that input (deterministic, no atomics).
// Global max / average / concat pooling: one warp per plane; lanes stride the
// plane, then combine sums and (value, index) maxima with warp shuffles.
#include "kernels/cuda/common.cuh"

#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/pooling.h"

namespace gcnn::cuda {
namespace {

// Shapes and window parameters of one max-pooling call.
struct PoolGeometry {
  std::int64_t planes, h, w, oh, ow;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

PoolGeometry geometry_of(const Tensor& x, const Tensor& y, const ops::Pool2dParams& p) {
  return {x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3),
          p.kernel_h,          p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w};
}

// Offset in its plane of the first maximum (row-major) of output (oy, ox)'s window.
__device__ __forceinline__ std::int64_t window_argmax(const float* plane, std::int64_t oy, std::int64_t ox,
                                                      const PoolGeometry& g) {
  const std::int64_t ty = oy * g.stride_h - g.pad_h, tx = ox * g.stride_w - g.pad_w;
  const std::int64_t y0 = ty > 0 ? ty : 0, x0 = tx > 0 ? tx : 0;
  const std::int64_t y1 = ty + g.kernel_h < g.h ? ty + g.kernel_h : g.h;
  const std::int64_t x1 = tx + g.kernel_w < g.w ? tx + g.kernel_w : g.w;
  std::int64_t best = y0 * g.w + x0;
  float best_value = plane[best];
  for (std::int64_t iy = y0; iy < y1; ++iy)
    for (std::int64_t ix = x0; ix < x1; ++ix)
      if (plane[iy * g.w + ix] > best_value) {
        best_value = plane[iy * g.w + ix];
        best = iy * g.w + ix;
      }
  return best;
}

__global__ void maxpool2d_forward_kernel(const float* x, float* y, PoolGeometry g) {
  const std::size_t total = static_cast<std::size_t>(g.planes * g.oh * g.ow);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ox = static_cast<std::int64_t>(i) % g.ow, rest = static_cast<std::int64_t>(i) / g.ow;
    const std::int64_t oy = rest % g.oh, bc = rest / g.oh;
    const float* plane = x + bc * g.h * g.w;
    y[i] = plane[window_argmax(plane, oy, ox, g)];
  }
}

// First output index along one axis whose window [o * stride - pad, + kernel) covers position i.
__device__ __forceinline__ std::int64_t first_covering(std::int64_t i, int kernel, int stride, int pad) {
  const std::int64_t reach = i + pad - kernel + 1;  // o * stride must be >= reach
  return reach <= 0 ? 0 : (reach + stride - 1) / stride;
}

__global__ void maxpool2d_backward_kernel(const float* x, const float* dy, float* dx, PoolGeometry g) {
  const std::size_t total = static_cast<std::size_t>(g.planes * g.h * g.w);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ix = static_cast<std::int64_t>(i) % g.w, rest = static_cast<std::int64_t>(i) / g.w;
    const std::int64_t iy = rest % g.h, bc = rest / g.h;
    const float* plane = x + bc * g.h * g.w;
    const float* grad = dy + bc * g.oh * g.ow;
    const std::int64_t oy_end_all = (iy + g.pad_h) / g.stride_h + 1, ox_end_all = (ix + g.pad_w) / g.stride_w + 1;
    const std::int64_t oy_end = oy_end_all < g.oh ? oy_end_all : g.oh, ox_end = ox_end_all < g.ow ? ox_end_all : g.ow;
    const std::int64_t self = iy * g.w + ix;
    float sum = 0.0f;
    for (std::int64_t oy = first_covering(iy, g.kernel_h, g.stride_h, g.pad_h); oy < oy_end; ++oy)
      for (std::int64_t ox = first_covering(ix, g.kernel_w, g.stride_w, g.pad_w); ox < ox_end; ++ox)
        if (window_argmax(plane, oy, ox, g) == self) sum += grad[oy * g.ow + ox];
    dx[i] = sum;
  }
}

// Where plane bc's pooled values go: out[(bc / c) * row + bc % c] for the max
// (max_out) and the average (avg_out); either pointer may be null.
struct PooledOutputs {
  float* max_out;
  float* avg_out;
  std::int64_t c, row;
  __device__ __forceinline__ std::int64_t index(std::int64_t bc) const { return (bc / c) * row + bc % c; }
};

PooledOutputs pooled_outputs(const Tensor& pooled, std::int64_t c, bool with_max, bool with_avg) {
  float* base = pooled.data<float>();
  const bool both = with_max && with_avg;
  return {with_max ? base : nullptr, with_avg ? base + (both ? c : 0) : nullptr, c, both ? 2 * c : c};
}

// Value and offset of the first maximum of a plane, and its sum, from one warp.
struct PlaneStats {
  float max_value;
  std::int64_t argmax;
  float sum;
};

__device__ __forceinline__ PlaneStats warp_plane_stats(const float* plane, std::int64_t size, unsigned lane) {
  // A lane with no element starts at (-inf, size): it loses every comparison.
  PlaneStats s{-INFINITY, size, 0.0f};
  for (std::int64_t i = lane; i < size; i += 32) {
    const float v = plane[i];
    s.sum += v;
    if (v > s.max_value || s.argmax == size) {
      s.max_value = v;
      s.argmax = i;
    }
  }
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other_value = __shfl_xor_sync(0xffffffffu, s.max_value, offset);
    const std::int64_t other_index = __shfl_xor_sync(0xffffffffu, s.argmax, offset);
    if (other_value > s.max_value || (other_value == s.max_value && other_index < s.argmax)) {
      s.max_value = other_value;
      s.argmax = other_index;
    }
  }
  s.sum = warp_sum(s.sum);
  return s;
}

__global__ void global_pool_forward_kernel(const float* x, std::int64_t planes, std::int64_t size,
                                           PooledOutputs out) {
  const unsigned lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / 32);
  for (std::int64_t bc = blockIdx.x * static_cast<std::int64_t>(blockDim.x / 32) + threadIdx.x / 32; bc < planes;
       bc += warps) {
    const PlaneStats s = warp_plane_stats(x + bc * size, size, lane);
    if (lane == 0) {
      if (out.max_out) out.max_out[out.index(bc)] = s.max_value;
      if (out.avg_out) out.avg_out[out.index(bc)] = s.sum / static_cast<float>(size);
    }
  }
}

__global__ void global_pool_backward_kernel(const float* x, float* dx, std::int64_t planes,
                                            std::int64_t size, PooledOutputs grads) {
  const unsigned lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / 32);
  for (std::int64_t bc = blockIdx.x * static_cast<std::int64_t>(blockDim.x / 32) + threadIdx.x / 32; bc < planes;
       bc += warps) {
    const float spread = grads.avg_out ? grads.avg_out[grads.index(bc)] / static_cast<float>(size) : 0.0f;
    std::int64_t argmax = -1;
    float max_grad = 0.0f;
    if (grads.max_out) {
      argmax = warp_plane_stats(x + bc * size, size, lane).argmax;
      max_grad = grads.max_out[grads.index(bc)];
    }
    for (std::int64_t i = lane; i < size; i += 32) dx[bc * size + i] = spread + (i == argmax ? max_grad : 0.0f);
  }
}

unsigned warp_blocks(std::int64_t planes) {
  return blocks_for(static_cast<std::size_t>(planes) * 32);
}

}  // namespace

void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p) {
  const std::size_t n = static_cast<std::size_t>(y.numel());
  if (n == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(maxpool2d_forward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(),
              y.data<float>(), geometry_of(x, y, p));
}

void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p) {
  const std::size_t n = static_cast<std::size_t>(x.numel());
  if (n == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(maxpool2d_backward_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream, x.data<float>(),
              dy.data<float>(), dx.data<float>(), geometry_of(x, dy, p));
}

void global_pool_forward(const Tensor& x, Tensor& y, bool with_max, bool with_avg) {
  const std::int64_t planes = x.dim(0) * x.dim(1);
  if (planes == 0) return;
  auto& ctx = context(x.device().index);
  GCNN_LAUNCH(global_pool_forward_kernel, warp_blocks(planes), kThreadsPerBlock, 0, ctx.stream, x.data<float>(),
              planes, x.dim(2) * x.dim(3), pooled_outputs(y, x.dim(1), with_max, with_avg));
}

void global_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx, bool with_max, bool with_avg) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1);
  if (planes == 0) return;
  auto& ctx = context(dx.device().index);
  GCNN_LAUNCH(global_pool_backward_kernel, warp_blocks(planes), kThreadsPerBlock, 0, ctx.stream,
              with_max ? x.data<float>() : nullptr, dx.data<float>(), planes,
              dx.dim(2) * dx.dim(3), pooled_outputs(dy, dx.dim(1), with_max, with_avg));
}

}  // namespace gcnn::cuda
