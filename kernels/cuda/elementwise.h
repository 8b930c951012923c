// Elementwise arithmetic on CUDA (custom kernels in elementwise.cu).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {
void add(const Tensor& a, const Tensor& b, Tensor& y);
void add_relu(const Tensor& a, const Tensor& b, Tensor& y);
void accumulate(Tensor& dst, const Tensor& src);
void scale(const Tensor& x, float alpha, Tensor& y);
}  // namespace gcnn::cuda
