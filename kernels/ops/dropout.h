// Dropout (public API, any device) and the counter-based hash behind its mask.
// The mask depends only on (seed, element index), so the CPU and CUDA backends
// draw the same mask bit for bit, and a step can be replayed from its seed.
#pragma once

#include <cstdint>

#include "kernels/host_device.h"
#include "kernels/tensor.h"

namespace gcnn::ops {

// mask[i] = 1 / (1 - p) where element i is kept (probability 1 - p), else 0;
// y = x * mask. p in [0, 1]; p = 1 drops everything (mask all 0).
void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y);
// dx = dy * mask; dx may be dy.
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);

// A uniform draw in [0, 1) with 24 random bits (exact in float) for element
// `index` under `seed`: the splitmix64 finaliser applied to the index, mixed
// with the seed, and finalised again. Element i is kept when the draw >= p.
GCNN_HOST_DEVICE inline std::uint64_t dropout_mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
GCNN_HOST_DEVICE inline float dropout_uniform(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t h = dropout_mix64(seed ^ dropout_mix64(index + 0x9e3779b97f4a7c15ULL));
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}
// The mask value of element `index`: 0 or keep_scale = 1 / (1 - p).
GCNN_HOST_DEVICE inline float dropout_mask_value(std::uint64_t seed, std::uint64_t index, float p,
                                                 float keep_scale) {
  return dropout_uniform(seed, index) >= p ? keep_scale : 0.0f;
}

}  // namespace gcnn::ops
