// Inference-only rewriting of a model: on a CPU with AVX2 or AVX-512, in fp32
// or bf16 (the model's precision; bf16 keeps the activations in bf16 between
// layers), a torchvision-style ResNet body (conv1, bn1, relu, maxpool, then
// stages of BasicBlocks or Bottlenecks without SE blocks) is replaced by one
// FusedResNetBody layer that runs it through cpu::FusedResNet with every batch
// norm folded into the convolution before it (weights scaled, a bias added),
// from the weights and running statistics the model holds at that moment. The
// head stays as it was. Its 3x3 stride-1 convolutions run as Winograd
// F(2x2, 3x3) where that runs (cpu::Conv3x3Algorithm), unless told direct.
#pragma once

#include <string>

#include "kernels/cpu/fused_resnet.h"
#include "layers/sequential.h"

namespace gcnn {

// The rewritten body: forward only, and only in eval mode. It holds the folded
// weights alone (the layers it replaced are freed), so it has no parameters or
// buffers: a fused model's state_dict is not a checkpoint of it.
class FusedResNetBody : public Layer {
 public:
  FusedResNetBody(cpu::FusedResNetBody body, Precision precision, cpu::Conv3x3Algorithm conv3x3);
  std::string type() const override { return "fused_resnet_body"; }
  Shape output_shape(const Shape& in) const override { return fused_.output_shape(in); }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  bool uses_winograd() const { return fused_.uses_winograd(); }

 private:
  cpu::FusedResNet fused_;
};

// Rewrites model's ResNet body as above; returns why it did not (empty when it did).
std::string fuse_for_inference(Sequential& model, cpu::Conv3x3Algorithm conv3x3 = cpu::Conv3x3Algorithm::winograd);

// How model's forward runs, given what fuse_for_inference returned: "fused
// ResNet body (...)" or "layer by layer (why_not)".
std::string describe_forward(const Sequential& model, const std::string& why_not);

}  // namespace gcnn
