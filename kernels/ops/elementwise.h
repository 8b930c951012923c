// Elementwise arithmetic (public API, any device): the residual add, gradient
// accumulation and scaling. All tensors of one call have the same shape.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// y = a + b (the residual connection); y may be a or b.
void add(const Tensor& a, const Tensor& b, Tensor& y);
// dst += src (summing gradients from two paths).
void accumulate(Tensor& dst, const Tensor& src);
// y = alpha * x; y may be x.
void scale(const Tensor& x, float alpha, Tensor& y);

}  // namespace gcnn::ops
