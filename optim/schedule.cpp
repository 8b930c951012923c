// Schedules as pure functions of the step (see schedule.h).
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "kernels/error.h"

namespace gcnn::optim {
namespace {

// Cosine interpolation from start (fraction 0) to end (fraction 1).
double cosine_between(double start, double end, double fraction) {
  return end + (start - end) * 0.5 * (1.0 + std::cos(std::numbers::pi * fraction));
}

}  // namespace

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "step") return ScheduleKind::Step;
  if (name == "cosine") return ScheduleKind::Cosine;
  if (name == "sgdr") return ScheduleKind::Sgdr;
  if (name == "one_cycle") return ScheduleKind::OneCycle;
  if (name == "triangular") return ScheduleKind::Triangular;
  GCNN_FAIL("unknown schedule '{}' (expected constant, step, cosine, sgdr, one_cycle or triangular)", name);
}

const char* schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::Step: return "step";
    case ScheduleKind::Cosine: return "cosine";
    case ScheduleKind::Sgdr: return "sgdr";
    case ScheduleKind::OneCycle: return "one_cycle";
    case ScheduleKind::Triangular: return "triangular";
  }
  return "?";
}

double sgdr_epochs(double cycle_len, double cycle_mult, int cycles) {
  double total = 0, len = cycle_len;
  for (int i = 0; i < cycles; ++i, len *= cycle_mult) total += len;
  return total;
}

ScheduleValue schedule_at(const Schedule& s, std::int64_t step, std::int64_t steps_per_epoch,
                          std::int64_t total_steps) {
  GCNN_CHECK(steps_per_epoch > 0 && total_steps > 0, "schedule: steps_per_epoch {} and total_steps {} must be > 0",
             steps_per_epoch, total_steps);
  GCNN_CHECK(step >= 0 && step < total_steps, "schedule: step {} outside [0, {})", step, total_steps);
  const double epoch = static_cast<double>(step) / static_cast<double>(steps_per_epoch);
  const double fraction = static_cast<double>(step) / static_cast<double>(total_steps);
  ScheduleValue v{s.lr, s.momentum};
  switch (s.kind) {
    case ScheduleKind::Constant:
      break;
    case ScheduleKind::Step: {
      const auto reached = std::count_if(s.milestones.begin(), s.milestones.end(),
                                         [&](double m) { return epoch + 1e-9 >= m; });
      v.lr = s.lr * std::pow(s.gamma, static_cast<double>(reached));
      break;
    }
    case ScheduleKind::Cosine:
      v.lr = cosine_between(s.lr, s.min_lr, fraction);
      break;
    case ScheduleKind::Sgdr: {
      GCNN_CHECK(s.cycle_len > 0 && s.cycle_mult >= 1, "sgdr: cycle_len {} must be > 0 and cycle_mult {} >= 1",
                 s.cycle_len, s.cycle_mult);
      // Cycles are whole numbers of steps, as fastai counts them in batches.
      std::int64_t cycle_steps = std::max<std::int64_t>(1, std::llround(s.cycle_len * steps_per_epoch));
      std::int64_t start = 0;
      double len = s.cycle_len;
      while (step >= start + cycle_steps) {
        start += cycle_steps;
        len *= s.cycle_mult;
        cycle_steps = std::max<std::int64_t>(1, std::llround(len * steps_per_epoch));
      }
      v.lr = cosine_between(s.lr, s.min_lr, static_cast<double>(step - start) / static_cast<double>(cycle_steps));
      break;
    }
    case ScheduleKind::OneCycle: {
      GCNN_CHECK(s.pct_start > 0 && s.pct_start < 1, "one_cycle: pct_start {} must be in (0, 1)", s.pct_start);
      const double low = s.lr / s.div_factor;
      const double end = s.lr / s.final_div;
      // PyTorch's OneCycleLR: the peak is at step pct_start * total - 1 and the
      // final rate at the last step; a peak at or before step 0 leaves only the fall.
      const double peak = s.pct_start * static_cast<double>(total_steps) - 1.0;
      const double last = static_cast<double>(total_steps - 1);
      const double s_d = static_cast<double>(step);
      if (peak > 0 && s_d <= peak) {
        const double f = s_d / peak;
        v.lr = cosine_between(low, s.lr, f);
        v.momentum = cosine_between(s.max_momentum, s.min_momentum, f);
      } else {
        const double f = last > peak ? (s_d - peak) / (last - peak) : 1.0;
        v.lr = cosine_between(s.lr, end, f);
        v.momentum = cosine_between(s.min_momentum, s.max_momentum, f);
      }
      break;
    }
    case ScheduleKind::Triangular: {
      GCNN_CHECK(s.half_cycle > 0, "triangular: half_cycle {} must be > 0", s.half_cycle);
      const double position = epoch / s.half_cycle;  // 0..2 is one full cycle
      const double x = std::abs(position - 2.0 * std::floor(position / 2.0) - 1.0);  // 1 at ends, 0 at peak
      v.lr = s.base_lr + (s.lr - s.base_lr) * (1.0 - x);
      break;
    }
  }
  if (s.warmup_epochs > 0) {
    const double warmup_steps = std::max(1.0, s.warmup_epochs * static_cast<double>(steps_per_epoch));
    v.lr *= std::min(1.0, (static_cast<double>(step) + 1.0) / warmup_steps);
  }
  return v;
}

}  // namespace gcnn::optim
