// The learning-rate finder (see lr_find.h).
#include "train/lr_find.h"

#include <fmt/format.h>

#include <cmath>

#include "data/csv.h"
#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/precision.h"
#include "train/data.h"

namespace gcnn::train {

double suggest_lr(const std::vector<double>& lrs, const std::vector<double>& smoothed) {
  GCNN_CHECK(lrs.size() == smoothed.size() && lrs.size() >= 3, "lr_find: too few points ({}) to suggest a rate",
             lrs.size());
  std::size_t best = 0;
  for (std::size_t i = 1; i < smoothed.size(); ++i)
    if (smoothed[i] < smoothed[best]) best = i;
  return lrs[best] / 10.0;
}

LrFindResult lr_find(const ExperimentConfig& config, const LrFindOptions& o) {
  GCNN_CHECK(o.min_lr > 0 && o.max_lr > o.min_lr && o.steps >= 3, "lr-find: need 0 < min_lr < max_lr and steps >= 3");
  const Device device = parse_device(config.device);
  const Precision precision = resolve_precision(config.precision, device);  // the arithmetic training will use
  const auto run_dir = config.run_dir();
  std::filesystem::create_directories(run_dir);
  ExperimentData data(config, run_dir, device);
  const std::size_t T = data.target_names.size();
  auto model = build_model(config, static_cast<int>(T));
  move_to(*model, device);
  set_precision(*model, precision);
  std::vector<optim::ParamGroup> groups{{"all", named_parameters(*model)}};
  auto optimizer = make_optimizer(std::move(groups), config.optimizer);
  const ops::LossKind loss_kind = ops::parse_loss(config.loss);
  Tensor target_weights;
  if (!config.loss_weights.empty())
    target_weights = Tensor::from_vector({static_cast<std::int64_t>(T)},
                                         std::vector<float>(config.loss_weights.begin(), config.loss_weights.end()),
                                         device);
  const double momentum = config.phases.front().schedule.momentum;

  LrFindResult r;
  double avg = 0, best = 0;
  std::uint64_t epoch = 0;
  data.train_loader().start_epoch(epoch);
  Batch batch;
  for (int step = 0; step < o.steps; ++step) {
    if (!data.train_loader().next(batch)) {
      data.train_loader().start_epoch(++epoch);
      GCNN_CHECK(data.train_loader().next(batch), "lr-find: the training split gave no batch");
    }
    const double lr = o.min_lr * std::pow(o.max_lr / o.min_lr, static_cast<double>(step) / (o.steps - 1));
    std::vector<float> t = batch.targets.to_vector();
    if (config.data.normalize_targets)
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = (t[i] - data.target_mean[i % T]) / data.target_std[i % T];
    Tensor target = Tensor::from_vector(batch.targets.shape(), t, device);
    model->set_seed(derive_seed(config.seed, static_cast<std::uint64_t>(step)));
    Tensor pred = model->forward(data.train_loader().images_on(batch, device), true);
    const float loss = ops::loss_forward(loss_kind, pred, target, config.huber_delta, target_weights);
    if (!std::isfinite(loss)) break;
    avg = o.smoothing * avg + (1 - o.smoothing) * loss;
    const double smoothed = avg / (1 - std::pow(o.smoothing, step + 1));
    r.lrs.push_back(lr);
    r.losses.push_back(loss);
    r.smoothed.push_back(smoothed);
    if (step == 0 || smoothed < best) best = smoothed;
    if (step > 0 && smoothed > 4 * best) break;
    Tensor dpred = Tensor::empty(pred.shape(), device);
    ops::loss_backward(loss_kind, pred, target, dpred, config.huber_delta, target_weights);
    model->backward(dpred);
    optimizer->step(lr, momentum);
  }
  std::string csv = "lr,loss,smoothed_loss\n";
  for (std::size_t i = 0; i < r.lrs.size(); ++i)
    csv += fmt::format("{:.6g},{:.6f},{:.6f}\n", r.lrs[i], r.losses[i], r.smoothed[i]);
  r.csv = run_dir / "lr_find.csv";
  write_file_atomic(r.csv, csv);
  r.suggested_lr = suggest_lr(r.lrs, r.smoothed);
  return r;
}

}  // namespace gcnn::train
