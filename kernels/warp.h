// The per-pixel core of augmentation, shared by the CPU path (kernels/cpu/augment.cpp,
// data/augment.cpp) and the CUDA kernel (kernels/cuda/augment.cu): an affine map from output pixel
// centres to source coordinates, reflection padding, bilinear sampling of uint8
// HWC pixels, brightness and per-channel normalisation into float CHW.
// Plain C++ that nvcc also compiles (no fmt, no exceptions).
#pragma once

#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define GCNN_HOST_DEVICE __host__ __device__
#else
#define GCNN_HOST_DEVICE
#endif

namespace gcnn {

// Source position (x, y) of output pixel (ox, oy), in pixel-centre units:
//   x = m[0] * ox + m[1] * oy + m[2],   y = m[3] * ox + m[4] * oy + m[5],
// then each channel value v/255 is scaled by brightness and normalised as
// (v * brightness - mean[c]) / std[c].
struct Warp {
  float m[6] = {1, 0, 0, 0, 1, 0};
  float brightness = 1;
};
// A Warp as 7 consecutive floats (m[0..5], brightness), as ops take them.
constexpr int kWarpFloats = 7;

struct Normalization {
  float mean[3] = {0, 0, 0};
  float inv_std[3] = {1, 1, 1};
};

// Reflects a coordinate into [0, size - 1] about the image's outer edges
// (at -0.5 and size - 0.5), as reflection padding does.
GCNN_HOST_DEVICE inline float reflect_coordinate(float x, int size) {
  const float period = 2.0f * static_cast<float>(size);
  float t = x + 0.5f;
  t = t - period * floorf(t / period);
  if (t > static_cast<float>(size)) t = period - t;
  t -= 0.5f;
  return fminf(fmaxf(t, 0.0f), static_cast<float>(size - 1));
}

// Writes the 3 normalised channels of output pixel (ox, oy) of a warped image:
// src is in_size x in_size x 3 uint8, out points at channel 0 of the pixel in a
// CHW float image whose channel planes are plane floats apart.
GCNN_HOST_DEVICE inline void warp_pixel(const std::uint8_t* src, int in_size, const Warp& w,
                                        const Normalization& norm, int ox, int oy, float* out,
                                        long long plane) {
  const float fx = static_cast<float>(ox), fy = static_cast<float>(oy);
  const float sx = reflect_coordinate(w.m[0] * fx + w.m[1] * fy + w.m[2], in_size);
  const float sy = reflect_coordinate(w.m[3] * fx + w.m[4] * fy + w.m[5], in_size);
  const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
  const int x1 = x0 + 1 < in_size ? x0 + 1 : x0, y1 = y0 + 1 < in_size ? y0 + 1 : y0;
  const float tx = sx - static_cast<float>(x0), ty = sy - static_cast<float>(y0);
  const std::uint8_t* p00 = src + (static_cast<long long>(y0) * in_size + x0) * 3;
  const std::uint8_t* p01 = src + (static_cast<long long>(y0) * in_size + x1) * 3;
  const std::uint8_t* p10 = src + (static_cast<long long>(y1) * in_size + x0) * 3;
  const std::uint8_t* p11 = src + (static_cast<long long>(y1) * in_size + x1) * 3;
  const float scale = w.brightness * (1.0f / 255.0f);
  for (int c = 0; c < 3; ++c) {
    const float top = static_cast<float>(p00[c]) + tx * (static_cast<float>(p01[c]) - static_cast<float>(p00[c]));
    const float bottom = static_cast<float>(p10[c]) + tx * (static_cast<float>(p11[c]) - static_cast<float>(p10[c]));
    const float v = fminf((top + ty * (bottom - top)) * scale, 1.0f);
    out[c * plane] = (v - norm.mean[c]) * norm.inv_std[c];
  }
}

}  // namespace gcnn
