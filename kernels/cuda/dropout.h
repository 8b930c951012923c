// Dropout on CUDA (custom kernels in dropout.cu); the mask comes from ops::dropout_mask_value.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace gcnn::cuda {
void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y);
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);
}  // namespace gcnn::cuda
