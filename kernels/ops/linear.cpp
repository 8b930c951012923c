// Shape checks and device dispatch for the fully connected layer.
#include "kernels/ops/linear.h"

#include "kernels/cpu/linear.h"
#include "kernels/cuda/linear.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {
namespace {
void check_linear(const char* op, const Tensor& x, const Tensor& w) {
  GCNN_CHECK(x.ndim() == 2 && w.ndim() == 2, "{}: input {} must be [N, in] and weight {} [out, in]", op,
             x.describe(), w.describe());
  GCNN_CHECK(x.dim(1) == w.dim(1), "{}: input {} has {} features but weight {} expects {}", op, x.describe(),
             x.dim(1), w.describe(), w.dim(1));
  GCNN_CHECK(w.dim(0) > 0 && w.dim(1) > 0, "{}: weight {} has an empty dimension", op, w.describe());
}
}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, Precision precision) {
  check_linear("linear_forward", x, w);
  if (bias.defined()) check_shape("linear_forward", "bias", bias, {w.dim(0)});
  check_shape("linear_forward", "y", y, {x.dim(0), w.dim(0)});
  if (y.numel() == 0) return;  // an empty batch
  dispatch("linear_forward", {&x, &w, &bias, &y}, [&] { cpu::linear_forward(x, w, bias, y, precision); },
           [&] { cuda::linear_forward(x, w, bias, y, precision); });
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     Precision precision) {
  check_linear("linear_backward", x, w);
  check_shape("linear_backward", "dy", dy, {x.dim(0), w.dim(0)});
  if (dx) check_shape("linear_backward", "dx", *dx, x.shape());
  check_shape("linear_backward", "dw", dw, w.shape());
  if (db) check_shape("linear_backward", "db", *db, {w.dim(0)});
  if (dy.numel() == 0) {  // an empty batch contributes no gradient
    dw.zero();
    if (db) db->zero();
    return;
  }
  dispatch(
      "linear_backward", {&x, &w, &dy, dx, &dw, db}, [&] { cpu::linear_backward(x, w, dy, dx, dw, db, precision); },
      [&] { cuda::linear_backward(x, w, dy, dx, dw, db, precision); });
}

}  // namespace gcnn::ops
