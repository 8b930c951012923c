// SGD over parameter groups, calling ops::sgd_update per parameter.
#include "optim/sgd.h"

#include "kernels/error.h"
#include "kernels/ops/sgd.h"

namespace gcnn::optim {

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups)), options_(options), momentum_(zero_buffers()) {}

void Sgd::step(double lr, double momentum) {
  for (auto& g : groups_) {
    if (g.frozen) continue;
    for (auto& p : g.params) {
      Tensor& buf = momentum_.at(p.name);
      if (!(buf.device() == p.param->value.device())) buf = buf.to(p.param->value.device());
      const double decay = (p.param->decay || options_.decay_all) ? options_.weight_decay : 0.0;
      ops::sgd_update(p.param->value, p.param->grad, buf, static_cast<float>(lr * g.lr_mult),
                      static_cast<float>(momentum), static_cast<float>(decay), options_.nesterov);
    }
  }
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
