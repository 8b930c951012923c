// Analytic FLOP count of a network from its layer tree: 2 FLOPs per
// multiply-add of every convolution and linear layer (the convention of
// papers and profilers), for a forward pass over an input shape and for the
// two backward products of a training step. Batch norm, activations, pooling
// and adds are memory-bound and not counted; a leaf layer with parameters of
// any other type is listed in `uncounted` rather than silently taken as free.
#pragma once

#include <string>
#include <vector>

#include "layers/layer.h"

namespace gcnn {

struct NetworkFlops {
  double forward = 0;
  double backward_data = 0;     // dx of every layer that needs an input gradient
  double backward_weights = 0;  // dw of every convolution and linear layer
  double train_step() const { return forward + backward_data + backward_weights; }
  std::vector<std::string> uncounted;  // types of parameterised leaf layers not counted
};

// Walks net for an input of shape input ([N, C, H, W] with the batch). Data
// flow: a container's children run in order, each on the previous one's
// output, except a child named "downsample" (the residual shortcut), which
// runs on the container's input. The first layer of a network whose
// needs_input_grad is false computes no dx, as in training.
NetworkFlops count_flops(Layer& net, const Shape& input);

}  // namespace gcnn
