// Batched augmentation warp: every output pixel of [B, 3, S, S] is sampled
// from its uint8 HWC source image through that image's affine Warp, with
// reflection padding, bilinear interpolation, brightness and normalisation
// (warp_pixel, kernels/warp.h, the same code the CPU runs). One thread per
// output pixel in a grid-stride loop.
#include "kernels/cuda/common.cuh"

#include "kernels/cuda/augment.h"

namespace gcnn::cuda {
namespace {

__global__ void augment_images_kernel(const std::uint8_t* pixels, int in_size, const float* warps,
                                      Normalization norm, float* out, int batch, int size) {
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  const std::size_t n = plane * batch;
  const std::size_t in_bytes = static_cast<std::size_t>(in_size) * in_size * 3;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t b = i / plane, p = i % plane;
    const int y = static_cast<int>(p / size), x = static_cast<int>(p % size);
    Warp w;
    for (int k = 0; k < 6; ++k) w.m[k] = warps[b * kWarpFloats + k];
    w.brightness = warps[b * kWarpFloats + 6];
    warp_pixel(pixels + b * in_bytes, in_size, w, norm, x, y, out + b * 3 * plane + p,
               static_cast<long long>(plane));
  }
}

}  // namespace

void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out) {
  const int batch = static_cast<int>(out.dim(0)), size = static_cast<int>(out.dim(2));
  const std::size_t n = static_cast<std::size_t>(batch) * size * size;
  if (n == 0) return;
  auto& ctx = context(out.device().index);
  GCNN_LAUNCH(augment_images_kernel, blocks_for(n), kThreadsPerBlock, 0, ctx.stream,
              static_cast<const std::uint8_t*>(pixels.raw_data()), in_size, warps.data<float>(), norm,
              out.data<float>(), batch, size);
}

}  // namespace gcnn::cuda
