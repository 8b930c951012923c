// Augmentation warp on the CPU: one image (warp_image) and a batch of images
// with their warps (augment_images, OpenMP over the batch).
#include "kernels/cpu/augment.h"

#include <cmath>

namespace gcnn::cpu {

void warp_image(const std::uint8_t* src, int in_size, const Warp& warp, const Normalization& norm, float* dst,
                int out_size) {
  // The arithmetic of warp_pixel (kernels/warp.h), arranged for the CPU: source
  // coordinates advance linearly along a row, and reflection is only computed
  // for the few pixels that fall outside the image.
  const long long plane = static_cast<long long>(out_size) * out_size;
  const float hi = static_cast<float>(in_size - 1);
  const float scale = warp.brightness * (1.0f / 255.0f);
  float mul[3], add[3];
  for (int c = 0; c < 3; ++c) {
    mul[c] = scale * norm.inv_std[c];
    add[c] = -norm.mean[c] * norm.inv_std[c];
  }
  const bool capped = warp.brightness > 1.0f;
  for (int y = 0; y < out_size; ++y) {
    const float fy = static_cast<float>(y);
    float* row = dst + static_cast<long long>(y) * out_size;
    for (int x = 0; x < out_size; ++x) {
      const float fx = static_cast<float>(x);
      float sx = warp.m[0] * fx + warp.m[1] * fy + warp.m[2];
      float sy = warp.m[3] * fx + warp.m[4] * fy + warp.m[5];
      if (!(sx >= 0.0f && sx <= hi)) sx = reflect_coordinate(sx, in_size);
      if (!(sy >= 0.0f && sy <= hi)) sy = reflect_coordinate(sy, in_size);
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const int dx = x0 + 1 < in_size ? 3 : 0;
      const long long dy = y0 + 1 < in_size ? 3LL * in_size : 0;
      const float tx = sx - static_cast<float>(x0), ty = sy - static_cast<float>(y0);
      const std::uint8_t* p00 = src + (static_cast<long long>(y0) * in_size + x0) * 3;
      for (int c = 0; c < 3; ++c) {
        const float v00 = p00[c], v01 = p00[c + dx], v10 = p00[c + dy], v11 = p00[c + dy + dx];
        const float top = v00 + tx * (v01 - v00), bottom = v10 + tx * (v11 - v10);
        const float v = top + ty * (bottom - top);
        row[c * plane + x] = capped ? (fminf(v * scale, 1.0f) - norm.mean[c]) * norm.inv_std[c] : v * mul[c] + add[c];
      }
    }
  }
}

void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out) {
  const auto* src = static_cast<const std::uint8_t*>(pixels.raw_data());
  const float* w = warps.data<float>();
  float* dst = out.data<float>();
  const int batch = static_cast<int>(out.dim(0)), size = static_cast<int>(out.dim(2));
  const std::size_t in_bytes = static_cast<std::size_t>(in_size) * in_size * 3;
  const std::size_t out_floats = static_cast<std::size_t>(3) * size * size;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    Warp warp;
    for (int i = 0; i < 6; ++i) warp.m[i] = w[b * kWarpFloats + i];
    warp.brightness = w[b * kWarpFloats + 6];
    warp_image(src + static_cast<std::size_t>(b) * in_bytes, in_size, warp, norm,
               dst + static_cast<std::size_t>(b) * out_floats, size);
  }
}

}  // namespace gcnn::cpu
