// BasicBlock and Bottleneck with explicit forward/backward through both paths;
// each BN followed by a ReLU runs fused with it, and so does the final add.
#include "layers/residual_blocks.h"

#include "kernels/ops/activation.h"
#include "kernels/ops/elementwise.h"
#include "layers/custom/se_block/se_block.h"
#include "layers/registry.h"

namespace gcnn {
namespace {
// A BN with the ReLU after it fused in (one pass each way instead of two).
LayerPtr bn_relu(int channels) {
  auto bn = std::make_unique<BatchNorm>(channels);
  bn->fused_relu = true;
  return bn;
}
}  // namespace

void ResidualBlock::finish(int in_channels, int out_channels, int stride, int se_ratio) {
  last_bn_ = dynamic_cast<BatchNorm*>(main_.back().second.get());
  GCNN_CHECK(se_ratio >= 0, "{}: se_ratio {} must be >= 0 (0: no SE block)", type(), se_ratio);
  if (se_ratio > 0) main_.emplace_back("se", std::make_unique<SqueezeExcitation>(out_channels, se_ratio));
  if (stride != 1 || in_channels != out_channels) {
    downsample_ = std::make_unique<Sequential>();
    downsample_->add(std::make_unique<Conv2d>(in_channels, out_channels, 1, stride, 0, false));
    downsample_->add(std::make_unique<BatchNorm>(out_channels));
  }
}

Shape ResidualBlock::output_shape(const Shape& in) const {
  Shape s = in;
  for (const auto& [name, layer] : main_) s = layer->output_shape(s);
  return s;
}

Tensor ResidualBlock::forward(const Tensor& x, bool train) {
  Tensor h = x;
  for (std::size_t i = 0; i < main_.size(); ++i) h = main_[i].second->forward(h, train);
  Tensor shortcut = downsample_ ? downsample_->forward(x, train) : x;
  Tensor out = Tensor::empty(h.shape(), h.device());
  ops::add_relu(h, shortcut, out);
  out_ = train ? out : Tensor();
  return out;
}

Tensor ResidualBlock::backward(const Tensor& dy) {
  GCNN_CHECK(out_.defined(), "{}: backward without a training forward", type());
  Tensor g = Tensor::empty(dy.shape(), dy.device());
  ops::relu_backward(out_, dy, g);
  out_ = Tensor();
  Tensor d = g;
  for (auto it = main_.rbegin(); it != main_.rend(); ++it) d = it->second->backward(d);
  if (!needs_input_grad) {
    if (downsample_) {
      downsample_->needs_input_grad = false;
      downsample_->backward(g);
    }
    return Tensor();
  }
  if (downsample_) {
    downsample_->needs_input_grad = true;
    ops::accumulate(d, downsample_->backward(g));
  } else {
    ops::accumulate(d, g);
  }
  return d;
}

std::vector<std::pair<std::string, Layer*>> ResidualBlock::children() {
  std::vector<std::pair<std::string, Layer*>> out;
  for (auto& [name, layer] : main_) out.emplace_back(name, layer.get());
  if (downsample_) out.emplace_back("downsample", downsample_.get());
  return out;
}

BasicBlock::BasicBlock(int in_channels, int planes, int stride, int se_ratio) {
  main_.emplace_back("conv1", std::make_unique<Conv2d>(in_channels, planes, 3, stride, 1, false));
  main_.emplace_back("bn1", bn_relu(planes));
  main_.emplace_back("conv2", std::make_unique<Conv2d>(planes, planes, 3, 1, 1, false));
  main_.emplace_back("bn2", std::make_unique<BatchNorm>(planes));
  finish(in_channels, planes * kExpansion, stride, se_ratio);
}

Bottleneck::Bottleneck(int in_channels, int planes, int stride, int se_ratio) {
  main_.emplace_back("conv1", std::make_unique<Conv2d>(in_channels, planes, 1, 1, 0, false));
  main_.emplace_back("bn1", bn_relu(planes));
  main_.emplace_back("conv2", std::make_unique<Conv2d>(planes, planes, 3, stride, 1, false));
  main_.emplace_back("bn2", bn_relu(planes));
  main_.emplace_back("conv3", std::make_unique<Conv2d>(planes, planes * kExpansion, 1, 1, 0, false));
  main_.emplace_back("bn3", std::make_unique<BatchNorm>(planes * kExpansion));
  finish(in_channels, planes * kExpansion, stride, se_ratio);
}

namespace {
template <class Block>
LayerPtr make_block(LayerArgs& args) {
  const int planes = args.options.require<int>("planes");
  const int stride = args.options.get<int>("stride", 1);
  const int se_ratio = args.options.get<int>("se_ratio", 0);
  if (args.in_shape.size() != 4) args.options.fail("planes", "residual blocks need an [N, C, H, W] input");
  if (planes <= 0 || stride <= 0) args.options.fail("planes", "planes and stride must be > 0");
  if (se_ratio < 0) args.options.fail("se_ratio", "must be >= 0 (0: no squeeze-and-excitation block)");
  auto block = std::make_unique<Block>(static_cast<int>(args.in_shape[1]), planes, stride, se_ratio);
  block->set_zero_init_last_bn(args.options.get<bool>("zero_init_residual", false));
  return block;
}
}  // namespace

LayerPtr make_basic_block(LayerArgs& args) { return make_block<BasicBlock>(args); }
LayerPtr make_bottleneck(LayerArgs& args) { return make_block<Bottleneck>(args); }

}  // namespace gcnn
