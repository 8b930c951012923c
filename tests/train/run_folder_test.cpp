// The run folder is never damaged by a run that should not happen: a new run
// into a folder that holds one is refused (unless overwrite), a resume with a
// corrupt last.state stops before writing anything, a second process is locked
// out, and a failed predict leaves an existing output file untouched.
#include "train/trainer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kernels/error.h"
#include "layers/safetensors.h"
#include "train/predict.h"

namespace gcnn::train {
namespace {
namespace fs = std::filesystem;

const char* kTiny = R"(name: tiny
seed: 5
device: cpu
data:
  synthetic: {n: 40, size: 16, seed: 2}
  image_size: 16
  batch_size: 8
  val_fraction: 0.25
  workers: 1
model:
  preset: plain_cnn
  channels: [4]
  head: {kind: linear}
loss: mse
phases:
  - {epochs: 2, lr: 0.01}
)";

ExperimentConfig tiny(const fs::path& runs, std::vector<std::string> sets = {}) {
  sets.push_back("runs_dir=" + runs.string());
  return parse_config(kTiny, "tiny.yaml", runs, sets);
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file of the folder (not below it) and its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = bytes_of(e.path());
  return out;
}

// The message of the error f throws ("" and a test failure when none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

class RunFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this file in parallel processes.
    runs = fs::temp_directory_path() /
           (std::string("gcnn_run_folder_test.") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(runs);
    quiet.progress = false;
    TrainOptions first = quiet;
    first.stop_after_epochs = 1;
    train_experiment(tiny(runs), first);
    run = runs / "tiny";
    before = snapshot(run);
    ASSERT_TRUE(before.count("last.state"));
  }
  void TearDown() override { fs::remove_all(runs); }
  fs::path runs, run;
  TrainOptions quiet;
  std::map<std::string, std::string> before;
};

TEST_F(RunFolderTest, ANewRunIntoAFolderWithARunIsRefusedAndChangesNothing) {
  const std::string message = error_of([&] { train_experiment(tiny(runs), quiet); });
  EXPECT_NE(message.find("already holds a run"), std::string::npos) << message;
  EXPECT_NE(message.find("--overwrite"), std::string::npos) << message;
  EXPECT_EQ(snapshot(run), before);

  TrainOptions overwrite = quiet;
  overwrite.overwrite = true;
  overwrite.stop_after_epochs = 1;
  EXPECT_EQ(train_experiment(tiny(runs, {"phases.0.lr=0.02"}), overwrite).epochs_done, 1);
  EXPECT_NE(bytes_of(run / "config.yaml"), before["config.yaml"]);
}

TEST_F(RunFolderTest, ResumeWithACorruptStateStopsBeforeWritingAnything) {
  Safetensors st = read_safetensors(run / "last.state");
  st.metadata["gcnn.epochs_done"] = "-1";
  write_safetensors(run / "last.state", st.tensors, st.metadata);
  before = snapshot(run);
  TrainOptions resume = quiet;
  resume.resume = true;
  const std::string message = error_of([&] { train_experiment(tiny(runs), resume); });
  EXPECT_NE(message.find("gcnn.epochs_done"), std::string::npos) << message;
  EXPECT_EQ(snapshot(run), before);
}

TEST_F(RunFolderTest, ASecondProcessIsLockedOut) {
  const int fd = ::open((run / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  TrainOptions resume = quiet;
  resume.resume = true;
  const std::string message = error_of([&] { train_experiment(tiny(runs), resume); });
  ::close(fd);
  EXPECT_NE(message.find("another gcnn process is training into it"), std::string::npos) << message;
  EXPECT_EQ(snapshot(run), before);
}

TEST_F(RunFolderTest, AFailedPredictLeavesAnExistingOutputUntouched) {
  const fs::path out = runs / "predictions.csv";
  { std::ofstream(out) << "precious\n"; }
  const fs::path empty = runs / "empty.csv";
  { std::ofstream(empty) << "objID,oh_p50\n"; }
  PredictOptions o;
  o.checkpoints = {run};
  o.catalog = empty;
  o.images = run / "synthetic" / "images";
  o.out = out;
  o.device = "cpu";
  error_of([&] { predict(o); });
  EXPECT_EQ(bytes_of(out), "precious\n");
}

}  // namespace
}  // namespace gcnn::train
