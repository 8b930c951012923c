// The fused AdamW update on CUDA (custom kernel in adamw.cu); see kernels/ops/adamw.h.
#pragma once

#include <span>

#include "kernels/ops/adamw.h"

namespace gcnn::cuda {
void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas);
}  // namespace gcnn::cuda
