// AdamW over parameter groups: weight decay skipping BN parameters and biases
// unless decay_all, group lr multipliers, frozen groups keeping their own step
// count (bias correction starts at their first update), beta1 taken from the
// schedule's momentum, and a state round trip that continues exactly.
#include "optim/adamw.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"

namespace gcnn::optim {
namespace {

Parameter make_param(float value, float grad, bool decay) {
  return {"p", Tensor::from_vector({1}, {value}), Tensor::from_vector({1}, {grad}), decay, false};
}

float value_of(const Parameter& p) { return p.value.to_vector()[0]; }

TEST(AdamW, DecayGroupsFreezingAndPerParameterSteps) {
  Parameter w = make_param(1.0f, 0.5f, true);   // decayed
  Parameter b = make_param(2.0f, 0.5f, false);  // bias: not decayed
  Parameter h = make_param(3.0f, -1.0f, true);  // head, lr x1
  std::vector<ParamGroup> groups{{"body", {{"w", &w}, {"b", &b}}, 0.1, true}, {"head", {{"h", &h}}, 1.0, false}};
  AdamW adamw(groups, {0.999, 1e-8, 0.1, false});
  // Step 1 of any parameter moves it by lr * g / |g| (up to eps) after the decay.
  adamw.step(1.0, 0.9);  // body frozen
  EXPECT_EQ(value_of(w), 1.0f);
  EXPECT_EQ(value_of(b), 2.0f);
  EXPECT_NEAR(value_of(h), 3.0f * 0.9f + 1.0f, 1e-6);  // decay 1 - 1 * 0.1, then + lr
  adamw.group("body").frozen = false;
  adamw.step(1.0, 0.9);
  // w, b: their first step (bias corrections of step 1), at lr 0.1: w = 1 * 0.99 - 0.1, b = 2 - 0.1 (no decay).
  EXPECT_NEAR(value_of(w), 0.89f, 1e-6);
  EXPECT_NEAR(value_of(b), 1.9f, 1e-6);
  // h: its second step with the same gradient: the corrected moments are g and g^2 again, so it moves by lr * 1.
  EXPECT_NEAR(value_of(h), 3.7f * 0.9f + 1.0f, 1e-5);
  const auto state = adamw.state();
  EXPECT_EQ(state.at("step.w").to_vector()[0], 1.0f);
  EXPECT_EQ(state.at("step.h").to_vector()[0], 2.0f);
  // m of h after two steps of g = -1 at beta1 0.9: -0.1 then -0.19; v: 0.001 then 0.001999.
  EXPECT_NEAR(state.at("exp_avg.h").to_vector()[0], -0.19f, 1e-7);
  EXPECT_NEAR(state.at("exp_avg_sq.h").to_vector()[0], 0.001999f, 1e-9);
  EXPECT_THROW(adamw.group("tail"), Error);
}

TEST(AdamW, DecayAllAlsoDecaysBiases) {
  Parameter b = make_param(2.0f, 0.0f, false);
  AdamW adamw({{"all", {{"b", &b}}, 1.0, false}}, {0.999, 1e-8, 0.1, true});
  adamw.step(0.5, 0.9);
  EXPECT_NEAR(value_of(b), 2.0f * 0.95f, 1e-6);  // zero gradient: only the decay 1 - 0.5 * 0.1
}

TEST(AdamW, Beta1IsTheMomentumArgument) {
  // Two steps, grads 1 then 0, beta1 0.5 (as a schedule's momentum would give), beta2 0.999:
  // step 2: m = 0.5 * 0.5 + 0 = 0.25; m / (1 - 0.25) = 1/3; v = 0.999 * 0.001 = 0.000999,
  // sqrt(v / (1 - 0.999^2)) = sqrt(0.000999 / 0.001999) = 0.706930; step = 0.1 / 3 / 0.706930 = 0.0471524.
  Parameter p = make_param(0.0f, 1.0f, false);
  AdamW adamw({{"all", {{"p", &p}}, 1.0, false}}, {0.999, 1e-8, 0.0, false});
  adamw.step(0.1, 0.5);
  EXPECT_NEAR(value_of(p), -0.1f, 1e-6);
  p.grad.fill(0.0f);
  adamw.step(0.1, 0.5);
  EXPECT_NEAR(value_of(p), -0.1f - 0.0471524f, 1e-6);
}

TEST(AdamW, StateRoundTripContinuesExactly) {
  Parameter p = make_param(1.0f, 0.3f, true);
  AdamW adamw({{"all", {{"p", &p}}, 1.0, false}}, {0.99, 1e-8, 0.01, false});
  adamw.step(0.1, 0.9);
  adamw.step(0.1, 0.9);
  const auto saved = adamw.state();
  Parameter q = make_param(value_of(p), 0.3f, true);
  AdamW restored({{"all", {{"p", &q}}, 1.0, false}}, {0.99, 1e-8, 0.01, false});
  restored.load_state(saved, "test");
  adamw.step(0.1, 0.9);
  restored.step(0.1, 0.9);
  EXPECT_EQ(p.value.to_vector(), q.value.to_vector());

  auto missing = saved;
  missing.erase("step.p");
  EXPECT_THROW(restored.load_state(missing, "missing.state"), Error);
  auto fractional = saved;
  fractional["step.p"] = Tensor::from_vector({1}, {2.5f});
  EXPECT_THROW(restored.load_state(fractional, "fractional.state"), Error);
  auto negative = saved;
  negative["exp_avg_sq.p"] = Tensor::from_vector({1}, {-1.0f});
  EXPECT_THROW(restored.load_state(negative, "negative.state"), Error);
  auto sgd_state = saved;
  sgd_state["momentum.p"] = Tensor::from_vector({1}, {0.0f});
  try {
    restored.load_state(sgd_state, "mixed.state");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mixed.state: unexpected tensor 'momentum.p'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gcnn::optim
