// Model presets: torchvision's ResNet-18/34/50 (same topology and state_dict
// names: conv1, bn1, layer1.0.conv1, layer2.0.downsample.0/1, ..., fc), a
// small plain CNN for quick runs, and the two regression heads:
//  - "linear": global average pool -> fc (torchvision's names: fc.weight, fc.bias)
//  - "fastai": fastai's create_head, named head.0 ... head.8 as its nn.Sequential:
//      head.0 concat pool (max | avg), head.1 flatten, head.2 BatchNorm1d(2C),
//      head.3 dropout(p1), head.4 linear(2C -> hidden), head.5 ReLU,
//      head.6 BatchNorm1d(hidden), head.7 dropout(p2), head.8 linear(hidden -> n_targets)
// With dihedral_pool the model is a DihedralPool (layers/custom/dihedral_pool/):
// the body and the head's pooling run on the 8 dihedral transforms of each
// image and the pooled features are averaged before the rest of the head; the
// fastai head's concat pool then sits before it as "pool" (no parameters), so
// every parameter keeps its name. se_ratio > 0 adds a squeeze-and-excitation
// block "se" to every residual block (layer1.0.se.fc1.weight, ...).
// A model is a Sequential; parameters named "fc." or "head." form the head
// group, all others the body (what a pretrained file initialises and what
// freezing keeps fixed).
#pragma once

#include <string>
#include <vector>

#include "layers/layer.h"
#include "layers/sequential.h"

namespace gcnn {

struct HeadOptions {
  std::string kind = "fastai";  // "fastai" or "linear"
  int hidden = 512;
  float dropout1 = 0.25f;
  float dropout2 = 0.5f;
  int n_targets = 1;
  bool zero_init = false;  // the last linear layer starts at zero (predicts the target mean)
};

struct ResNetOptions {
  int depth = 18;              // 18, 34 or 50
  int width = 64;              // channels of the first stage (torchvision: 64)
  int in_channels = 3;
  bool zero_init_residual = false;
  int se_ratio = 0;            // squeeze-and-excitation reduction ratio (0: none)
  bool dihedral_pool = false;  // average the pooled features of the 8 dihedral transforms
  HeadOptions head;
};

struct PlainCnnOptions {
  std::vector<int> channels{16, 32, 64};  // one conv3x3-BN-ReLU-maxpool2 block each
  int in_channels = 3;
  bool dihedral_pool = false;
  HeadOptions head;
};

// Both build a Sequential, initialise it from seed and mark the first layer
// as not needing an input gradient.
std::unique_ptr<Sequential> make_resnet(const ResNetOptions& options, std::uint64_t seed);
std::unique_ptr<Sequential> make_plain_cnn(const PlainCnnOptions& options, std::uint64_t seed);

// Appends the head for a feature map of `channels` channels to net. With
// pool_apart the fastai head's concat pool is added to net as "pool" and the
// head keeps its names from head.1 on. Returns the number of net's layers up
// to and including the pooling.
std::size_t append_head(Sequential& net, int channels, const HeadOptions& options, bool pool_apart = false);

// True for parameters of the head ("fc." or "head." prefix).
bool is_head_parameter(const std::string& name);

}  // namespace gcnn
