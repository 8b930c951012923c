// Reference AdamW update, for tests only (CPU tensors); see kernels/ops/adamw.h.
#pragma once

#include <span>

#include "kernels/ops/adamw.h"

namespace gcnn::reference {
void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas);
}  // namespace gcnn::reference
