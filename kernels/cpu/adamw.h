// The fused AdamW update on the CPU (OpenMP); see kernels/ops/adamw.h.
#pragma once

#include <span>

#include "kernels/ops/adamw.h"

namespace gcnn::cpu {
void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas);
}  // namespace gcnn::cpu
