// Linear: fully connected layer (torch.nn.Linear names: weight [out, in],
// bias [out]). Init: PyTorch's default uniform(+-1/sqrt(in)), or Kaiming
// normal (fan_in) with zero bias as fastai initialises its heads, or zeros
// (zero_init: a regression head that starts by predicting the target mean).
#pragma once

#include "layers/layer.h"

namespace gcnn {

class Linear : public Layer {
 public:
  Linear(int in_features, int out_features, bool bias = true, bool kaiming_init = false);
  std::string type() const override { return "linear"; }
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  void reset_parameters(std::uint64_t seed) override;

  Parameter& weight() { return parameters()[0]; }

  bool zero_init = false;  // reset_parameters zeroes weight and bias

 private:
  bool has_bias_, kaiming_init_;
  Tensor x_;
};

}  // namespace gcnn
