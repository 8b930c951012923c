// Residual blocks of torchvision's ResNet: BasicBlock (two 3x3 convolutions,
// ResNet-18/34) and Bottleneck (1x1, 3x3 with the stride, 1x1 with 4x
// expansion: ResNet-50, "v1.5"), each with an optional projection shortcut
// "downsample" (1x1 conv + BN). out = relu(main(x) + shortcut(x)). With
// se_ratio > 0 the main path ends with a squeeze-and-excitation block "se"
// (layers/custom/se_block/) after its last BN, as in SE-ResNet.
#pragma once

#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace gcnn {

class ResidualBlock : public Layer {
 public:
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<std::pair<std::string, Layer*>> children() override;
  // torchvision's zero_init_residual: the last BN's gamma starts at 0.
  void set_zero_init_last_bn(bool on) { last_bn_->zero_gamma_init = on; }

 protected:
  // Builds the main path (named children) and the shortcut when needed.
  void finish(int in_channels, int out_channels, int stride, int se_ratio);
  std::vector<std::pair<std::string, LayerPtr>> main_;
  BatchNorm* last_bn_ = nullptr;

 private:
  std::unique_ptr<Sequential> downsample_;
  Tensor out_;  // relu output, for the backward
};

class BasicBlock : public ResidualBlock {
 public:
  static constexpr int kExpansion = 1;
  BasicBlock(int in_channels, int planes, int stride, int se_ratio = 0);
  std::string type() const override { return "basic_block"; }
};

class Bottleneck : public ResidualBlock {
 public:
  static constexpr int kExpansion = 4;
  Bottleneck(int in_channels, int planes, int stride, int se_ratio = 0);
  std::string type() const override { return "bottleneck"; }
};

}  // namespace gcnn
