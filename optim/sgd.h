// SGD with momentum, Nesterov and weight decay over parameter groups: each
// group has a learning-rate multiplier (fastai's differential rates: body
// lr/3 ... head lr) and can be frozen. Weight decay skips BN parameters and
// biases (Parameter::decay false) unless decay_all is set. The update itself
// is ops::sgd_update (a fused kernel on CUDA).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace gcnn::optim {

struct ParamGroup {
  std::string name;
  std::vector<NamedParameter> params;
  double lr_mult = 1.0;
  bool frozen = false;
};

struct SgdOptions {
  double weight_decay = 0.0;
  bool nesterov = false;
  bool decay_all = false;  // also decay BN parameters and biases
};

class Sgd {
 public:
  Sgd(std::vector<ParamGroup> groups, SgdOptions options);

  // One update of every parameter of the unfrozen groups with the current
  // gradients: group lr = lr * lr_mult.
  void step(double lr, double momentum);

  ParamGroup& group(const std::string& name);
  std::vector<ParamGroup>& groups() { return groups_; }

  // Momentum buffers by parameter name, for checkpoints.
  std::map<std::string, Tensor> state() const { return momentum_; }
  // Restores buffers saved by state(); throws naming a missing or misshapen one.
  void load_state(const std::map<std::string, Tensor>& state, const std::string& source);

 private:
  std::vector<ParamGroup> groups_;
  SgdOptions options_;
  std::map<std::string, Tensor> momentum_;
};

}  // namespace gcnn::optim
