// Reference dropout, for tests only (CPU tensors); the mask comes from
// ops::dropout_uniform, as on every backend.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace gcnn::reference {
void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y);
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);
}  // namespace gcnn::reference
