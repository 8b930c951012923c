// Reductions on the CPU.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cpu {
void channel_sum(const Tensor& x, Tensor& out);
}  // namespace gcnn::cpu
