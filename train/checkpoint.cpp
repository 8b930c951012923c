// Checkpoint files: weights + normalisation metadata, and training state.
#include "train/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "data/csv.h"
#include "kernels/error.h"
#include "layers/models.h"
#include "layers/safetensors.h"
#include "train/config.h"

namespace gcnn::train {

std::string join_floats(const std::vector<float>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{:.9g}", values[i]);
  }
  return out;
}

std::vector<float> split_floats(const std::string& text, const std::string& what) {
  std::vector<float> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    float v;
    GCNN_INPUT_CHECK(parse_finite_float(item, v), "{}: '{}' is not a finite number within the float range", what,
                     item);
    out.push_back(v);
  }
  return out;
}

void save_model(const std::filesystem::path& path, Layer& model, const std::string& config_yaml,
                const Normalisation& norm) {
  std::string names;
  for (std::size_t i = 0; i < norm.target_names.size(); ++i) {
    if (i > 0) names += ',';
    names += norm.target_names[i];
  }
  write_safetensors(path, state_dict(model),
                    {{"format", "pt"},
                     {"gcnn.config", config_yaml},
                     {"gcnn.targets", names},
                     {"gcnn.target_mean", join_floats(norm.target_mean)},
                     {"gcnn.target_std", join_floats(norm.target_std)},
                     {"gcnn.channel_stats", norm.channel_stats.to_yaml()}});
}

const std::string& checkpoint_metadata(const std::map<std::string, std::string>& metadata, const std::string& key,
                                       const std::string& source) {
  auto it = metadata.find(key);
  GCNN_INPUT_CHECK(it != metadata.end(), "{}: not a gcnn checkpoint (metadata '{}' missing)", source, key);
  return it->second;
}

Normalisation read_normalisation(const std::map<std::string, std::string>& metadata, const std::string& source) {
  auto get = [&](const std::string& key) -> const std::string& { return checkpoint_metadata(metadata, key, source); };
  Normalisation n;
  std::stringstream ss(get("gcnn.targets"));
  for (std::string item; std::getline(ss, item, ',');) n.target_names.push_back(item);
  n.target_mean = split_floats(get("gcnn.target_mean"), source + " gcnn.target_mean");
  n.target_std = split_floats(get("gcnn.target_std"), source + " gcnn.target_std");
  GCNN_INPUT_CHECK(n.target_mean.size() == n.target_names.size() && n.target_std.size() == n.target_names.size(),
                   "{}: target metadata sizes disagree ({} gcnn.targets, {} gcnn.target_mean, {} gcnn.target_std)",
                   source, n.target_names.size(), n.target_mean.size(), n.target_std.size());
  for (float s : n.target_std)
    GCNN_INPUT_CHECK(s > 0, "{}: metadata gcnn.target_std holds {}; standard deviations must be > 0", source, s);
  n.channel_stats = ChannelStats::from_yaml(get("gcnn.channel_stats"), source + " gcnn.channel_stats");
  return n;
}

LoadReport load_body_weights(Layer& model, const std::filesystem::path& path) {
  Safetensors st = read_safetensors(path);
  std::map<std::string, Tensor> body;
  std::vector<std::string> head;
  for (auto& [name, t] : st.tensors) {
    if (is_head_parameter(name)) head.push_back(name);
    else body[name] = t;
  }
  LoadReport report = load_state_dict(model, body, path.string());
  report.unexpected.insert(report.unexpected.end(), head.begin(), head.end());
  return report;
}

std::string encode_state(const std::map<std::string, Tensor>& tensors, const Progress& progress,
                         const std::string& optimizer_kind) {
  return encode_safetensors(tensors, {{"gcnn.optimizer", optimizer_kind},
                                      {"gcnn.epochs_done", std::to_string(progress.epochs_done)},
                                      {"gcnn.global_step", std::to_string(progress.global_step)},
                                      {"gcnn.best_val_rmse", fmt::format("{:.17g}", progress.best_val_rmse)},
                                      {"gcnn.world_size", std::to_string(progress.world_size)}});
}

void save_state(const std::filesystem::path& path, Layer& model, const optim::Optimizer& optimizer,
                const Progress& progress) {
  std::map<std::string, Tensor> tensors = optimizer.state();
  for (const auto& [name, t] : state_dict(model)) tensors["model." + name] = t;
  write_file_atomic(path, encode_state(tensors, progress, optimizer.kind()));
}

std::string saved_optimizer(const Safetensors& st, const std::string& source) {
  auto it = st.metadata.find("gcnn.optimizer");
  if (it == st.metadata.end()) return "sgd";
  GCNN_INPUT_CHECK(it->second == "sgd" || it->second == "adamw",
                   "{}: metadata 'gcnn.optimizer' = '{}' is not sgd or adamw", source, it->second);
  return it->second;
}

Progress read_progress(const Safetensors& st, const std::string& source) {
  require_finite(st.tensors, source);
  saved_optimizer(st, source);
  for (const auto& [name, t] : st.tensors)
    GCNN_INPUT_CHECK(name.starts_with("model.") || name.starts_with("momentum.") || name.starts_with("exp_avg.") ||
                         name.starts_with("exp_avg_sq.") || name.starts_with("step."),
                     "{}: unexpected tensor '{}' (a state holds model.* tensors and the optimizer's momentum.*, "
                     "exp_avg.*, exp_avg_sq.* or step.*)",
                     source, name);
  Progress p;
  // A number in [low, high]; whole when integer is set.
  auto get = [&](const std::string& key, double low, double high, bool integer) {
    auto it = st.metadata.find(key);
    GCNN_INPUT_CHECK(it != st.metadata.end(), "{}: metadata '{}' missing", source, key);
    double v;
    GCNN_INPUT_CHECK(parse_finite_double(it->second, v) && v >= low && v <= high && (!integer || v == std::floor(v)),
                     "{}: metadata '{}' = '{}' is not {} in [{}, {}]", source, key, it->second,
                     integer ? "a whole number" : "a number", low, high);
    return v;
  };
  p.epochs_done = static_cast<int>(get("gcnn.epochs_done", 0, kMaxEpochs, true));
  p.global_step = static_cast<std::int64_t>(get("gcnn.global_step", 0, 9007199254740992.0, true));
  p.best_val_rmse = get("gcnn.best_val_rmse", -1, std::numeric_limits<double>::max(), false);
  // States written before data parallelism existed come from one process.
  if (st.metadata.count("gcnn.world_size")) p.world_size = static_cast<int>(get("gcnn.world_size", 1, 1 << 20, true));
  return p;
}

void check_state_file(const std::filesystem::path& path) { read_progress(read_safetensors(path), path.string()); }

Progress load_state(const std::filesystem::path& path, Layer& model, optim::Optimizer& optimizer) {
  Safetensors st = read_safetensors(path);
  const Progress p = read_progress(st, path.string());
  const std::string kind = saved_optimizer(st, path.string());
  GCNN_INPUT_CHECK(kind == optimizer.kind(),
                   "{}: holds the state of a {} optimizer, but the config's optimizer.kind is {}; resume with the "
                   "optimizer the run started with",
                   path.string(), kind, optimizer.kind());
  std::map<std::string, Tensor> weights, state;
  for (auto& [name, t] : st.tensors) {
    if (name.starts_with("model.")) weights[name.substr(6)] = t;
    else state[name] = t;
  }
  GCNN_INPUT_CHECK(!weights.empty(), "{}: holds no model.* tensors (a state written by an older gcnn, which kept "
                   "them in last.safetensors only); it cannot be resumed", path.string());
  const LoadReport report = load_state_dict(model, weights, path.string());
  GCNN_INPUT_CHECK(report.missing.empty() && report.unexpected.empty(),
                   "{}: does not match the model (missing: {}; unexpected: {})", path.string(),
                   fmt::join(report.missing, ", "), fmt::join(report.unexpected, ", "));
  optimizer.load_state(state, path.string());
  return p;
}

}  // namespace gcnn::train
