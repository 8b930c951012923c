// Parameter-free activation layers: ReLU.
#pragma once

#include "layers/layer.h"

namespace gcnn {

class ReLU : public Layer {
 public:
  std::string type() const override { return "relu"; }
  Shape output_shape(const Shape& in) const override { return in; }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;

 private:
  Tensor y_;
};

}  // namespace gcnn
