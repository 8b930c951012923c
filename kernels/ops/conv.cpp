// Shape checks and device dispatch for 2-D convolution.
#include "kernels/ops/conv.h"

#include "kernels/cpu/conv.h"
#include "kernels/cuda/conv.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  GCNN_CHECK(x.size() == 4 && w.size() == 4, "conv2d: input {} must be [N, C, H, W] and weight {} [K, C, R, S]",
             shape_str(x), shape_str(w));
  GCNN_CHECK(x[1] == w[1], "conv2d: input {} has {} channels but weight {} expects {}", shape_str(x), x[1],
             shape_str(w), w[1]);
  GCNN_CHECK(p.stride_h >= 1 && p.stride_w >= 1 && p.pad_h >= 0 && p.pad_w >= 0,
             "conv2d: stride ({}, {}) must be >= 1 and padding ({}, {}) >= 0", p.stride_h, p.stride_w, p.pad_h,
             p.pad_w);
  GCNN_CHECK(w[0] > 0 && w[1] > 0 && w[2] > 0 && w[3] > 0, "conv2d: weight {} has an empty dimension",
             shape_str(w));
  const std::int64_t padded_h = x[2] + 2 * p.pad_h, padded_w = x[3] + 2 * p.pad_w;
  GCNN_CHECK(padded_h >= w[2] && padded_w >= w[3],
             "conv2d: kernel {}x{} of weight {} is larger than input {} padded by ({}, {})", w[2], w[3],
             shape_str(w), shape_str(x), p.pad_h, p.pad_w);
  return {x[0], w[0], (padded_h - w[2]) / p.stride_h + 1, (padded_w - w[3]) / p.stride_w + 1};
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const Conv2dParams& p) {
  const Shape out = conv2d_output_shape(x.shape(), w.shape(), p);
  if (bias.defined()) check_shape("conv2d_forward", "bias", bias, {w.dim(0)});
  check_shape("conv2d_forward", "y", y, out);
  if (y.numel() == 0) return;  // an empty batch
  dispatch("conv2d_forward", {&x, &w, &bias, &y}, [&] { cpu::conv2d_forward(x, w, bias, y, p); },
           [&] { cuda::conv2d_forward(x, w, bias, y, p); });
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const Conv2dParams& p) {
  const Shape out = conv2d_output_shape(x.shape(), w.shape(), p);
  check_shape("conv2d_backward", "dy", dy, out);
  if (dx) check_shape("conv2d_backward", "dx", *dx, x.shape());
  check_shape("conv2d_backward", "dw", dw, w.shape());
  if (db) check_shape("conv2d_backward", "db", *db, {w.dim(0)});
  if (dy.numel() == 0) {  // an empty batch contributes no gradient
    dw.zero();
    if (db) db->zero();
    return;
  }
  dispatch("conv2d_backward", {&x, &w, &dy, dx, &dw, db}, [&] { cpu::conv2d_backward(x, w, dy, dx, dw, db, p); },
           [&] { cuda::conv2d_backward(x, w, dy, dx, dw, db, p); });
}

void conv2d_input_gradient(const Tensor& w, const Tensor& dy, Tensor& dx, const Conv2dParams& p) {
  const Shape out = conv2d_output_shape(dx.shape(), w.shape(), p);
  check_shape("conv2d_input_gradient", "dy", dy, out);
  if (dx.numel() == 0) return;
  if (dy.numel() == 0) {
    dx.zero();
    return;
  }
  dispatch("conv2d_input_gradient", {&w, &dy, &dx}, [&] { cpu::conv2d_backward_data(w, dy, dx, p); },
           [&] { cuda::conv2d_backward_data(w, dy, dx, p); });
}

}  // namespace gcnn::ops
