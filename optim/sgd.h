// SGD with momentum, Nesterov and weight decay (torch.optim.SGD, dampening 0)
// over parameter groups (see optim/optimizer.h). The update itself is
// ops::sgd_update (all parameters in one launch on CUDA). State: one momentum buffer per
// parameter, saved as "momentum.<name>".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace gcnn::optim {

struct SgdOptions {
  double weight_decay = 0.0;
  bool nesterov = false;
  bool decay_all = false;  // also decay BN parameters and biases
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParamGroup> groups, SgdOptions options);

  const char* kind() const override { return "sgd"; }
  void step(double lr, double momentum) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state, const std::string& source) override;

 private:
  SgdOptions options_;
  std::map<std::string, Tensor> momentum_;
};

}  // namespace gcnn::optim
