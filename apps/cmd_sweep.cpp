// gcnn sweep: the resolution study of an experiment file (train/sweep.h).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "apps/command.h"
#include "train/sweep.h"

namespace {
namespace fs = std::filesystem;

struct SweepArgs {
  fs::path config;
  std::string sizes;
  std::vector<std::string> sets;
  std::string device;
  bool no_progress = false;
  gcnn::train::SweepOptions options;
};

GCNN_COMMAND("sweep", "resolution sweep: the recipe on images degraded to N x N px, one run (or k-fold CV) per size",
             [](CLI::App& cmd) {
               auto a = std::make_shared<SweepArgs>();
               cmd.add_option("--config", a->config, "Experiment YAML file")->required()->check(CLI::ExistingFile);
               cmd.add_option("--sizes", a->sizes,
                              "Pixels per side, comma-separated (default: data.image_size halved down to 1)");
               cmd.add_option("--folds", a->options.folds, "k-fold cross-validation per size (0: one run per size)")
                   ->capture_default_str();
               cmd.add_option("--set", a->sets, "Override a config value: key.path=value (repeatable)");
               cmd.add_option("--device", a->device, "auto|cpu|cuda|cuda:N (overrides the config)");
               cmd.add_flag("--resume", a->options.resume, "Keep finished sizes, continue unfinished runs");
               cmd.add_flag("--overwrite", a->options.overwrite, "Replace the runs of an earlier sweep");
               cmd.add_flag("--no-progress", a->no_progress, "Plain lines even on a terminal");
               return [a] {
                 gcnn::app::require_one_process("sweep");
                 std::vector<std::string> sets = a->sets;
                 if (!a->device.empty()) sets.push_back("device=" + a->device);
                 if (!a->sizes.empty()) a->options.sizes = gcnn::train::parse_sweep_sizes(a->sizes);
                 a->options.progress = !a->no_progress;
                 const auto r = gcnn::train::resolution_sweep(a->config, sets, a->options);
                 fmt::print("\n{}: resolution sweep ({})\n{}wrote {}\n", r.name,
                            r.folds > 0 ? fmt::format("{}-fold cross-validation per size, mean ± std", r.folds)
                                        : std::string("last epoch of one run per size"),
                            gcnn::train::sweep_table(r), r.csv.string());
                 for (const auto& f : r.figures) fmt::print("wrote {}\n", f.string());
                 if (!r.plot_warning.empty()) fmt::print("warning: no sweep.png: {}\n", r.plot_warning);
                 return 0;
               };
             });

}  // namespace
