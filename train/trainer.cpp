// The training loop (see trainer.h).
#include "train/trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "data/csv.h"
#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/cuda/backend.h"
#include "kernels/precision.h"
#include "kernels/upload.h"
#include "layers/safetensors.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/run_folder.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The device of this rank: a CUDA spec without an index ("cuda", "auto") means
// the GPU of the rank's local rank when there are several ranks.
Device rank_device(Device parsed, const std::string& spec, Communicator& comm) {
  if (comm.world_size() == 1 || !parsed.is_cuda() || spec.find(':') != std::string::npos) return parsed;
  int gpus = 0;
  for (const auto& d : list_devices()) gpus += d.device.is_cuda() ? 1 : 0;
  return Device::cuda(comm.local_rank() % std::max(gpus, 1));
}

// The metrics.csv header: per-target columns follow when there are several targets.
std::string metrics_header(const std::vector<std::string>& targets) {
  std::string header = "epoch,step,lr,momentum,train_loss,val_rmse,val_nmad,images_per_s,seconds";
  if (targets.size() > 1)
    for (const auto& t : targets) header += ",val_rmse_" + t + ",val_nmad_" + t;
  return header + "\n";
}

std::string format_duration(double s) {
  const int total = static_cast<int>(s + 0.5);
  return fmt::format("{}:{:02d}", total / 60, total % 60);
}

// Parameter groups: body (frozen by freeze_body), body_norm (BN of the body:
// trainable while frozen when train_bn), head.
std::vector<optim::ParamGroup> make_groups(Layer& model) {
  std::vector<optim::ParamGroup> groups{{"body", {}}, {"body_norm", {}}, {"head", {}}};
  for (auto& p : named_parameters(model)) {
    if (is_head_parameter(p.name)) groups[2].params.push_back(p);
    else if (p.param->norm) groups[1].params.push_back(p);
    else groups[0].params.push_back(p);
  }
  return groups;
}

// The targets of a batch (on the host), standardised when normalize.
Tensor standardised_targets(const Tensor& targets, const ExperimentData& data, bool normalize) {
  if (!normalize) return targets;
  std::vector<float> t = targets.to_vector();
  const std::size_t T = data.target_names.size();
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = (t[i] - data.target_mean[i % T]) / data.target_std[i % T];
  return Tensor::from_vector(targets.shape(), t);
}

// Validation metrics per target, in physical units.
struct Validation {
  std::vector<double> rmse, nmad;
};

// Each rank predicts its shard of the validation set into its places of a
// zeroed [val_size, T] table; summed over ranks, the table holds every
// prediction once (adding zeros is exact), in validation order.
Validation validate(Sequential& model, ExperimentData& data, const ExperimentConfig& config, Device device,
                    Communicator& comm) {
  const std::size_t T = data.target_names.size();
  const std::vector<std::size_t>& rows = data.val_loader().rows();
  std::unordered_map<std::size_t, std::size_t> position;
  for (std::size_t i = 0; i < rows.size(); ++i) position[rows[i]] = i;
  std::vector<float> table(rows.size() * T, 0.0f);
  data.val_loader().start_epoch(0);
  Batch batch;
  while (data.val_loader().next(batch)) {
    Tensor y = model.forward(data.val_loader().images_on(batch, device), false);
    const std::vector<float> p = y.to_vector();
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::size_t target = i % T;
      float v = p[i];
      if (config.data.normalize_targets) v = v * data.target_std[target] + data.target_mean[target];
      table[position.at(batch.rows[i / T]) * T + target] = v;
    }
  }
  comm.all_reduce_sum(table.data(), table.size());
  std::vector<std::vector<float>> pred(T), truth(T);
  for (std::size_t i = 0; i < table.size(); ++i) {
    pred[i % T].push_back(table[i]);
    truth[i % T].push_back(data.val_targets[i]);
  }
  Validation out;
  for (std::size_t target = 0; target < T; ++target) {
    out.rmse.push_back(rmse(pred[target], truth[target]));
    out.nmad.push_back(nmad(pred[target], truth[target]));
  }
  return out;
}

// Keeps only the metrics.csv rows of epochs < epochs_done (resume after a crash mid-epoch).
std::string metrics_prefix(const fs::path& path, int epochs_done, const std::string& header) {
  std::string out = header;
  if (!fs::exists(path)) return out;
  CsvTable table = read_csv(path);
  const int epoch_col = table.require_column("epoch");
  for (const auto& row : table.rows) {
    double e;
    if (parse_finite_double(row.fields[epoch_col], e) && e <= epochs_done) out += csv_line(row.fields);
  }
  return out;
}

std::string dump_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : tty_(enabled && isatty(fileno(stdout))) {}
  // loss: the running mean last read from the device, NaN before the first read.
  void update(int epoch, int epochs, std::int64_t step, std::int64_t steps, double loss, double images_per_s,
              double eta) {
    if (!tty_) return;
    const int width = 24;
    const int filled = static_cast<int>(width * (step + 1) / std::max<std::int64_t>(1, steps));
    fmt::print("\repoch {}/{} [{}{}] {}/{} loss {} {:.0f} img/s ETA {}   ", epoch, epochs,
               std::string(static_cast<std::size_t>(filled), '#'), std::string(static_cast<std::size_t>(width - filled), ' '),
               step + 1, steps, std::isnan(loss) ? std::string("-") : fmt::format("{:.4f}", loss), images_per_s,
               format_duration(eta));
    std::fflush(stdout);
  }
  void clear() {
    if (tty_) fmt::print("\r{:100}\r", "");
  }

 private:
  bool tty_;
};

}  // namespace

double rmse(const std::vector<float>& pred, const std::vector<float>& truth) {
  GCNN_CHECK(pred.size() == truth.size() && !pred.empty(), "rmse: {} predictions for {} truths", pred.size(),
             truth.size());
  double sum = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) sum += (static_cast<double>(pred[i]) - truth[i]) * (static_cast<double>(pred[i]) - truth[i]);
  return std::sqrt(sum / static_cast<double>(pred.size()));
}

double nmad(const std::vector<float>& pred, const std::vector<float>& truth) {
  GCNN_CHECK(pred.size() == truth.size() && !pred.empty(), "nmad: {} predictions for {} truths", pred.size(),
             truth.size());
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  std::vector<double> d(pred.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<double>(pred[i]) - truth[i];
  const double m = median(d);
  for (double& v : d) v = std::abs(v - m);
  return 1.4826 * median(d);
}

float train_step(Layer& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& target, ops::LossKind loss,
                 float huber_delta, const optim::ScheduleValue& at, const Tensor& target_weights,
                 DataParallel* parallel) {
  Tensor pred = model.forward(x, true);
  float value = ops::loss_forward(loss, pred, target, huber_delta, target_weights);
  if (parallel) value = parallel->mean_loss(value);
  if (!std::isfinite(value)) return value;
  Tensor dpred = Tensor::empty(pred.shape(), pred.device());
  ops::loss_backward(loss, pred, target, dpred, huber_delta, target_weights);
  if (parallel) parallel->begin_backward();
  model.backward(dpred);
  if (parallel) parallel->finish_gradients();
  optimizer.step(at.lr, at.momentum);
  return value;
}

RunningLoss::RunningLoss(Device device)
    : state(Tensor::zeros({2}, device)), running(Tensor::zeros({ops::kRunningLossSize}, device)) {
  reset();
}

void RunningLoss::reset() {
  running.zero();
  running.slice(3, 4).fill(-1.0f);
}

RunningLoss::Totals RunningLoss::read() const {
  const std::vector<float> v = running.to_vector();
  return {static_cast<double>(v[0]), static_cast<std::int64_t>(v[2]), static_cast<std::int64_t>(v[3])};
}

void train_step_on_device(Layer& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& target,
                          ops::LossKind loss_kind, float huber_delta, const optim::ScheduleValue& at,
                          const Tensor& target_weights, DataParallel* parallel, RunningLoss& loss, std::int64_t step) {
  Tensor pred = model.forward(x, true);
  ops::loss_forward_on_device(loss_kind, pred, target, loss.state, huber_delta, target_weights);
  ops::accumulate_loss(loss.state, loss.running, step);
  Tensor dpred = Tensor::empty(pred.shape(), pred.device());
  ops::loss_backward_on_device(loss_kind, pred, target, loss.state, dpred, huber_delta, target_weights);
  if (parallel) parallel->begin_backward();
  model.backward(dpred);
  if (parallel) parallel->finish_gradients();
  optimizer.step(at.lr, at.momentum);
}

TrainResult train_experiment(const ExperimentConfig& config, const TrainOptions& options) {
  const Clock::time_point start = Clock::now();
  TrivialCommunicator single_process;
  Communicator& comm = options.communicator ? *options.communicator : single_process;
  const int rank = comm.rank(), world = comm.world_size();
  const bool main_rank = rank == 0;
  const Device device = rank_device(parse_device(config.device), config.device, comm);
  if (device.is_cuda())
    cuda::set_conv_search_policy(
        {static_cast<std::size_t>(config.cuda.workspace_mb * 1024 * 1024), config.deterministic});
  const Precision precision = resolve_precision(config.precision, device);  // before anything is written
  const fs::path run_dir = config.run_dir();
  // Rank 0 claims the folder and writes the data files; the others read them after.
  std::optional<RunFolder> folder;
  std::unique_ptr<ExperimentData> data;
  if (main_rank) {
    folder.emplace(run_dir, options.resume, options.overwrite);
    data = std::make_unique<ExperimentData>(config, run_dir, device, rank, world);
  }
  comm.barrier();
  if (!main_rank) data = std::make_unique<ExperimentData>(config, run_dir, device, rank, world);
  const fs::path metrics_path = run_dir / "metrics.csv", last_path = run_dir / "last.safetensors",
                 state_path = run_dir / "last.state", best_path = run_dir / "best.safetensors";
  YAML::Node resolved = YAML::Clone(config.resolved);
  resolved["precision"] = precision_name(precision);  // what `auto` became, for the record
  const std::string config_yaml = dump_yaml(resolved);

  const int T = static_cast<int>(data->target_names.size());
  auto model = build_model(config, T);
  if (!config.model.init_weights.empty() && !options.resume) {
    LoadReport report = load_body_weights(*model, config.model.init_weights);
    if (main_rank)
      fmt::print("init weights {}: loaded {} tensors; kept initialised (missing from the file): {}; not used: {}\n",
               config.model.init_weights.string(), report.loaded,
               report.missing.empty() ? "none" : fmt::format("{}", fmt::join(report.missing, ", ")),
               report.unexpected.empty() ? "none" : fmt::format("{}", fmt::join(report.unexpected, ", ")));
  }
  move_to(*model, device);
  set_precision(*model, precision);
  std::optional<DataParallel> parallel;
  if (world > 1) {
    broadcast_model(*model, comm);
    parallel.emplace(comm, *model, config.distributed.bucket_mb, config.distributed.overlap);
  }
  if (config.distributed.sync_bn) synchronise_batchnorm(*model, &comm);
  const InjectedFailure injected_failure;

  auto optimizer = make_optimizer(make_groups(*model), config.optimizer);
  Normalisation norm{data->target_names, data->target_mean, data->target_std, data->channel_stats};

  Progress progress;
  progress.world_size = world;
  if (options.resume) {
    progress = load_state(state_path, *model, *optimizer);
    GCNN_INPUT_CHECK(progress.world_size == world,
                     "{}: saved by a run of {} rank(s) (global batch {}), but this run has {} rank(s) (global batch "
                     "{}); resume with the same number of ranks (mpirun -np {}), since the shards, the global batch "
                     "and the step count depend on it",
                     state_path.string(), progress.world_size, progress.world_size * config.data.batch_size, world,
                     world * config.data.batch_size, progress.world_size);
    if (main_rank)
      fmt::print("resuming {} after epoch {} (step {})\n", run_dir.string(), progress.epochs_done,
                 progress.global_step);
  }
  std::string metrics =
      metrics_prefix(metrics_path, options.resume ? progress.epochs_done : 0, metrics_header(data->target_names));
  if (main_rank) {
    write_file_atomic(run_dir / "config.yaml", config_yaml);
    write_file_atomic(metrics_path, metrics);
  }

  const ops::LossKind loss_kind = ops::parse_loss(config.loss);
  Tensor target_weights;
  if (!config.loss_weights.empty())
    target_weights = Tensor::from_vector({static_cast<std::int64_t>(T)},
                                         std::vector<float>(config.loss_weights.begin(), config.loss_weights.end()),
                                         device);
  const auto steps_per_epoch = static_cast<std::int64_t>(data->train_loader().batches_per_epoch());
  const int total_epochs = config.total_epochs();
  if (main_rank)
    fmt::print("{}: {} train / {} validation images, {} steps per epoch, {} epochs, device {}, precision {}{}\n",
               config.name, data->train_size(), data->val_size(), steps_per_epoch, total_epochs, device.str(),
               precision_name(precision),
               world > 1 ? fmt::format(", {} ranks ({}) x batch {}{}, {:.3g} MB all-reduced per step", world,
                                       comm.name(), config.data.batch_size,
                                       config.distributed.sync_bn ? ", sync_bn" : "",
                                       static_cast<double>(DataParallel::gradient_bytes(*model)) / 1e6)
                         : std::string());

  // Baseline: predict the training mean of the first target for every validation galaxy.
  std::vector<float> val_truth;
  for (std::size_t i = 0; i < data->val_targets.size(); i += static_cast<std::size_t>(T)) val_truth.push_back(data->val_targets[i]);
  const double baseline = rmse(std::vector<float>(val_truth.size(), data->target_mean[0]), val_truth);

  TrainResult result;
  result.run_dir = run_dir;
  result.target_names = data->target_names;
  result.baseline_val_rmse = baseline;
  result.best_val_rmse = progress.best_val_rmse;
  ProgressBar bar(options.progress && main_rank);
  BatchUploader uploader(device);
  RunningLoss running_loss(device);
  double train_seconds = 0;
  std::int64_t train_images = 0;
  int epochs_this_run = 0;

  for (int epoch = progress.epochs_done; epoch < total_epochs; ++epoch) {
    if (options.stop_after_epochs >= 0 && epochs_this_run >= options.stop_after_epochs) break;
    const auto [phase_index, epoch_in_phase] = config.phase_of_epoch(epoch);
    const PhaseConfig& phase = config.phases[phase_index];
    optimizer->group("body").frozen = phase.freeze_body;
    optimizer->group("body_norm").frozen = phase.freeze_body && !phase.train_bn;
    for (const char* name : {"body", "body_norm"})
      for (auto& p : optimizer->group(name).params) p.param->frozen = optimizer->group(name).frozen;
    optimizer->group("body").lr_mult = phase.body_lr_mult;
    optimizer->group("body_norm").lr_mult = phase.body_lr_mult;
    const std::int64_t phase_steps = steps_per_epoch * phase.epochs;

    const Clock::time_point epoch_start = Clock::now();
    data->train_loader().start_epoch(static_cast<std::uint64_t>(epoch));
    running_loss.reset();
    double shown_loss = std::nan("");  // the running mean last read back, for the progress bar
    const std::int64_t phase_steps_before = epoch_in_phase * steps_per_epoch;  // steps of this phase before this epoch
    std::int64_t step_in_epoch = 0, images = 0;
    optim::ScheduleValue sv;
    Batch batch;
    // Reads the running loss back (the step's only wait for the device) and
    // stops on a non-finite loss; with several ranks, at the epoch's end only,
    // summed over the ranks (every rank reaches it and stops alike).
    auto read_loss = [&](bool epoch_end) {
      RunningLoss::Totals totals = running_loss.read();
      if (world > 1) {
        double sums[3] = {totals.sum, static_cast<double>(totals.steps), totals.first_nonfinite_step >= 0 ? 1.0 : 0.0};
        comm.all_reduce_sum(sums, 3);
        totals.sum = sums[0];
        totals.steps = static_cast<std::int64_t>(sums[1]);
        if (sums[2] > 0 && totals.first_nonfinite_step < 0) totals.first_nonfinite_step = step_in_epoch;
      }
      if (totals.first_nonfinite_step >= 0 && (world == 1 || epoch_end)) {
        bar.clear();
        const std::int64_t bad = totals.first_nonfinite_step;
        const double bad_lr =
            optim::schedule_at(phase.schedule, phase_steps_before + bad - 1, steps_per_epoch, phase_steps).lr;
        GCNN_FAIL("training stopped: the {} loss became non-finite at epoch {} step {} (lr {:.3g}); the last good "
                  "checkpoint {} (after epoch {}) is left intact. Try a lower learning rate.",
                  config.loss, epoch + 1, bad, bad_lr,
                  fs::exists(last_path) ? last_path.string() : std::string("(none yet)"), progress.epochs_done);
      }
      return totals;
    };
    while (data->train_loader().next(batch)) {
      const std::int64_t step_in_phase = phase_steps_before + step_in_epoch;
      sv = optim::schedule_at(phase.schedule, step_in_phase, steps_per_epoch, phase_steps);
      // Dropout masks: one stream per step, and per rank when there are several.
      const std::uint64_t step_seed = derive_seed(config.seed, static_cast<std::uint64_t>(progress.global_step));
      model->set_seed(world > 1 ? derive_seed(step_seed, static_cast<std::uint64_t>(rank)) : step_seed);
      std::vector<Tensor> host = data->train_loader().image_sources(batch);
      host.push_back(standardised_targets(batch.targets, *data, config.data.normalize_targets));
      std::vector<Tensor> on_device = uploader.upload(host);
      const Tensor target = on_device.back();
      on_device.pop_back();
      const Tensor x = data->train_loader().images_from(on_device);
      train_step_on_device(*model, *optimizer, x, target, loss_kind, config.huber_delta, sv, target_weights,
                           parallel ? &*parallel : nullptr, running_loss, step_in_epoch + 1);
      images += static_cast<std::int64_t>(batch.ids.size()) * world;  // the global batch
      ++step_in_epoch;
      ++progress.global_step;
      if (world > 1 && config.distributed.check_params) check_parameters_agree(*model, comm, progress.global_step);
      injected_failure.after_step(rank, progress.global_step);
      if (options.after_step) options.after_step(progress.global_step);
      if (config.log_every > 0 && progress.global_step % config.log_every == 0) {
        const RunningLoss::Totals totals = read_loss(false);
        shown_loss = totals.sum / static_cast<double>(std::max<std::int64_t>(totals.steps, 1));
        if (main_rank && !isatty(fileno(stdout)))
          fmt::print("  step {} loss {:.4f} lr {:.3g}\n", progress.global_step, shown_loss, sv.lr);
      }
      const double elapsed = seconds_since(epoch_start);
      bar.update(epoch + 1, total_epochs, step_in_epoch - 1, steps_per_epoch, shown_loss,
                 static_cast<double>(images) / elapsed,
                 elapsed / static_cast<double>(step_in_epoch) * static_cast<double>(steps_per_epoch - step_in_epoch));
    }
    GCNN_CHECK(step_in_epoch > 0, "epoch {}: the training split gave no batch", epoch + 1);
    const RunningLoss::Totals epoch_loss = read_loss(true);
    const double epoch_train_seconds = seconds_since(epoch_start);
    train_seconds += epoch_train_seconds;
    train_images += images;
    if (world > 1) broadcast_buffers(*model, comm);  // rank 0's running statistics, as PyTorch DDP
    const Validation val = validate(*model, *data, config, device, comm);
    const double epoch_seconds = seconds_since(epoch_start);
    const double images_per_s = static_cast<double>(images) / epoch_train_seconds;
    const double train_loss = epoch_loss.sum / static_cast<double>(epoch_loss.steps);
    bar.clear();

    progress.epochs_done = epoch + 1;
    if (main_rank) save_model(last_path, *model, config_yaml, norm);
    const bool best = progress.best_val_rmse < 0 || val.rmse[0] < progress.best_val_rmse;
    if (best) {
      progress.best_val_rmse = val.rmse[0];
      if (main_rank) save_model(best_path, *model, config_yaml, norm);
    }
    std::vector<std::string> row{std::to_string(epoch + 1), std::to_string(progress.global_step),
                                 fmt::format("{:.6g}", sv.lr), fmt::format("{:.4g}", sv.momentum),
                                 fmt::format("{:.6f}", train_loss), fmt::format("{:.6f}", val.rmse[0]),
                                 fmt::format("{:.6f}", val.nmad[0]), fmt::format("{:.1f}", images_per_s),
                                 fmt::format("{:.2f}", epoch_seconds)};
    // The other targets, after the first's val_rmse / val_nmad, in the progress line.
    std::string others;
    if (T > 1) {
      for (int t = 0; t < T; ++t) {
        row.push_back(fmt::format("{:.6f}", val.rmse[t]));
        row.push_back(fmt::format("{:.6f}", val.nmad[t]));
        if (t > 0) others += fmt::format(" {} rmse {:.4f} nmad {:.4f}", data->target_names[t], val.rmse[t], val.nmad[t]);
      }
    }
    metrics += csv_line(row);
    if (main_rank) {
      write_file_atomic(metrics_path, metrics);
      // The state goes last: it alone is what a resume continues from (weights
      // included), so a kill before it repeats this epoch from the previous state.
      save_state(state_path, *model, *optimizer, progress);
    }
    if (main_rank)
      fmt::print("epoch {:>3}/{} phase {} lr {:.3g} train_loss {:.4f} val_rmse {:.4f} val_nmad {:.4f}{}{} {:.0f} img/s "
               "{:.1f} s{}\n",
               epoch + 1, total_epochs, phase_index + 1, sv.lr, train_loss, val.rmse[0], val.nmad[0],
               T > 1 ? fmt::format(" ({})", data->target_names[0]) : std::string(), others, images_per_s,
               epoch_seconds, best ? " *" : "");
    std::fflush(stdout);
    result.final_val_rmse = val.rmse[0];
    result.final_val_nmad = val.nmad[0];
    result.final_val_rmses = val.rmse;
    result.final_val_nmads = val.nmad;
    ++epochs_this_run;
  }
  result.epochs_done = progress.epochs_done;
  result.epochs_run = epochs_this_run;
  result.best_val_rmse = progress.best_val_rmse;
  result.seconds = seconds_since(start);
  result.train_images_per_s = train_seconds > 0 ? static_cast<double>(train_images) / train_seconds : 0;
  return result;
}

}  // namespace gcnn::train
