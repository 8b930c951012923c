// gcnn evaluate: per-target metrics of a predictions CSV as a table and,
// optionally, JSON (train/evaluate.h).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "apps/command.h"
#include "data/csv.h"
#include "train/evaluate.h"

namespace {
namespace fs = std::filesystem;

struct EvaluateArgs {
  fs::path predictions;
  fs::path json;
  gcnn::train::EvaluateOptions options;
};

GCNN_COMMAND("evaluate", "Metrics of a predictions CSV: RMSE, NMAD, biases, outliers, bins, bootstrap intervals",
             [](CLI::App& cmd) {
               auto a = std::make_shared<EvaluateArgs>();
               cmd.add_option("--predictions", a->predictions, "Predictions CSV written by gcnn predict")
                   ->required()
                   ->check(CLI::ExistingFile);
               cmd.add_option("--json", a->json, "Also write the metrics as JSON here");
               cmd.add_option("--bins", a->options.bins, "Equal-width bins over the true values' range")
                   ->capture_default_str();
               cmd.add_option("--bootstrap", a->options.bootstrap, "Bootstrap resamples for the intervals (0: none)")
                   ->capture_default_str();
               cmd.add_option("--seed", a->options.seed, "Seed of the bootstrap resamples")->capture_default_str();
               cmd.add_option("--confidence", a->options.confidence, "Confidence of the intervals")
                   ->capture_default_str();
               cmd.add_option("--outlier-dex", a->options.outlier_dex, "Outlier threshold on |residual|")
                   ->capture_default_str();
               return [a] {
                 const auto table = gcnn::train::read_predictions(a->predictions);
                 const auto metrics = gcnn::train::evaluate_predictions(table, a->options);
                 fmt::print("{}: {} rows\n{}", a->predictions.string(), table.ids.size(),
                            gcnn::train::metrics_table(metrics, a->options));
                 if (!a->json.empty()) {
                   gcnn::write_file_atomic(
                       a->json, gcnn::train::metrics_json(metrics, a->options, a->predictions.string()));
                   fmt::print("wrote {}\n", a->json.string());
                 }
                 return 0;
               };
             });

}  // namespace
