// Pooling (public API, any device): 2-D max pooling with padding (the ResNet
// stem), global average and max pooling, and fastai's AdaptiveConcatPool2d
// (max then average, concatenated along channels). Inputs are [N, C, H, W].
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// Window, stride and padding of max pooling. Padded positions are never the
// maximum (implicit -infinity, as torch.nn.MaxPool2d); padding may be at most
// half the window. Output size: floor((H + 2 pad - kernel) / stride) + 1.
struct Pool2dParams {
  int kernel_h = 3, kernel_w = 3, stride_h = 2, stride_w = 2, pad_h = 1, pad_w = 1;
};
// [N, C, OH, OW] for x [N, C, H, W]; throws naming the shape and params when they do not fit.
Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p);

void maxpool2d_forward(const Tensor& x, Tensor& y, const Pool2dParams& p);
// Overwrites dx; recomputes each window's argmax from x (the first maximum in
// row-major window order wins) and routes dy there.
void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const Pool2dParams& p);

// y [N, C] = mean of each plane of x [N, C, H, W]; backward spreads dy / (H W).
void global_avgpool_forward(const Tensor& x, Tensor& y);
void global_avgpool_backward(const Tensor& dy, Tensor& dx);

// y [N, C] = max of each plane; backward routes dy to the first maximum.
void global_maxpool_forward(const Tensor& x, Tensor& y);
void global_maxpool_backward(const Tensor& x, const Tensor& dy, Tensor& dx);

// y [N, 2C]: y[:, :C] = global max, y[:, C:] = global average (the fastai
// AdaptiveConcatPool2d order); backward sums both routes into dx.
void concat_pool_forward(const Tensor& x, Tensor& y);
void concat_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx);

}  // namespace gcnn::ops
