// Shape checks and device dispatch for the activation ops.
#include "kernels/ops/activation.h"

#include "kernels/cpu/activation.h"
#include "kernels/cuda/activation.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

void relu_forward(const Tensor& x, Tensor& y) {
  check_same_shape("relu_forward", x, y);
  dispatch("relu_forward", {&x, &y}, [&] { cpu::relu_forward(x, y); }, [&] { cuda::relu_forward(x, y); });
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same_shape("relu_backward", y, dy);
  check_same_shape("relu_backward", y, dx);
  dispatch("relu_backward", {&y, &dy, &dx}, [&] { cpu::relu_backward(y, dy, dx); },
           [&] { cuda::relu_backward(y, dy, dx); });
}

}  // namespace gcnn::ops
