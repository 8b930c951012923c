// The science commands as a user runs them: evaluate writes its JSON and
// names the file and line of a bad value; predict, plot and cv refuse bad
// options (sweep: bad sizes) with a message naming the option and a non-zero exit; train draws
// its training curves, and a missing figure script only warns.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

namespace {
namespace fs = std::filesystem;

struct CommandResult {
  int status;
  std::string output;
};

// env: variable assignments put before the command ("" for none).
CommandResult run_gcnn(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + std::string(GCNN_BINARY_DIR) + "/gcnn " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void expect_user_error(const std::string& args, const std::string& expected) {
  const CommandResult r = run_gcnn(args);
  EXPECT_EQ(r.status, 1) << args << ": " << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
  EXPECT_EQ(r.output.find(".cpp:"), std::string::npos) << args << ": " << r.output;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_science_cli_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ScienceCli, EvaluateWritesJsonAndNamesABadLine) {
  const fs::path dir = fresh_dir("evaluate");
  { std::ofstream(dir / "p.csv") << "objID,oh_p50,pred_oh_p50,std_oh_p50\n1,8.5,8.6,0\n2,8.7,8.6,0\n3,9.0,,0\n"; }
  expect_user_error("evaluate --predictions " + (dir / "p.csv").string(),
                    "p.csv:4: column 'pred_oh_p50': '' is not a finite number");
  { std::ofstream(dir / "p.csv") << "objID,oh_p50,pred_oh_p50,std_oh_p50\n1,8.5,8.6,0\n2,8.7,8.6,0\n3,,9.1,0\n"; }
  const CommandResult r = run_gcnn("evaluate --predictions " + (dir / "p.csv").string() + " --bootstrap 20 --json " +
                                   (dir / "m.json").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("oh_p50: 1 rows without a true value left out"), std::string::npos) << r.output;
  const auto doc = nlohmann::json::parse(std::ifstream(dir / "m.json"));
  EXPECT_EQ(doc["targets"][0]["n"], 2);
  EXPECT_NEAR(doc["targets"][0]["rmse"].get<double>(), 0.1, 1e-9);
  fs::remove_all(dir);
}

TEST(ScienceCli, PredictPlotAndCvRefuseBadOptions) {
  const fs::path dir = fresh_dir("options");
  { std::ofstream(dir / "x.yaml") << "name: x\n"; }
  expect_user_error("predict --checkpoint " + dir.string() + " --images " + dir.string() + " --tta sideways",
                    "--tta 'sideways': expected none, dihedral or fastai");
  expect_user_error("predict --checkpoint " + (dir / "none").string() + " --images " + dir.string(),
                    "--checkpoint " + (dir / "none").string() + ": no such checkpoint file");
  expect_user_error("plot", "plot: give a RUN_DIR or --predictions P.csv");
  expect_user_error("cv --config " + (dir / "x.yaml").string() + " --folds 1", "--folds 1: must be in [2, 100]");
  fs::remove_all(dir);
}

TEST(ScienceCli, SweepRefusesBadSizes) {
  const fs::path dir = fresh_dir("sweep");
  {
    std::ofstream(dir / "tiny.yaml") << "name: tiny\ndevice: cpu\nruns_dir: " << dir.string()
                                     << "\ndata: {synthetic: {n: 24, size: 16}, image_size: 16, batch_size: 8}\n"
                                        "model: {preset: plain_cnn, channels: [4], head: {kind: linear}}\n"
                                        "phases: [{epochs: 1, lr: 0.01}]\n";
  }
  const std::string config = "sweep --config " + (dir / "tiny.yaml").string();
  expect_user_error(config + " --sizes 16,0", "--sizes: 0 px is not in [1, 16] (data.image_size is 16)");
  expect_user_error(config + " --sizes 16,32", "--sizes: 32 px is not in [1, 16] (data.image_size is 16)");
  expect_user_error(config + " --sizes 16,eight", "--sizes '16,eight': 'eight' is not a whole number of pixels");
  expect_user_error(config + " --folds 1", "--folds 1: must be 0 (one run per size) or at least 2");
  expect_user_error(config + " --set data.degrade=20", "--set data.degrade must be in [0, 16]");
  EXPECT_FALSE(fs::exists(dir / "tiny")) << "nothing ran";
  fs::remove_all(dir);
}

TEST(ScienceCli, TrainDrawsItsCurvesAndAMissingScriptOnlyWarns) {
  const fs::path dir = fresh_dir("train");
  {
    std::ofstream(dir / "tiny.yaml") << "name: tiny\ndevice: cpu\nruns_dir: " << dir.string()
                                     << "\ndata: {synthetic: {n: 24, size: 16}, image_size: 16, batch_size: 8, workers: 1}\n"
                                        "model: {preset: plain_cnn, channels: [4], head: {kind: linear}}\n"
                                        "phases: [{epochs: 1, lr: 0.01}]\n";
  }
  const std::string train = "train --no-progress --config " + (dir / "tiny.yaml").string();
  const CommandResult missing = run_gcnn(train, "GCNN_PLOT_SCRIPT=/nonexistent/gcnn_plot.py");
  EXPECT_EQ(missing.status, 0) << missing.output;
  EXPECT_NE(missing.output.find("warning: no training-curve figure: cannot draw figures: the figure script "
                                "/nonexistent/gcnn_plot.py is missing"),
            std::string::npos)
      << missing.output;
  const CommandResult r = run_gcnn(train + " --overwrite");
  EXPECT_EQ(r.status, 0) << r.output;
  if (r.output.find("warning: no training-curve figure") == std::string::npos)
    EXPECT_TRUE(fs::exists(dir / "tiny" / "training_curves.png")) << r.output;
  else
    EXPECT_NE(r.output.find("matplotlib"), std::string::npos) << "only a missing matplotlib may stop the figure: "
                                                               << r.output;
  fs::remove_all(dir);
}

}  // namespace
