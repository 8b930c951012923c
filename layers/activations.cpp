// ReLU layer over ops::relu_forward/backward.
#include "layers/activations.h"

#include "kernels/ops/activation.h"
#include "layers/registry.h"

namespace gcnn {

Tensor ReLU::forward(const Tensor& x, bool train) {
  Tensor y = Tensor::empty(x.shape(), x.device());
  ops::relu_forward(x, y);
  y_ = train ? y : Tensor();
  return y;
}

Tensor ReLU::backward(const Tensor& dy) {
  GCNN_CHECK(y_.defined(), "relu: backward without a training forward");
  Tensor dx = Tensor::empty(dy.shape(), dy.device());
  ops::relu_backward(y_, dy, dx);
  y_ = Tensor();
  return dx;
}

LayerPtr make_relu(LayerArgs&) { return std::make_unique<ReLU>(); }

}  // namespace gcnn
