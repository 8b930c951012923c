// 2-D convolution (cross-correlation, as in every deep learning framework) on
// NCHW tensors, forward and backward, any kernel size, stride and padding.
#pragma once

#include "kernels/precision.h"
#include "kernels/tensor.h"

namespace gcnn::ops {

struct Conv2dParams {
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  // Arithmetic of all three directions (kernels/precision.h); outputs and
  // gradients are FP32 tensors whatever it is.
  Precision precision = Precision::fp32;
};

// Output shape [N, K, OH, OW] of x [N, C, H, W] convolved with w [K, C, R, S]:
// OH = (H + 2 pad_h - R) / stride_h + 1 (and likewise OW). Throws naming the
// shapes when they do not fit together or the output would be empty.
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p);

// y[n,k,oh,ow] = bias[k] + sum_{c,r,s} x[n, c, oh*stride_h - pad_h + r, ow*stride_w - pad_w + s] * w[k,c,r,s]
// (zero outside x). bias undefined means none, else [K]. y must already have
// the output shape; it is overwritten.
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const Conv2dParams& p);

// Gradients of the forward above given dy = dL/dy. Overwrites the outputs it
// is given: dx (shape of x; may be nullptr, e.g. for the first layer), dw
// (shape of w), db ([K]; nullptr when the convolution has no bias).
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const Conv2dParams& p);

// dx alone, for a convolution whose weights are frozen: no backward-filter
// (the larger half of a backward's work in ResNet's early stages).
void conv2d_input_gradient(const Tensor& w, const Tensor& dy, Tensor& dx, const Conv2dParams& p);

}  // namespace gcnn::ops
