// ResNet, plain CNN and regression-head builders.
#include "layers/models.h"

#include "kernels/error.h"
#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/custom/dihedral_pool/dihedral_pool.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/pooling.h"
#include "layers/residual_blocks.h"

namespace gcnn {
namespace {

template <class Block>
std::unique_ptr<Sequential> make_stage(int& in_channels, int planes, int blocks, int stride, bool zero_init,
                                       int se_ratio) {
  auto stage = std::make_unique<Sequential>();
  for (int i = 0; i < blocks; ++i) {
    auto block = std::make_unique<Block>(in_channels, planes, i == 0 ? stride : 1, se_ratio);
    block->set_zero_init_last_bn(zero_init);
    in_channels = planes * Block::kExpansion;
    stage->add(std::move(block));
  }
  return stage;
}

// A plain Sequential, or a DihedralPool when the model averages over the transforms.
std::unique_ptr<Sequential> make_model_container(bool dihedral_pool) {
  if (dihedral_pool) return std::make_unique<DihedralPool>();
  return std::make_unique<Sequential>();
}

// Appends the head; a DihedralPool's body ends with the head's pooling.
void finish_model(Sequential& net, int channels, const HeadOptions& head, bool dihedral_pool) {
  const std::size_t pooled = append_head(net, channels, head, dihedral_pool);
  if (dihedral_pool) static_cast<DihedralPool&>(net).set_body_size(pooled);
}

}  // namespace

std::size_t append_head(Sequential& net, int channels, const HeadOptions& o, bool pool_apart) {
  GCNN_CHECK(o.n_targets > 0, "head: n_targets {} must be > 0", o.n_targets);
  if (o.kind == "linear") {
    net.add(std::make_unique<GlobalAvgPool>(), "avgpool");
    const std::size_t pooled = net.size();
    auto fc = std::make_unique<Linear>(channels, o.n_targets);
    fc->zero_init = o.zero_init;
    net.add(std::move(fc), "fc");
    return pooled;
  }
  GCNN_CHECK(o.kind == "fastai", "head: kind '{}' must be fastai or linear", o.kind);
  GCNN_CHECK(o.hidden > 0, "head: hidden {} must be > 0", o.hidden);
  // Children named by their index in fastai's nn.Sequential, also when the pool sits apart.
  auto head = std::make_unique<Sequential>();
  int index = 0;
  auto add = [&](LayerPtr layer) { head->add(std::move(layer), std::to_string(index++)); };
  if (pool_apart) {
    net.add(std::make_unique<ConcatPool>(), "pool");
    ++index;
  } else {
    add(std::make_unique<ConcatPool>());
  }
  const std::size_t pooled = net.size();
  add(std::make_unique<Flatten>());
  add(std::make_unique<BatchNorm>(2 * channels));
  add(std::make_unique<Dropout>(o.dropout1));
  add(std::make_unique<Linear>(2 * channels, o.hidden, true, true));
  add(std::make_unique<ReLU>());
  add(std::make_unique<BatchNorm>(o.hidden));
  add(std::make_unique<Dropout>(o.dropout2));
  auto last = std::make_unique<Linear>(o.hidden, o.n_targets, true, true);
  last->zero_init = o.zero_init;
  add(std::move(last));
  net.add(std::move(head), "head");
  return pooled;
}

std::unique_ptr<Sequential> make_resnet(const ResNetOptions& o, std::uint64_t seed) {
  GCNN_CHECK(o.depth == 18 || o.depth == 34 || o.depth == 50, "resnet: depth {} must be 18, 34 or 50", o.depth);
  GCNN_CHECK(o.width > 0 && o.in_channels > 0, "resnet: width {} and in_channels {} must be > 0", o.width,
             o.in_channels);
  const std::vector<int> blocks = o.depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3};
  GCNN_CHECK(o.se_ratio >= 0, "resnet: se_ratio {} must be >= 0", o.se_ratio);
  auto net = make_model_container(o.dihedral_pool);
  net->add(std::make_unique<Conv2d>(o.in_channels, o.width, 7, 2, 3, false), "conv1");
  net->add(std::make_unique<BatchNorm>(o.width), "bn1");
  net->add(std::make_unique<ReLU>(), "relu");
  net->add(std::make_unique<MaxPool2d>(ops::Pool2dParams{3, 3, 2, 2, 1, 1}), "maxpool");
  int channels = o.width;
  for (int stage = 0; stage < 4; ++stage) {
    const int planes = o.width << stage;
    const int stride = stage == 0 ? 1 : 2;
    auto layer = o.depth == 50
                     ? make_stage<Bottleneck>(channels, planes, blocks[stage], stride, o.zero_init_residual, o.se_ratio)
                     : make_stage<BasicBlock>(channels, planes, blocks[stage], stride, o.zero_init_residual, o.se_ratio);
    net->add(std::move(layer), "layer" + std::to_string(stage + 1));
  }
  finish_model(*net, channels, o.head, o.dihedral_pool);
  net->reset_parameters(seed);
  net->needs_input_grad = false;
  return net;
}

std::unique_ptr<Sequential> make_plain_cnn(const PlainCnnOptions& o, std::uint64_t seed) {
  GCNN_CHECK(!o.channels.empty(), "plain_cnn: channels must list at least one block");
  auto features = std::make_unique<Sequential>();
  int channels = o.in_channels;
  for (int out : o.channels) {
    GCNN_CHECK(out > 0, "plain_cnn: channels must be > 0, got {}", out);
    features->add(std::make_unique<Conv2d>(channels, out, 3, 1, 1, false));
    features->add(std::make_unique<BatchNorm>(out));
    features->add(std::make_unique<ReLU>());
    features->add(std::make_unique<MaxPool2d>(ops::Pool2dParams{2, 2, 2, 2, 0, 0}));
    channels = out;
  }
  auto net = make_model_container(o.dihedral_pool);
  net->add(std::move(features), "features");
  finish_model(*net, channels, o.head, o.dihedral_pool);
  net->reset_parameters(seed);
  net->needs_input_grad = false;
  return net;
}

bool is_head_parameter(const std::string& name) { return name.starts_with("fc.") || name.starts_with("head."); }

}  // namespace gcnn
