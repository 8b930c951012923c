// Shape checks and device dispatch for dropout.
#include "kernels/ops/dropout.h"

#include "kernels/cpu/dropout.h"
#include "kernels/cuda/dropout.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y) {
  GCNN_CHECK(p >= 0.0f && p <= 1.0f, "dropout_forward: probability {} must be in [0, 1] (input {})", p,
             x.describe());
  check_same_shape("dropout_forward", x, mask);
  check_same_shape("dropout_forward", x, y);
  dispatch("dropout_forward", {&x, &mask, &y}, [&] { cpu::dropout_forward(x, p, seed, mask, y); },
           [&] { cuda::dropout_forward(x, p, seed, mask, y); });
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  check_same_shape("dropout_backward", dy, mask);
  check_same_shape("dropout_backward", dy, dx);
  dispatch("dropout_backward", {&dy, &mask, &dx}, [&] { cpu::dropout_backward(dy, mask, dx); },
           [&] { cuda::dropout_backward(dy, mask, dx); });
}

}  // namespace gcnn::ops
