// Augmentation warp on CUDA (kernel in augment.cu; see kernels/ops/augment.h).
#pragma once

#include "kernels/tensor.h"
#include "kernels/warp.h"

namespace gcnn::cuda {
void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out);
}  // namespace gcnn::cuda
