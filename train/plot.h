// Figures of runs and predictions: the engine runs the project's matplotlib
// script (scripts/plots/gcnn_plot.py, or $GCNN_PLOT_SCRIPT) with Debian's
// /usr/bin/python3, without a shell, and returns the PNG files it wrote. The
// script's own messages (e.g. a malformed CSV, naming file and line) become
// the error's message.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gcnn::train {

// Why figures cannot be drawn on this machine (no /usr/bin/python3, no
// matplotlib or numpy, no script), or an empty string when they can.
std::string plotting_unavailable_reason();

// Figures of a run folder: training_curves.png (metrics.csv), lr_find.png
// (lr_find.csv) and the prediction figures of its predictions.csv, each when
// the file exists; curves_only: the training curves alone. out: default the
// run folder. Throws an InputError with the script's message on failure.
std::vector<std::filesystem::path> plot_run(const std::filesystem::path& run_dir, const std::filesystem::path& out,
                                            bool curves_only = false);
// pred_vs_true_<target>.png and residuals_<target>.png for every target of a
// predictions CSV that has true values, and mass_metallicity.png when it has
// both oh_p50 and lgm_tot_p50 with true values. out: default the CSV's folder.
std::vector<std::filesystem::path> plot_predictions(const std::filesystem::path& csv,
                                                    const std::filesystem::path& out);

}  // namespace gcnn::train
