// The resolution sweep (see sweep.h).
#include "train/sweep.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>
#include <set>

#include "data/csv.h"
#include "kernels/error.h"
#include "train/config.h"
#include "train/cv.h"
#include "train/plot.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

// A string as a YAML scalar that --set reads back unchanged (any path).
std::string yaml_quoted(const std::string& text) {
  YAML::Emitter out;
  out << YAML::DoubleQuoted << text;
  return out.c_str();
}

std::vector<int> default_sizes(int image_size) {
  std::vector<int> sizes;
  for (int n = image_size; n >= 1; n /= 2) sizes.push_back(n);
  return sizes;
}

// A run folder that finished every epoch of its config (metrics.csv reached
// the last epoch and last.state exists).
bool run_finished(const ExperimentConfig& config) {
  const fs::path run = config.run_dir();
  if (!fs::exists(run / "last.state") || !fs::exists(run / "metrics.csv")) return false;
  const CsvTable table = read_csv(run / "metrics.csv");
  const int column = table.column("epoch");
  if (table.rows.empty() || column < 0) return false;
  double epoch = 0;
  return parse_finite_double(table.rows.back().fields[static_cast<std::size_t>(column)], epoch) &&
         static_cast<int>(epoch) == config.total_epochs();
}

// The run folders an earlier sweep left in dir for these sizes.
std::vector<std::string> earlier_runs(const fs::path& dir, const std::vector<int>& sizes) {
  std::vector<std::string> found;
  if (!fs::is_directory(dir)) return found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    for (int n : sizes) {
      const std::string px = fmt::format("px{}", n);
      if (name == px || name.starts_with(px + "-fold") || name == px + "-cv.json") found.push_back(name);
    }
  }
  return found;
}

void write_sweep_csv(const SweepResult& r) {
  std::vector<std::string> header{"pixels"};
  for (const auto& m : r.metrics) {
    header.push_back(m);
    if (r.folds > 0) header.push_back(m + "_std");
  }
  std::string text = csv_line(header);
  for (const auto& p : r.points) {
    std::vector<std::string> row{std::to_string(p.pixels)};
    for (std::size_t m = 0; m < r.metrics.size(); ++m) {
      row.push_back(fmt::format("{:.6g}", p.values[m]));
      if (r.folds > 0) row.push_back(fmt::format("{:.6g}", p.stds[m]));
    }
    text += csv_line(row);
  }
  write_file_atomic(r.csv, text);
}

}  // namespace

std::vector<int> parse_sweep_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    GCNN_INPUT_CHECK(!item.empty() && ec == std::errc() && end == item.data() + item.size(),
                     "--sizes '{}': '{}' is not a whole number of pixels (e.g. --sizes 128,64,32)", text, item);
    sizes.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sizes;
}

SweepResult resolution_sweep(const fs::path& config_file, const std::vector<std::string>& overrides,
                             const SweepOptions& options) {
  GCNN_INPUT_CHECK(!(options.resume && options.overwrite), "sweep: --resume and --overwrite exclude each other");
  GCNN_INPUT_CHECK(options.folds == 0 || options.folds >= 2, "--folds {}: must be 0 (one run per size) or at least 2",
                   options.folds);
  const ExperimentConfig base = load_config(config_file, overrides);
  const int image_size = base.data.image_size;
  const std::vector<int> sizes = options.sizes.empty() ? default_sizes(image_size) : options.sizes;
  std::set<int> seen;
  for (int n : sizes) {
    GCNN_INPUT_CHECK(n >= 1 && n <= image_size, "--sizes: {} px is not in [1, {}] (data.image_size is {})", n,
                     image_size, image_size);
    GCNN_INPUT_CHECK(seen.insert(n).second, "--sizes: {} px is given twice", n);
  }

  SweepResult result;
  result.name = base.name;
  result.dir = base.run_dir();
  result.folds = options.folds;
  result.csv = result.dir / "sweep.csv";
  if (!options.resume && !options.overwrite) {
    const std::vector<std::string> earlier = earlier_runs(result.dir, sizes);
    GCNN_INPUT_CHECK(earlier.empty(),
                     "{}: holds runs of an earlier sweep ({}): continue it with --resume or replace it with "
                     "--overwrite",
                     result.dir.string(), fmt::join(earlier, ", "));
  }
  fs::create_directories(result.dir);

  for (int n : sizes) {
    std::vector<std::string> sets = overrides;
    sets.push_back("runs_dir=" + yaml_quoted(result.dir.string()));
    sets.push_back(fmt::format("name=px{}", n));
    sets.push_back(fmt::format("data.degrade={}", n));
    SweepPoint point;
    point.pixels = n;
    std::vector<std::string> names;
    const auto start = std::chrono::steady_clock::now();
    if (options.folds > 0) {
      fmt::print("== sweep {} px: {}-fold cross-validation\n", n, options.folds);
      CvOptions cv;
      cv.folds = options.folds;
      cv.resume = options.resume;
      cv.overwrite = options.overwrite;
      cv.progress = options.progress;
      const CvResult r = cross_validate(config_file, sets, cv);
      names = r.metrics;
      point.values = r.mean;
      point.stds = r.std;
    } else {
      const ExperimentConfig config = load_config(config_file, sets);
      point.kept = options.resume && run_finished(config);
      if (point.kept) {
        fmt::print("== sweep {} px: {} finished earlier, kept\n", n, config.run_dir().string());
      } else {
        fmt::print("== sweep {} px: {}\n", n, config.run_dir().string());
        TrainOptions train;
        train.progress = options.progress;
        train.overwrite = options.overwrite;
        train.resume = options.resume && fs::exists(config.run_dir() / "last.state");
        train_experiment(config, train);
      }
      read_final_metrics(config.run_dir(), names, point.values);
    }
    point.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    GCNN_CHECK(result.points.empty() || names == result.metrics, "sweep {} px: metrics.csv columns differ from {} px's",
               n, result.points.front().pixels);
    result.metrics = names;
    result.points.push_back(std::move(point));
  }
  write_sweep_csv(result);
  if (options.plot) {
    if (const std::string why = plotting_unavailable_reason(); !why.empty())
      result.plot_warning = why;
    else
      result.figures = plot_run(result.dir, {});
  }
  return result;
}

std::string sweep_table(const SweepResult& r) {
  std::string s = fmt::format("{:>6}", "pixels");
  for (const auto& m : r.metrics) s += fmt::format(" {:>18}", m);
  s += fmt::format(" {:>9}\n", "seconds");
  for (const auto& p : r.points) {
    s += fmt::format("{:>6}", p.pixels);
    for (std::size_t m = 0; m < r.metrics.size(); ++m)
      s += fmt::format(" {:>18}", r.folds > 0 ? fmt::format("{:.4f} ± {:.4f}", p.values[m], p.stds[m])
                                              : fmt::format("{:.4f}", p.values[m]));
    s += p.kept ? fmt::format(" {:>9}\n", "kept") : fmt::format(" {:>9.1f}\n", p.seconds);
  }
  return s;
}

}  // namespace gcnn::train
