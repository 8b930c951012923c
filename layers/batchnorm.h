// BatchNorm: batch normalisation of [N, C] (BatchNorm1d) or [N, C, H, W]
// (BatchNorm2d) inputs with torch names: weight (gamma), bias (beta), buffers
// running_mean, running_var, num_batches_tracked. Momentum 0.1, eps 1e-5.
// Synchronised (data-parallel sync_bn): training statistics over the batches
// of all ranks, and the two channel sums of the backward over all ranks.
#pragma once

#include "kernels/communicator.h"
#include "layers/layer.h"

namespace gcnn {

class BatchNorm : public Layer {
 public:
  explicit BatchNorm(int channels, float momentum = 0.1f, float eps = 1e-5f);
  std::string type() const override { return "batchnorm"; }
  Shape output_shape(const Shape& in) const override { return in; }
  Tensor forward(const Tensor& x, bool train) override;
  Tensor backward(const Tensor& dy) override;
  void reset_parameters(std::uint64_t seed) override;
  void state_loaded() override;

  Parameter& gamma() { return parameters()[0]; }
  Parameter& beta() { return parameters()[1]; }
  // torchvision's zero_init_residual: gamma = 0 at init.
  bool zero_gamma_init = false;
  // Training forwards and backwards reduce over the ranks of comm (null, or
  // one rank: this rank's batch alone). comm must outlive the layer's use.
  void synchronise(Communicator* comm) { sync_ = comm; }
  // The ReLU that follows, fused in (ops::batchnorm_relu_*): output max(0, bn(x)).
  bool fused_relu = false;
  float eps() const { return eps_; }

 private:
  Tensor forward_synchronised(const Tensor& x);
  Tensor backward_synchronised(const Tensor& dy);

  float momentum_, eps_;
  std::int64_t batches_ = 0;  // host mirror of num_batches_tracked
  Communicator* sync_ = nullptr;
  Tensor x_, y_, save_mean_, save_invstd_, save_var_;  // y_: the output, kept when fused_relu
};

}  // namespace gcnn
