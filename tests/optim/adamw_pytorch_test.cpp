// AdamW against torch.optim.AdamW: eight steps of two parameter groups (one
// decayed, one not, at half the lr and frozen for the first two steps) under
// a one-cycle schedule that cycles beta1, as PyTorch's OneCycleLR does for
// Adam. The numbers were made once by tests/fixtures/pytorch_adamw/make_fixture.py
// (PyTorch 1.13) and are committed beside it.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "layers/safetensors.h"
#include "optim/adamw.h"
#include "optim/schedule.h"
#include "tests/support/test_support.h"

namespace gcnn::optim {
namespace {

constexpr int kSteps = 8, kFrozenSteps = 2;

TEST(AdamWPyTorch, EightStepsMatchTorchOptimAdamW) {
  const Safetensors f = read_safetensors(GCNN_SOURCE_DIR "/tests/fixtures/pytorch_adamw/pytorch_adamw.safetensors");
  auto at = [&](const std::string& name) -> const Tensor& {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) throw std::runtime_error("fixture has no tensor " + name);
    return it->second;
  };
  std::map<std::string, Parameter> params;
  for (const char* name : {"a", "b", "c"})
    params[name] = {name, at(std::string("init.") + name).clone(), Tensor::zeros(at(std::string("init.") + name).shape()),
                    std::string(name) != "c", false};
  std::vector<ParamGroup> groups{{"decayed", {{"a", &params["a"]}, {"b", &params["b"]}}, 1.0, false},
                                 {"plain", {{"c", &params["c"]}}, 0.5, true}};
  AdamW adamw(groups, {0.99, 1e-8, 0.05, false});
  Schedule schedule;
  schedule.kind = ScheduleKind::OneCycle;
  schedule.lr = 0.01;  // defaults: pct_start 0.3, div_factor 25, final_div 25e4, beta1 0.95 -> 0.85 -> 0.95
  const std::vector<float> lr = at("lr").to_vector(), beta1 = at("beta1").to_vector();
  for (int step = 1; step <= kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const ScheduleValue v = schedule_at(schedule, step - 1, kSteps, kSteps);
    EXPECT_NEAR(v.lr, lr[static_cast<std::size_t>(step - 1)], 1e-6 * lr[static_cast<std::size_t>(step - 1)]);
    EXPECT_NEAR(v.momentum, beta1[static_cast<std::size_t>(step - 1)], 1e-6);
    for (auto& [name, p] : params) p.grad.copy_from(at("grad" + std::to_string(step) + "." + name));
    adamw.group("plain").frozen = step <= kFrozenSteps;
    adamw.step(v.lr, v.momentum);
    for (const auto& [name, p] : params)
      EXPECT_LE(test::relative_error(p.value, at("step" + std::to_string(step) + "." + name)), 1e-6) << name;
  }
  const auto state = adamw.state();
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_LE(test::relative_error(state.at(std::string("exp_avg.") + name), at(std::string("exp_avg.") + name)), 1e-6)
        << name;
    EXPECT_LE(test::relative_error(state.at(std::string("exp_avg_sq.") + name), at(std::string("exp_avg_sq.") + name)),
              1e-6)
        << name;
  }
  EXPECT_EQ(state.at("step.c").to_vector()[0], static_cast<float>(kSteps - kFrozenSteps));
}

}  // namespace
}  // namespace gcnn::optim
