// Step equivalence with PyTorch: from the same initial weights and batches, the
// engine's training step (ResNet-18 layers, MSE loss, one-cycle schedule,
// Nesterov SGD with weight decay on every parameter) must leave the parameters
// and BN statistics PyTorch 1.13 left. The reference numbers were made once by
// tests/fixtures/pytorch_step/make_fixture.py and are committed beside it.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/ops/loss.h"
#include "layers/models.h"
#include "layers/safetensors.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/support/test_support.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {

constexpr int kSteps = 10, kBatches = 2;

struct Fixture {
  Safetensors file = read_safetensors(GCNN_SOURCE_DIR "/tests/fixtures/pytorch_step/pytorch_step.safetensors");
  const Tensor& at(const std::string& name) const {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) throw std::runtime_error("fixture has no tensor " + name);
    return it->second;
  }
  // The tensors under "prefix.", with the prefix removed.
  std::map<std::string, Tensor> state(const std::string& prefix) const {
    std::map<std::string, Tensor> out;
    for (const auto& [name, t] : file.tensors)
      if (name.starts_with(prefix + ".")) out.emplace(name.substr(prefix.size() + 1), t);
    return out;
  }
};

std::unique_ptr<Sequential> fixture_model(const Fixture& f) {
  ResNetOptions o;
  o.width = 4;
  o.head.kind = "linear";
  auto model = make_resnet(o, 1);
  const LoadReport report = load_state_dict(*model, f.state("init"), "pytorch_step init");
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty())
      << "missing " << report.missing.size() << ", unexpected " << report.unexpected.size();
  return model;
}

optim::Schedule fixture_schedule() {
  optim::Schedule s;
  s.kind = optim::ScheduleKind::OneCycle;
  s.lr = 0.01;
  return s;  // defaults: pct_start 0.3, div_factor 25, final_div 25e4, momentum 0.95 -> 0.85
}

// Every parameter and buffer against the fixture's prefix.* tensors.
void expect_state_matches(Layer& model, const Fixture& f, const std::string& prefix, double tolerance) {
  const auto expected = f.state(prefix);
  const auto actual = state_dict(model);
  ASSERT_EQ(actual.size(), expected.size());
  double worst = 0;
  std::string worst_name;
  for (const auto& [name, want] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    const double err = test::relative_error(actual.at(name), want);
    if (err > worst) worst = err, worst_name = name;
    EXPECT_LE(err, tolerance) << prefix << ": " << name;
  }
  ::testing::Test::RecordProperty(prefix + "_worst_relative_error", std::to_string(worst) + " (" + worst_name + ")");
}

TEST(PyTorchStep, ScheduleMatchesOneCycleLR) {
  Fixture f;
  const auto lr = f.at("lr").to_vector(), momentum = f.at("momentum").to_vector();
  ASSERT_EQ(lr.size(), static_cast<std::size_t>(kSteps));
  for (int step = 0; step < kSteps; ++step) {
    const auto v = optim::schedule_at(fixture_schedule(), step, kSteps, kSteps);
    EXPECT_NEAR(v.lr, lr[static_cast<std::size_t>(step)], 1e-7 + 1e-6 * lr[static_cast<std::size_t>(step)])
        << "step " << step;
    EXPECT_NEAR(v.momentum, momentum[static_cast<std::size_t>(step)], 1e-6) << "step " << step;
  }
}

TEST(PyTorchStep, InitialStateLoadsExactly) {
  Fixture f;
  auto model = fixture_model(f);
  expect_state_matches(*model, f, "init", 0.0);
}

TEST(PyTorchStep, OneStepThenTenMatchPyTorch) {
  Fixture f;
  auto model = fixture_model(f);
  optim::Sgd sgd({{"all", named_parameters(*model)}}, {1e-4, true, true});
  const auto losses = f.at("loss").to_vector();
  for (int step = 0; step < kSteps; ++step) {
    const auto v = optim::schedule_at(fixture_schedule(), step, kSteps, kSteps);
    const std::string b = std::to_string(step % kBatches);
    const float loss = train_step(*model, sgd, f.at("x" + b), f.at("y" + b), ops::LossKind::MSE, 1.0f, v);
    // 3e-5 relative: PyTorch's own losses move by up to 8.4e-6 between 1 and 2
    // threads by step 8 (summation order alone); an arithmetic error moves them
    // by 1e-3 or more.
    EXPECT_NEAR(loss, losses[static_cast<std::size_t>(step)], 3e-5 * std::abs(losses[static_cast<std::size_t>(step)]))
        << "step " << step;
    if (step == 0) expect_state_matches(*model, f, "step1", 1e-5);
  }
  expect_state_matches(*model, f, "step10", 1e-5);
}

}  // namespace
}  // namespace gcnn::train
