// Conv2d: 2-D convolution layer (torch.nn.Conv2d names: weight [K, C, R, S],
// optional bias [K]), Kaiming-normal (fan_out) init as torchvision's ResNet.
#pragma once

#include "kernels/ops/conv.h"
#include "layers/layer.h"

namespace gcnn {

class Conv2d : public Layer {
 public:
  Conv2d(int in_channels, int out_channels, int kernel, int stride, int padding, bool bias);
  std::string type() const override { return "conv2d"; }
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  void reset_parameters(std::uint64_t seed) override;

  Parameter& weight() { return parameters()[0]; }
  // The bias, or nullptr when the convolution has none.
  Parameter* bias() { return has_bias_ ? &parameters()[1] : nullptr; }
  // Stride and padding (the precision field is the layer's precision member's business).
  const ops::Conv2dParams& geometry() const { return params_; }

 private:
  ops::Conv2dParams op_params() const;  // params_ with this layer's precision
  ops::Conv2dParams params_;
  bool has_bias_;
  Tensor x_;
};

}  // namespace gcnn
