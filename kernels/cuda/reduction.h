// Reductions on CUDA (kernels in reduction.cu).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {
void channel_sum(const Tensor& x, Tensor& out);
}  // namespace gcnn::cuda
