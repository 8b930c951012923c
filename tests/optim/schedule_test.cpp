// Schedules checked against values computed by hand.
#include "optim/schedule.h"

#include <gtest/gtest.h>

#include "kernels/error.h"

namespace gcnn::optim {
namespace {

TEST(Schedule, ConstantKeepsLrAndMomentum) {
  Schedule s;
  s.lr = 0.1;
  s.momentum = 0.8;
  auto v = schedule_at(s, 5, 10, 20);
  EXPECT_DOUBLE_EQ(v.lr, 0.1);
  EXPECT_DOUBLE_EQ(v.momentum, 0.8);
}

TEST(Schedule, StepDecaysAtMilestoneEpochs) {
  Schedule s;
  s.kind = ScheduleKind::Step;
  s.lr = 0.1;
  s.milestones = {2, 4};
  s.gamma = 0.1;
  EXPECT_DOUBLE_EQ(schedule_at(s, 19, 10, 60).lr, 0.1);
  EXPECT_NEAR(schedule_at(s, 20, 10, 60).lr, 0.01, 1e-15);
  EXPECT_NEAR(schedule_at(s, 45, 10, 60).lr, 0.001, 1e-15);
}

TEST(Schedule, CosineFromLrToMin) {
  Schedule s;
  s.kind = ScheduleKind::Cosine;
  s.lr = 1.0;
  s.min_lr = 0.0;
  EXPECT_DOUBLE_EQ(schedule_at(s, 0, 2, 4).lr, 1.0);
  EXPECT_NEAR(schedule_at(s, 1, 2, 4).lr, 0.8535533905932737, 1e-12);  // (1 + cos(pi/4)) / 2
  EXPECT_NEAR(schedule_at(s, 2, 2, 4).lr, 0.5, 1e-12);
}

TEST(Schedule, SgdrRestartsWithGrowingCycles) {
  // fastai fit(lr, 3, cycle_len=1, cycle_mult=2): cycles of 1, 2 and 4 epochs.
  Schedule s;
  s.kind = ScheduleKind::Sgdr;
  s.lr = 1.0;
  s.cycle_len = 1;
  s.cycle_mult = 2;
  EXPECT_DOUBLE_EQ(sgdr_epochs(1, 2, 3), 7.0);
  const int spe = 4, total = 28;
  EXPECT_DOUBLE_EQ(schedule_at(s, 0, spe, total).lr, 1.0);
  EXPECT_NEAR(schedule_at(s, 2, spe, total).lr, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(schedule_at(s, 4, spe, total).lr, 1.0);  // restart
  EXPECT_NEAR(schedule_at(s, 6, spe, total).lr, 0.8535533905932737, 1e-12);  // 2/8 of cycle 2
  EXPECT_NEAR(schedule_at(s, 8, spe, total).lr, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(schedule_at(s, 12, spe, total).lr, 1.0);  // restart
  EXPECT_NEAR(schedule_at(s, 20, spe, total).lr, 0.5, 1e-12);
  EXPECT_NEAR(schedule_at(s, 27, spe, total).lr, 0.0096073597983848, 1e-12);  // (1 + cos(15 pi / 16)) / 2
}

TEST(Schedule, OneCycleFollowsPyTorchsOneCycleLR) {
  // PyTorch's OneCycleLR: lr peaks at step pct_start * total - 1 and reaches
  // lr / final_div at the last step (total - 1).
  Schedule s;
  s.kind = ScheduleKind::OneCycle;
  s.lr = 1.0;
  s.div_factor = 25;
  s.final_div = 1e4;
  s.pct_start = 0.375;  // peak at step 0.375 * 8 - 1 = 2
  auto v0 = schedule_at(s, 0, 4, 8);
  EXPECT_NEAR(v0.lr, 0.04, 1e-12);
  EXPECT_NEAR(v0.momentum, 0.95, 1e-12);
  auto v1 = schedule_at(s, 1, 4, 8);
  EXPECT_NEAR(v1.lr, 0.52, 1e-12);
  EXPECT_NEAR(v1.momentum, 0.90, 1e-12);
  auto v2 = schedule_at(s, 2, 4, 8);
  EXPECT_NEAR(v2.lr, 1.0, 1e-12);
  EXPECT_NEAR(v2.momentum, 0.85, 1e-12);
  auto v3 = schedule_at(s, 3, 4, 8);  // a fifth of the way down: 1e-4 + (1 - 1e-4) (1 + cos(pi / 5)) / 2
  EXPECT_NEAR(v3.lr, 0.904518046337755, 1e-12);
  EXPECT_NEAR(v3.momentum, 0.8595491502812526, 1e-12);
  auto v7 = schedule_at(s, 7, 4, 8);
  EXPECT_NEAR(v7.lr, 1e-4, 1e-15);
  EXPECT_NEAR(v7.momentum, 0.95, 1e-12);
}

TEST(Schedule, OneCycleWithThePeakBeforeTheFirstStepOnlyFalls) {
  Schedule s;
  s.kind = ScheduleKind::OneCycle;
  s.lr = 1.0;
  s.final_div = 1e4;
  s.pct_start = 0.25;  // peak at step 0.25 * 4 - 1 = 0: the first step is the peak
  EXPECT_NEAR(schedule_at(s, 0, 4, 4).lr, 1.0, 1e-12);
  EXPECT_NEAR(schedule_at(s, 3, 4, 4).lr, 1e-4, 1e-15);
  EXPECT_NEAR(schedule_at(s, 0, 1, 1).lr, 1e-4, 1e-15);  // one step: PyTorch gives the final rate
}

TEST(Schedule, TriangularGoesUpAndDown) {
  Schedule s;
  s.kind = ScheduleKind::Triangular;
  s.lr = 1.0;
  s.base_lr = 0.1;
  s.half_cycle = 1.0;
  EXPECT_NEAR(schedule_at(s, 0, 4, 16).lr, 0.1, 1e-12);
  EXPECT_NEAR(schedule_at(s, 2, 4, 16).lr, 0.55, 1e-12);
  EXPECT_NEAR(schedule_at(s, 4, 4, 16).lr, 1.0, 1e-12);
  EXPECT_NEAR(schedule_at(s, 6, 4, 16).lr, 0.55, 1e-12);
  EXPECT_NEAR(schedule_at(s, 8, 4, 16).lr, 0.1, 1e-12);
  EXPECT_NEAR(schedule_at(s, 9, 4, 16).lr, 0.325, 1e-12);
}

TEST(Schedule, LinearWarmupScalesTheFirstSteps) {
  Schedule s;
  s.lr = 1.0;
  s.warmup_epochs = 1.0;
  EXPECT_NEAR(schedule_at(s, 0, 4, 40).lr, 0.25, 1e-12);
  EXPECT_NEAR(schedule_at(s, 2, 4, 40).lr, 0.75, 1e-12);
  EXPECT_NEAR(schedule_at(s, 3, 4, 40).lr, 1.0, 1e-12);
  EXPECT_NEAR(schedule_at(s, 10, 4, 40).lr, 1.0, 1e-12);
}

TEST(Schedule, RejectsBadArguments) {
  Schedule s;
  EXPECT_THROW(schedule_at(s, 10, 4, 10), Error);
  EXPECT_THROW(schedule_at(s, -1, 4, 10), Error);
  EXPECT_THROW(schedule_at(s, 0, 0, 10), Error);
  EXPECT_THROW(parse_schedule_kind("cosine_annealing"), Error);
  EXPECT_EQ(parse_schedule_kind("sgdr"), ScheduleKind::Sgdr);
}

}  // namespace
}  // namespace gcnn::optim
