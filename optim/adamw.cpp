// AdamW over parameter groups: gathers every unfrozen parameter into one
// ops::adamw_update call.
#include "optim/adamw.h"

#include <cmath>

#include "kernels/error.h"
#include "kernels/ops/adamw.h"

namespace gcnn::optim {

namespace {
constexpr double kMaxExactStep = 16777216.0;  // 2^24: counts above it are not exact in a float tensor
}  // namespace

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Optimizer(std::move(groups)), options_(options), exp_avg_(zero_buffers()), exp_avg_sq_(zero_buffers()) {
  for (const auto& [name, buf] : exp_avg_) steps_[name] = 0;
}

void AdamW::step(double lr, double momentum) {
  std::vector<ops::AdamWTensor> tensors;
  for (auto& g : groups_) {
    if (g.frozen) continue;
    for (auto& p : g.params) {
      const Device device = p.param->value.device();
      Tensor& m = exp_avg_.at(p.name);
      Tensor& v = exp_avg_sq_.at(p.name);
      if (!(m.device() == device)) m = m.to(device);
      if (!(v.device() == device)) v = v.to(device);
      std::int64_t& count = steps_.at(p.name);
      GCNN_CHECK(static_cast<double>(count) < kMaxExactStep, "adamw: parameter '{}' reached {} steps, the most a "
                 "checkpoint stores exactly", p.name, count);
      ++count;
      const double decay = (p.param->decay || options_.decay_all) ? options_.weight_decay : 0.0;
      tensors.push_back({&p.param->value, &p.param->grad, &m, &v, static_cast<float>(lr * g.lr_mult),
                         static_cast<float>(decay), count});
    }
  }
  ops::adamw_update(tensors, {momentum, options_.beta2, options_.eps});
}

std::map<std::string, Tensor> AdamW::state() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, m] : exp_avg_) {
    out["exp_avg." + name] = m;
    out["exp_avg_sq." + name] = exp_avg_sq_.at(name);
    out["step." + name] = Tensor::from_vector({1}, {static_cast<float>(steps_.at(name))});
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, Tensor>& state, const std::string& source) {
  reject_unexpected(state, {"exp_avg", "exp_avg_sq", "step"}, source);
  load_buffers(exp_avg_, "exp_avg", state, source);
  load_buffers(exp_avg_sq_, "exp_avg_sq", state, source);
  for (auto& [name, count] : steps_) {
    auto it = state.find("step." + name);
    GCNN_INPUT_CHECK(it != state.end(), "{}: no step count for parameter '{}'", source, name);
    const std::vector<float> value = it->second.to_vector();
    GCNN_INPUT_CHECK(value.size() == 1 && value[0] >= 0 && value[0] <= kMaxExactStep && value[0] == std::floor(value[0]),
                     "{}: tensor 'step.{}' must hold one whole number in [0, 2^24]", source, name);
    count = static_cast<std::int64_t>(value[0]);
  }
  for (const auto& [name, v] : exp_avg_sq_)
    for (float x : v.to_vector())
      GCNN_INPUT_CHECK(x >= 0, "{}: tensor 'exp_avg_sq.{}' holds a negative value {}", source, name, x);
}

}  // namespace gcnn::optim
