// Shape checks and device dispatch for the pooling ops.
#include "kernels/ops/pooling.h"

#include "kernels/cpu/pooling.h"
#include "kernels/cuda/pooling.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {
namespace {

void check_planes(const char* op, const Tensor& x) {
  GCNN_CHECK(x.ndim() == 4, "{}: input {} must be [N, C, H, W]", op, x.describe());
}

// Shared by the three global pools: x [N, C, H, W] with H * W > 0, pooled [N, channels_per_row].
void check_global(const char* op, const Tensor& x, const Tensor& pooled, std::int64_t row) {
  check_planes(op, x);
  GCNN_CHECK(x.dim(2) * x.dim(3) > 0, "{}: input {} has empty planes", op, x.describe());
  check_shape(op, "pooled", pooled, {x.dim(0), row});
}

}  // namespace

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p) {
  GCNN_CHECK(x.size() == 4, "pool2d: input shape {} must be [N, C, H, W]", shape_str(x));
  GCNN_CHECK(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0 && p.pad_h >= 0 && p.pad_w >= 0,
             "pool2d: kernel {}x{}, stride {}x{}, padding {}x{}: kernel and stride must be positive, padding >= 0",
             p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w);
  GCNN_CHECK(2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w,
             "pool2d: padding {}x{} exceeds half the kernel {}x{}", p.pad_h, p.pad_w, p.kernel_h, p.kernel_w);
  const std::int64_t padded_h = x[2] + 2 * p.pad_h, padded_w = x[3] + 2 * p.pad_w;
  GCNN_CHECK(padded_h >= p.kernel_h && padded_w >= p.kernel_w,
             "pool2d: input {} with padding {}x{} is smaller than the kernel {}x{}", shape_str(x), p.pad_h, p.pad_w,
             p.kernel_h, p.kernel_w);
  return {x[0], x[1], (padded_h - p.kernel_h) / p.stride_h + 1, (padded_w - p.kernel_w) / p.stride_w + 1};
}

void maxpool2d_forward(const Tensor& x, Tensor& y, const Pool2dParams& p) {
  check_planes("maxpool2d_forward", x);
  check_shape("maxpool2d_forward", "y", y, pool2d_output_shape(x.shape(), p));
  dispatch("maxpool2d_forward", {&x, &y}, [&] { cpu::maxpool2d_forward(x, y, p); },
           [&] { cuda::maxpool2d_forward(x, y, p); });
}

void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const Pool2dParams& p) {
  check_planes("maxpool2d_backward", x);
  check_shape("maxpool2d_backward", "dy", dy, pool2d_output_shape(x.shape(), p));
  check_same_shape("maxpool2d_backward", x, dx);
  dispatch("maxpool2d_backward", {&x, &dy, &dx}, [&] { cpu::maxpool2d_backward(x, dy, dx, p); },
           [&] { cuda::maxpool2d_backward(x, dy, dx, p); });
}

namespace {

void global_forward(const char* op, const Tensor& x, Tensor& y, bool with_max, bool with_avg) {
  check_global(op, x, y, (with_max && with_avg ? 2 : 1) * x.dim(1));
  dispatch(op, {&x, &y}, [&] { cpu::global_pool_forward(x, y, with_max, with_avg); },
           [&] { cuda::global_pool_forward(x, y, with_max, with_avg); });
}

void global_backward(const char* op, const Tensor& x, const Tensor& dy, Tensor& dx, bool with_max, bool with_avg) {
  check_global(op, dx, dy, (with_max && with_avg ? 2 : 1) * dx.dim(1));
  if (with_max) {
    GCNN_CHECK(x.defined(), "{}: the forward input x is needed to route the max gradient", op);
    check_same_shape(op, x, dx);
  }
  dispatch(op, {&x, &dy, &dx}, [&] { cpu::global_pool_backward(x, dy, dx, with_max, with_avg); },
           [&] { cuda::global_pool_backward(x, dy, dx, with_max, with_avg); });
}

}  // namespace

void global_avgpool_forward(const Tensor& x, Tensor& y) { global_forward("global_avgpool_forward", x, y, false, true); }
void global_avgpool_backward(const Tensor& dy, Tensor& dx) {
  global_backward("global_avgpool_backward", Tensor(), dy, dx, false, true);
}
void global_maxpool_forward(const Tensor& x, Tensor& y) { global_forward("global_maxpool_forward", x, y, true, false); }
void global_maxpool_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  global_backward("global_maxpool_backward", x, dy, dx, true, false);
}
void concat_pool_forward(const Tensor& x, Tensor& y) { global_forward("concat_pool_forward", x, y, true, true); }
void concat_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  global_backward("concat_pool_backward", x, dy, dx, true, true);
}

}  // namespace gcnn::ops
