// SGD over parameter groups against hand-computed updates: momentum, Nesterov,
// weight decay skipping BN parameters and biases, group lr multipliers and
// frozen groups, and momentum state save/restore.
#include "optim/sgd.h"

#include <gtest/gtest.h>

#include "kernels/error.h"

namespace gcnn::optim {
namespace {

Parameter make_param(float value, float grad, bool decay) {
  return {"p", Tensor::from_vector({1}, {value}), Tensor::from_vector({1}, {grad}), decay, false};
}

TEST(Sgd, MomentumDecayGroupsAndFreezing) {
  Parameter w = make_param(1.0f, 0.5f, true);     // decayed
  Parameter b = make_param(2.0f, 0.5f, false);    // bias: not decayed
  Parameter h = make_param(3.0f, 1.0f, true);     // head, lr x1
  std::vector<ParamGroup> groups{{"body", {{"w", &w}, {"b", &b}}, 0.1, false}, {"head", {{"h", &h}}, 1.0, false}};
  Sgd sgd(groups, {0.1, false, false});
  sgd.step(1.0, 0.9);
  // w: d = 0.5 + 0.1 * 1 = 0.6; buf = 0.6; w = 1 - 0.1 * 0.6 = 0.94
  EXPECT_NEAR(w.value.to_vector()[0], 0.94f, 1e-6);
  // b: d = 0.5; b = 2 - 0.1 * 0.5 = 1.95
  EXPECT_NEAR(b.value.to_vector()[0], 1.95f, 1e-6);
  // h: d = 1 + 0.3 = 1.3; h = 3 - 1.3 = 1.7
  EXPECT_NEAR(h.value.to_vector()[0], 1.7f, 1e-6);
  sgd.group("body").frozen = true;
  sgd.step(1.0, 0.9);
  EXPECT_NEAR(w.value.to_vector()[0], 0.94f, 1e-6);  // frozen
  // h: d = 1 + 0.1 * 1.7 = 1.17; buf = 0.9 * 1.3 + 1.17 = 2.34; h = 1.7 - 2.34 = -0.64
  EXPECT_NEAR(h.value.to_vector()[0], -0.64f, 1e-5);
  EXPECT_NEAR(sgd.state()["momentum.h"].to_vector()[0], 2.34f, 1e-5);
  EXPECT_THROW(sgd.group("tail"), Error);
}

TEST(Sgd, NesterovAndStateRoundTrip) {
  Parameter p = make_param(1.0f, 1.0f, true);
  Sgd sgd({{"all", {{"p", &p}}, 1.0, false}}, {0.0, true, false});
  sgd.step(0.1, 0.5);
  // buf = 1; d = 1 + 0.5 * 1 = 1.5; p = 1 - 0.15 = 0.85
  EXPECT_NEAR(p.value.to_vector()[0], 0.85f, 1e-6);
  auto saved = sgd.state();
  Parameter q = make_param(0.85f, 1.0f, true);
  Sgd restored({{"all", {{"p", &q}}, 1.0, false}}, {0.0, true, false});
  restored.load_state(saved, "test");
  sgd.step(0.1, 0.5);
  restored.step(0.1, 0.5);
  EXPECT_EQ(p.value.to_vector(), q.value.to_vector());
  EXPECT_THROW(restored.load_state({}, "empty.state"), Error);
}

}  // namespace
}  // namespace gcnn::optim
