// Learning-rate and momentum schedules, each a pure function of the step within
// a training phase: constant, step decay, cosine, SGDR warm restarts (fastai's
// cycle_len/cycle_mult), one-cycle (lr and inverse momentum), triangular
// cyclic LR, all optionally preceded by a linear warm-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcnn::optim {

enum class ScheduleKind { Constant, Step, Cosine, Sgdr, OneCycle, Triangular };

// Parses "constant|step|cosine|sgdr|one_cycle|triangular"; throws naming the
// accepted names.
ScheduleKind parse_schedule_kind(const std::string& name);
const char* schedule_kind_name(ScheduleKind kind);

struct Schedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double lr = 0.01;        // peak (or only) learning rate
  double momentum = 0.9;   // momentum for schedules that do not cycle it
  double min_lr = 0.0;     // floor of cosine and SGDR
  // step: lr * gamma^(number of milestones, in epochs, already reached)
  std::vector<double> milestones;
  double gamma = 0.1;
  // sgdr: first cycle lasts cycle_len epochs, each next one cycle_mult times longer
  double cycle_len = 1.0;
  double cycle_mult = 1.0;
  // one_cycle (PyTorch's OneCycleLR, cosine): lr rises from lr/div_factor to lr
  // at step pct_start * steps - 1, then falls to lr/final_div at the last step;
  // momentum moves inversely max_momentum <-> min_momentum
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div = 25.0e4;
  double max_momentum = 0.95;
  double min_momentum = 0.85;
  // triangular: lr goes base_lr -> lr -> base_lr every 2*half_cycle epochs
  double base_lr = 0.001;
  double half_cycle = 1.0;
  // linear warm-up over the first warmup_epochs: lr scaled by (step+1)/warmup_steps
  double warmup_epochs = 0.0;
};

struct ScheduleValue {
  double lr = 0;
  double momentum = 0;
};

// Value at step (0-based) of a phase of total_steps steps with steps_per_epoch
// steps per epoch. Throws when the arguments are out of range.
ScheduleValue schedule_at(const Schedule& schedule, std::int64_t step, std::int64_t steps_per_epoch,
                          std::int64_t total_steps);

// Number of epochs that `cycles` SGDR cycles take: cycle_len * (1 + mult + mult^2 ...).
double sgdr_epochs(double cycle_len, double cycle_mult, int cycles);

}  // namespace gcnn::optim
