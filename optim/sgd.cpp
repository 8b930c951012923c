// SGD over parameter groups: every parameter in one multi-tensor ops::sgd_update.
#include "optim/sgd.h"

#include "kernels/error.h"
#include "kernels/ops/sgd.h"

namespace gcnn::optim {

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups)), options_(options), momentum_(zero_buffers()) {}

void Sgd::step(double lr, double momentum) {
  std::vector<ops::SgdTensor> update;
  for (auto& g : groups_) {
    if (g.frozen) continue;
    for (auto& p : g.params) {
      Tensor& buf = momentum_.at(p.name);
      if (!(buf.device() == p.param->value.device())) buf = buf.to(p.param->value.device());
      const double decay = (p.param->decay || options_.decay_all) ? options_.weight_decay : 0.0;
      update.push_back({&p.param->value, &p.param->grad, &buf, static_cast<float>(lr * g.lr_mult),
                        static_cast<float>(decay)});
    }
  }
  ops::sgd_update(update, static_cast<float>(momentum), options_.nesterov);
}

std::map<std::string, Tensor> Sgd::state() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, buf] : momentum_) out["momentum." + name] = buf;
  return out;
}

void Sgd::load_state(const std::map<std::string, Tensor>& state, const std::string& source) {
  reject_unexpected(state, {"momentum"}, source);
  load_buffers(momentum_, "momentum", state, source);
}

}  // namespace gcnn::optim
