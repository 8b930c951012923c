// k-fold cross-validation (see cv.h).
#include "train/cv.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/csv.h"
#include "kernels/error.h"
#include "train/config.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxFolds = 100;

}  // namespace

void read_final_metrics(const fs::path& run_dir, std::vector<std::string>& names, std::vector<double>& values) {
  const fs::path path = run_dir / "metrics.csv";
  const CsvTable table = read_csv(path);
  GCNN_INPUT_CHECK(!table.rows.empty(), "{}: no finished epoch", path.string());
  const CsvRow& last = table.rows.back();
  names.clear();
  values.clear();
  for (std::size_t c = 0; c < table.header.size(); ++c) {
    if (table.header[c].rfind("val_", 0) != 0) continue;
    double v;
    GCNN_INPUT_CHECK(parse_finite_double(last.fields[c], v), "{}:{}: column '{}': '{}' is not a finite number",
                     path.string(), last.line, table.header[c], last.fields[c]);
    names.push_back(table.header[c]);
    values.push_back(v);
  }
  GCNN_INPUT_CHECK(!names.empty(), "{}: no val_* column", path.string());
}

CvResult cross_validate(const fs::path& config_file, const std::vector<std::string>& overrides,
                        const CvOptions& options) {
  GCNN_INPUT_CHECK(options.folds >= 2 && options.folds <= kMaxFolds, "--folds {}: must be in [2, {}]", options.folds,
                   kMaxFolds);
  GCNN_INPUT_CHECK(!(options.resume && options.overwrite), "cv: --resume and --overwrite exclude each other");
  const ExperimentConfig base = load_config(config_file, overrides);
  CvResult result;
  result.name = base.name;
  for (int fold = 0; fold < options.folds; ++fold) {
    std::vector<std::string> sets = overrides;
    sets.push_back(fmt::format("data.folds={}", options.folds));
    sets.push_back(fmt::format("data.fold={}", fold));
    sets.push_back(fmt::format("name={}-fold{}", base.name, fold));
    const ExperimentConfig config = load_config(config_file, sets);
    TrainOptions train_options;
    train_options.progress = options.progress;
    train_options.overwrite = options.overwrite;
    train_options.resume = options.resume && fs::exists(config.run_dir() / "last.state");
    fmt::print("== cv fold {}/{}: {}\n", fold + 1, options.folds, config.run_dir().string());
    train_experiment(config, train_options);
    CvFold f;
    f.fold = fold;
    f.run_dir = config.run_dir();
    std::vector<std::string> names;
    read_final_metrics(f.run_dir, names, f.values);
    GCNN_CHECK(result.folds.empty() || names == result.metrics, "{}: metrics.csv columns differ from fold 0's",
               f.run_dir.string());
    result.metrics = names;
    result.folds.push_back(std::move(f));
  }
  const std::size_t M = result.metrics.size();
  const auto K = static_cast<double>(result.folds.size());
  result.mean.assign(M, 0.0);
  result.std.assign(M, 0.0);
  for (std::size_t m = 0; m < M; ++m) {
    for (const auto& f : result.folds) result.mean[m] += f.values[m] / K;
    for (const auto& f : result.folds) result.std[m] += (f.values[m] - result.mean[m]) * (f.values[m] - result.mean[m]);
    result.std[m] = std::sqrt(result.std[m] / (K - 1));
  }

  nlohmann::json doc;
  doc["name"] = result.name;
  doc["config"] = fs::absolute(config_file).string();
  doc["folds"] = nlohmann::json::array();
  for (const auto& f : result.folds) {
    nlohmann::json fold = {{"fold", f.fold}, {"run_dir", fs::absolute(f.run_dir).string()}};
    for (std::size_t m = 0; m < M; ++m) fold[result.metrics[m]] = f.values[m];
    doc["folds"].push_back(std::move(fold));
  }
  for (std::size_t m = 0; m < M; ++m) {
    doc["mean"][result.metrics[m]] = result.mean[m];
    doc["std"][result.metrics[m]] = result.std[m];
  }
  doc["std_definition"] = "sample standard deviation over folds (n - 1)";
  result.json = base.runs_dir / (base.name + "-cv.json");
  write_file_atomic(result.json, doc.dump(2) + "\n");
  return result;
}

std::string cv_table(const CvResult& r) {
  std::string s = fmt::format("{:<6}", "fold");
  for (const auto& m : r.metrics) s += fmt::format(" {:>18}", m);
  s += "\n";
  for (const auto& f : r.folds) {
    s += fmt::format("{:<6}", f.fold);
    for (double v : f.values) s += fmt::format(" {:>18.4f}", v);
    s += "\n";
  }
  s += fmt::format("{:<6}", "mean");
  for (std::size_t m = 0; m < r.metrics.size(); ++m) s += fmt::format(" {:>18}", fmt::format("{:.4f} ± {:.4f}", r.mean[m], r.std[m]));
  return s + "\n";
}

}  // namespace gcnn::train
