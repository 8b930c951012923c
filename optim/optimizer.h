// The optimizer interface the trainer drives: parameter groups, each with a
// learning-rate multiplier (fastai's differential rates: body lr/3 ... head
// lr) that can be frozen; one step at the schedule's lr and momentum; and the
// state a checkpoint saves so that a resumed run continues exactly. Weight
// decay skips BN parameters and biases (Parameter::decay false) unless
// decay_all is set. Implementations: Sgd (optim/sgd.h), AdamW (optim/adamw.h).
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

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // "sgd" or "adamw": recorded in checkpoints, so a resume with another kind is refused.
  virtual const char* kind() const = 0;

  // One update of every parameter of the unfrozen groups with the current
  // gradients: group lr = lr * lr_mult. momentum is SGD's momentum and AdamW's
  // beta1 (what a one-cycle schedule cycles, as PyTorch's OneCycleLR does).
  virtual void step(double lr, double momentum) = 0;

  // The state by tensor name as a checkpoint stores it: "<buffer>.<parameter
  // name>" (e.g. "momentum.fc.weight", "exp_avg.fc.weight").
  virtual std::map<std::string, Tensor> state() const = 0;
  // Restores what state() saved; throws naming source and the missing,
  // misshapen, invalid or unexpected tensor.
  virtual void load_state(const std::map<std::string, Tensor>& state, const std::string& source) = 0;

  ParamGroup& group(const std::string& name);
  std::vector<ParamGroup>& groups() { return groups_; }

 protected:
  // Zero buffers, one per parameter, shaped and placed like it; throws when a
  // parameter appears in two groups.
  std::map<std::string, Tensor> zero_buffers() const;
  // Copies state["<prefix>.<name>"] into each buffers[name]; throws naming
  // source and the missing or misshapen tensor.
  static void load_buffers(std::map<std::string, Tensor>& buffers, const std::string& prefix,
                           const std::map<std::string, Tensor>& state, const std::string& source);
  // Throws naming the first tensor of state that no buffer prefix of this optimizer accounts for.
  void reject_unexpected(const std::map<std::string, Tensor>& state, const std::vector<std::string>& prefixes,
                         const std::string& source) const;

  std::vector<ParamGroup> groups_;
};

}  // namespace gcnn::optim
