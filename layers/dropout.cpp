// Dropout layer over ops::dropout_forward/backward.
#include "layers/dropout.h"

#include "kernels/ops/dropout.h"
#include "layers/registry.h"

namespace gcnn {

Dropout::Dropout(float p) : p_(p) { GCNN_CHECK(p >= 0.0f && p < 1.0f, "dropout: p {} must be in [0, 1)", p); }

Tensor Dropout::forward(const Tensor& x, bool train) {
  if (!train || p_ == 0.0f) {
    mask_ = Tensor();
    return x;
  }
  mask_ = Tensor::empty(x.shape(), x.device());
  Tensor y = Tensor::empty(x.shape(), x.device());
  ops::dropout_forward(x, p_, seed_, mask_, y);
  return y;
}

Tensor Dropout::backward(const Tensor& dy) {
  if (!mask_.defined()) return dy;
  Tensor dx = Tensor::empty(dy.shape(), dy.device());
  ops::dropout_backward(dy, mask_, dx);
  mask_ = Tensor();
  return dx;
}

LayerPtr make_dropout(LayerArgs& args) {
  const float p = args.options.get<float>("p", 0.5f);
  if (!(p >= 0.0f && p < 1.0f)) args.options.fail("p", "must be in [0, 1)");
  return std::make_unique<Dropout>(p);
}

}  // namespace gcnn
