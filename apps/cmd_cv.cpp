// gcnn cv: k-fold cross-validation of an experiment file (train/cv.h).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "apps/command.h"
#include "train/cv.h"

namespace {
namespace fs = std::filesystem;

struct CvArgs {
  fs::path config;
  std::vector<std::string> sets;
  std::string device;
  bool no_progress = false;
  gcnn::train::CvOptions options;
};

GCNN_COMMAND("cv", "k-fold cross-validation: one run per fold, mean and std of the folds' validation metrics",
             [](CLI::App& cmd) {
               auto a = std::make_shared<CvArgs>();
               cmd.add_option("--config", a->config, "Experiment YAML file")->required()->check(CLI::ExistingFile);
               cmd.add_option("--folds", a->options.folds, "Number of folds k")->capture_default_str();
               cmd.add_option("--set", a->sets, "Override a config value: key.path=value (repeatable)");
               cmd.add_option("--device", a->device, "auto|cpu|cuda|cuda:N (overrides the config)");
               cmd.add_flag("--resume", a->options.resume, "Continue unfinished fold runs, keep finished ones");
               cmd.add_flag("--overwrite", a->options.overwrite, "Replace earlier runs in the fold folders");
               cmd.add_flag("--no-progress", a->no_progress, "Plain lines even on a terminal");
               return [a] {
                 gcnn::app::require_one_process("cv");
                 std::vector<std::string> sets = a->sets;
                 if (!a->device.empty()) sets.push_back("device=" + a->device);
                 a->options.progress = !a->no_progress;
                 const auto r = gcnn::train::cross_validate(a->config, sets, a->options);
                 fmt::print("\n{}: {}-fold cross-validation (last epoch of each fold)\n{}wrote {}\nensemble:",
                            r.name, r.folds.size(), gcnn::train::cv_table(r), r.json.string());
                 for (const auto& f : r.folds) fmt::print(" --checkpoint {}", f.run_dir.string());
                 fmt::print("\n");
                 return 0;
               };
             });

}  // namespace
