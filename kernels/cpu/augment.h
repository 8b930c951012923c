// Augmentation warp on the CPU (see kernels/warp.h and kernels/ops/augment.h).
#pragma once

#include <cstdint>

#include "kernels/tensor.h"
#include "kernels/warp.h"

namespace gcnn::cpu {
// One image: src in_size x in_size x 3 uint8 -> dst 3 x out_size x out_size float.
void warp_image(const std::uint8_t* src, int in_size, const Warp& warp, const Normalization& norm, float* dst,
                int out_size);
void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out);
}  // namespace gcnn::cpu
