// Squeeze-and-excitation block (Hu et al. 2018), channel attention on
// x [N, C, H, W]: squeeze (global average pool to [N, C]) -> fc1 (C -> C/r)
// -> ReLU -> fc2 (C/r -> C) -> sigmoid -> scale each channel of x by its gate.
// Parameters are named like timm's / torchvision's SE modules: fc1.weight
// [C/r, C], fc1.bias, fc2.weight [C, C/r], fc2.bias (torchvision stores the
// weights as 1x1 convolutions, [C/r, C, 1, 1]: reshape when moving weights).
//   YAML: - {type: se_block, ratio: 16}
//   ResNet: model.se_ratio: 16 puts one after the last BN of every residual
//   block (layer1.0.se.fc1.weight, ...).
#pragma once

#include "layers/activations.h"
#include "layers/linear.h"

namespace gcnn {

class SqueezeExcitation : public Layer {
 public:
  // squeeze channels = max(1, channels / ratio)
  SqueezeExcitation(int channels, int ratio);
  std::string type() const override { return "se_block"; }
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<std::pair<std::string, Layer*>> children() override { return {{"fc1", &fc1_}, {"fc2", &fc2_}}; }

 private:
  int channels_;
  Linear fc1_, fc2_;
  ReLU relu_;
  Tensor x_, z_;  // input and gate logits of the last training forward
};

}  // namespace gcnn
