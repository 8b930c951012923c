// fuse_for_inference: reads the ResNet body's layers in order, folds each
// batch norm into its convolution (in double: scale = gamma / sqrt(var + eps),
// w' = w scale, b' = beta + (b - mean) scale) and hands the result to
// cpu::FusedResNet; anything it does not recognise leaves the model as it was.
#include "layers/fused_inference.h"

#include <cmath>
#include <cstddef>

#include "kernels/cpu/isa.h"
#include "kernels/error.h"
#include "kernels/host_allocator.h"
#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/pooling.h"
#include "layers/residual_blocks.h"

namespace gcnn {
namespace {

// conv followed by bn, as one convolution with a bias (into out); a reason when they do not fold.
std::string fold(Conv2d& conv, BatchNorm& bn, cpu::FoldedConv& out) {
  const ops::Conv2dParams& g = conv.geometry();
  if (g.stride_h != g.stride_w || g.pad_h != g.pad_w) return "a convolution with unequal strides or paddings";
  const std::vector<float> w = conv.weight().value.to_vector();
  const std::vector<float> b = conv.bias() ? conv.bias()->value.to_vector() : std::vector<float>();
  const std::vector<float> gamma = bn.gamma().value.to_vector(), beta = bn.beta().value.to_vector();
  const std::vector<float> mean = bn.buffers()[0].value.to_vector(), var = bn.buffers()[1].value.to_vector();
  const Shape shape = conv.weight().value.shape();
  const std::size_t k = static_cast<std::size_t>(shape[0]), per_k = w.size() / k;
  std::vector<float> folded_w(w.size()), folded_b(k);
  for (std::size_t o = 0; o < k; ++o) {
    const double scale = gamma[o] / std::sqrt(static_cast<double>(var[o]) + bn.eps());
    for (std::size_t i = 0; i < per_k; ++i) folded_w[o * per_k + i] = static_cast<float>(w[o * per_k + i] * scale);
    folded_b[o] = static_cast<float>(beta[o] + ((b.empty() ? 0.0 : b[o]) - mean[o]) * scale);
  }
  out = {Tensor::from_vector(shape, folded_w), Tensor::from_vector({static_cast<std::int64_t>(k)}, folded_b),
         g.stride_h, g.pad_h, nullptr};
  return "";
}

// The (conv, bn) pairs of a residual block's main path and its shortcut; a
// reason when the block has anything else (an SE block) or other ReLUs.
std::string read_block(Layer& layer, cpu::FusedBlock& out) {
  if (!dynamic_cast<ResidualBlock*>(&layer)) return "a " + layer.type() + " among the residual stages";
  std::vector<std::pair<std::string, Layer*>> parts = layer.children();
  Sequential* shortcut = nullptr;
  if (!parts.empty() && parts.back().first == "downsample") {
    shortcut = dynamic_cast<Sequential*>(parts.back().second);
    parts.pop_back();
  }
  if (parts.size() < 4 || parts.size() % 2 != 0)
    return "a residual block with " + std::to_string(parts.size()) + " layers";
  for (std::size_t i = 0; i < parts.size(); i += 2) {
    auto* conv = dynamic_cast<Conv2d*>(parts[i].second);
    auto* bn = dynamic_cast<BatchNorm*>(parts[i + 1].second);
    if (!conv || !bn)
      return "a residual block with a " + parts[i].second->type() + " or " + parts[i + 1].second->type();
    if (bn->fused_relu != (i + 2 < parts.size())) return "a residual block whose ReLUs are not the usual ones";
    out.convs.emplace_back();
    if (std::string why = fold(*conv, *bn, out.convs.back()); !why.empty()) return why;
  }
  if (shortcut) {
    if (shortcut->size() != 2) return "a shortcut of " + std::to_string(shortcut->size()) + " layers";
    auto* conv = dynamic_cast<Conv2d*>(&shortcut->at(0));
    auto* bn = dynamic_cast<BatchNorm*>(&shortcut->at(1));
    if (!conv || !bn || bn->fused_relu) return "a shortcut other than conv + batch norm";
    out.projection.emplace();
    return fold(*conv, *bn, *out.projection);
  }
  return "";
}

}  // namespace

FusedResNetBody::FusedResNetBody(cpu::FusedResNetBody body, Precision precision, cpu::Conv3x3Algorithm conv3x3)
    : fused_(std::move(body), precision, conv3x3) {}

Tensor FusedResNetBody::forward(const Tensor& x, bool train) {
  GCNN_CHECK(!train, "fused_resnet_body: an inference-only rewrite of the model cannot train");
  return fused_.forward(x);
}

Tensor FusedResNetBody::backward(const Tensor&) {
  GCNN_FAIL("fused_resnet_body: an inference-only rewrite of the model has no backward");
}

std::string fuse_for_inference(Sequential& model, cpu::Conv3x3Algorithm conv3x3) {
  if (model.type() != "sequential") return "the model is a " + model.type();
  if (!layer_device(model).is_cpu()) return "the model is not on the CPU";
  if (model.precision != Precision::fp32 && !(model.precision == Precision::bf16 && cpu::onednn_has_bf16()))
    return "precision " + std::string(precision_name(model.precision)) + " on " + cpu::onednn_isa();
  if (cpu::onednn_conv_channel_block() == 0)  // see activation_layout in kernels/cpu/fused_resnet.cpp
    return "oneDNN runs on " + cpu::onednn_isa() + "; the fused body needs AVX2 or AVX-512";
  if (model.size() < 5) return "not a ResNet";
  auto* conv = dynamic_cast<Conv2d*>(&model.at(0));
  auto* bn = dynamic_cast<BatchNorm*>(&model.at(1));
  auto* pool = dynamic_cast<MaxPool2d*>(&model.at(3));
  if (!conv || !bn || bn->fused_relu || !dynamic_cast<ReLU*>(&model.at(2)) || !pool)
    return "not a ResNet stem (conv, batch norm, ReLU, max pool)";
  cpu::FusedResNetBody body{{}, pool->params(), {}};
  if (std::string why = fold(*conv, *bn, body.stem); !why.empty()) return why;
  std::size_t end = 4;
  for (; end < model.size(); ++end) {
    auto* stage = dynamic_cast<Sequential*>(&model.at(end));
    if (!stage || stage->type() != "sequential" || stage->size() == 0 || !dynamic_cast<ResidualBlock*>(&stage->at(0)))
      break;
    for (std::size_t i = 0; i < stage->size(); ++i) {
      cpu::FusedBlock block;
      const std::string why = read_block(stage->at(i), block);
      if (!why.empty()) return why;
      body.blocks.push_back(std::move(block));
    }
  }
  if (body.blocks.empty()) return "no residual stages after the stem";
  // The replaced layers go first, their memory back to the system (the host allocator would keep it for blocks of
  // the same sizes, which nothing asks for again): their weights, the folded copies and Winograd's transformed
  // weights (built by the fused body) never all coexist, which would set the peak resident memory of predict.
  model.erase_front(end);
  host::empty_cache();
  model.replace_front(0, std::make_unique<FusedResNetBody>(std::move(body), model.precision, conv3x3), "body");
  return "";
}

std::string describe_forward(const Sequential& model, const std::string& why_not) {
  if (!why_not.empty()) return "layer by layer (" + why_not + ")";
  const auto* body = model.size() > 0 ? dynamic_cast<const FusedResNetBody*>(&model.at(0)) : nullptr;
  GCNN_CHECK(body, "describe_forward: a model without a fused body, and no reason given");
  return std::string("fused ResNet body (batch norms folded, oneDNN layouts kept") +
         (body->uses_winograd() ? ", 3x3 convolutions by Winograd F(2x2, 3x3))" : ")");
}

}  // namespace gcnn
