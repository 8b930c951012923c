// SGD over parameter groups, calling ops::sgd_update per parameter.
#include "optim/sgd.h"

#include "kernels/error.h"
#include "kernels/ops/sgd.h"

namespace gcnn::optim {

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options) : groups_(std::move(groups)), options_(options) {
  for (const auto& g : groups_) {
    for (const auto& p : g.params) {
      GCNN_CHECK(!momentum_.count(p.name), "sgd: parameter '{}' appears in two groups", p.name);
      momentum_[p.name] = Tensor::zeros(p.param->value.shape(), p.param->value.device());
    }
  }
}

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

ParamGroup& Sgd::group(const std::string& name) {
  for (auto& g : groups_)
    if (g.name == name) return g;
  GCNN_FAIL("sgd: no parameter group named '{}'", name);
}

void Sgd::load_state(const std::map<std::string, Tensor>& state, const std::string& source) {
  for (auto& [name, buf] : momentum_) {
    auto it = state.find(name);
    GCNN_CHECK(it != state.end(), "{}: no momentum buffer for parameter '{}'", source, name);
    GCNN_CHECK(it->second.shape() == buf.shape(), "{}: momentum buffer '{}' has shape {}, expected {}", source, name,
               shape_str(it->second.shape()), shape_str(buf.shape()));
    buf.copy_from(it->second);
  }
}

}  // namespace gcnn::optim
