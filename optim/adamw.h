// AdamW (torch.optim.AdamW, amsgrad off) over parameter groups (see
// optim/optimizer.h): decoupled weight decay, then the bias-corrected Adam
// step. The update is ops::adamw_update over all parameters of a step at once
// (one launch per 48 tensors on CUDA). beta1 comes from step()'s momentum
// argument, so a one-cycle schedule cycles it as PyTorch's OneCycleLR does
// for Adam; beta2 and eps are fixed. Each parameter counts its own steps, as
// PyTorch does: a body frozen for the first phase starts its bias correction
// at its first update. State: "exp_avg.<name>", "exp_avg_sq.<name>" and
// "step.<name>" (a 1-element tensor holding the count, exact up to 2^24).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace gcnn::optim {

struct AdamWOptions {
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
  bool decay_all = false;  // also decay BN parameters and biases
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options);

  const char* kind() const override { return "adamw"; }
  // momentum is beta1.
  void step(double lr, double momentum) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state, const std::string& source) override;

 private:
  AdamWOptions options_;
  std::map<std::string, Tensor> exp_avg_, exp_avg_sq_;
  std::map<std::string, std::int64_t> steps_;
};

}  // namespace gcnn::optim
