// Elementwise arithmetic (public API, any device): the residual add (alone or
// fused with the ReLU after it), gradient
// accumulation and scaling. All tensors of one call have the same shape.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// y = a + b (the residual connection); y may be a or b.
void add(const Tensor& a, const Tensor& b, Tensor& y);

// y = max(0, a + b), the end of a residual block, in one pass; y may be a or b.
// Its backward is relu_backward on y (kernels/ops/activation.h).
void add_relu(const Tensor& a, const Tensor& b, Tensor& y);
// dst += src (summing gradients from two paths).
void accumulate(Tensor& dst, const Tensor& src);
// y = alpha * x; y may be x.
void scale(const Tensor& x, float alpha, Tensor& y);

}  // namespace gcnn::ops
