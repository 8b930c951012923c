// A small convolutional network's training step written directly against the
// ops API (no layers): conv-BN-ReLU-maxpool -> residual conv-BN (+ skip) ->
// ReLU -> concat pool -> linear -> RMSE loss, backward, SGD (momentum,
// Nesterov, weight decay). Used to check that the CUDA backend (emulated in
// CI, real on a GPU) leaves the same parameters as the CPU backend.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace gcnn::test {

struct SmallNetwork {
  std::map<std::string, Tensor> params;   // name -> parameter
  std::map<std::string, Tensor> buffers;  // BN running statistics
  std::map<std::string, Tensor> momentum;
};

// Deterministic initial parameters on the given device.
SmallNetwork make_small_network(Device device, int in_channels, int width, int n_targets, unsigned seed);
// One forward + backward + SGD step on (x, target); returns the loss.
float small_network_step(SmallNetwork& net, const Tensor& x, const Tensor& target, float lr);

}  // namespace gcnn::test
