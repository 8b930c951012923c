// gcnn plot: PNG figures of a run folder or a predictions CSV, drawn by the
// project's matplotlib script (train/plot.h).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "apps/command.h"
#include "kernels/error.h"
#include "train/plot.h"

namespace {
namespace fs = std::filesystem;

struct PlotArgs {
  fs::path run_dir;
  fs::path predictions;
  fs::path out;
};

GCNN_COMMAND("plot", "PNG figures of a run (training curves, LR finder, predictions) or of a predictions CSV",
             [](CLI::App& cmd) {
               auto a = std::make_shared<PlotArgs>();
               auto* run = cmd.add_option("RUN_DIR", a->run_dir, "Run folder")->check(CLI::ExistingDirectory);
               auto* predictions = cmd.add_option("--predictions", a->predictions, "Predictions CSV of gcnn predict")
                                       ->check(CLI::ExistingFile);
               run->excludes(predictions);
               cmd.add_option("--out", a->out, "Folder for the figures (default: the run folder or the CSV's)");
               return [a] {
                 GCNN_INPUT_CHECK(!a->run_dir.empty() || !a->predictions.empty(),
                                  "plot: give a RUN_DIR or --predictions P.csv");
                 const auto files = a->predictions.empty() ? gcnn::train::plot_run(a->run_dir, a->out)
                                                           : gcnn::train::plot_predictions(a->predictions, a->out);
                 for (const auto& f : files) fmt::print("wrote {}\n", f.string());
                 return 0;
               };
             });

}  // namespace
