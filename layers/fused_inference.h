// Inference-only rewriting of a model: on the CPU in fp32 or bf16 (the model's
// precision; bf16 keeps the activations in bf16 between layers), a torchvision-style
// ResNet body (conv1, bn1, relu, maxpool, then stages of BasicBlocks or
// Bottlenecks without SE blocks) is replaced by one FusedResNetBody layer that
// runs it through cpu::FusedResNet with every batch norm folded into the
// convolution before it (weights scaled, a bias added), from the weights and
// running statistics the model holds at that moment. The head stays as it was.
#pragma once

#include <string>

#include "kernels/cpu/fused_resnet.h"
#include "layers/sequential.h"

namespace gcnn {

// The rewritten body: forward only, and only in eval mode. Its children are the
// layers it replaced (so output_shape and parameter counts stay those of the
// model), but changing their weights afterwards does not change its output.
class FusedResNetBody : public Layer {
 public:
  FusedResNetBody(cpu::FusedResNetBody body, Precision precision);
  // Takes the layers it stands for (fuse_for_inference's replace_front gives them back).
  void keep_replaced(std::vector<std::pair<std::string, LayerPtr>> replaced);
  std::string type() const override { return "fused_resnet_body"; }
  Shape output_shape(const Shape& in) const override;
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<std::pair<std::string, Layer*>> children() override;

 private:
  cpu::FusedResNet fused_;
  std::vector<std::pair<std::string, LayerPtr>> replaced_;
};

// Rewrites model's ResNet body as above; returns why it did not (empty when it did).
std::string fuse_for_inference(Sequential& model);

}  // namespace gcnn
