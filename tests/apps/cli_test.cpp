// The gcnn program as a user runs it: --version, devices, a bad --device, and
// out-of-range or hostile arguments, each refused with a message that names the
// option and its limit (and no engine source location).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace {

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run_gcnn(const std::string& args) {
  std::string cmd = std::string(GCNN_BINARY_DIR) + "/gcnn " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Cli, VersionNamesCommitAndCuda) {
  CommandResult r = run_gcnn("--version");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("galaxy-cnns 0."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("commit "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CUDA: "), std::string::npos) << r.output;
}

TEST(Cli, DevicesListsTheCpuAndWhyNoCuda) {
  CommandResult r = run_gcnn("devices");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("cpu ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("selected --device auto: "), std::string::npos) << r.output;
}

TEST(Cli, BadDeviceIsAnErrorWithNonZeroExit) {
  CommandResult r = run_gcnn("devices --device gpu7");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("bad device 'gpu7'"), std::string::npos) << r.output;
}

// Runs gcnn with args; expects a failure whose output names `expected` and
// carries no engine source location.
void expect_user_error(const std::string& args, const std::string& expected) {
  CommandResult r = run_gcnn(args);
  EXPECT_EQ(r.status, 1) << args << ": " << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
  EXPECT_EQ(r.output.find(".cpp:"), std::string::npos) << args << ": " << r.output;
}

TEST(Cli, SynthRefusesSizesBeyondItsLimits) {
  const std::string out = (std::filesystem::temp_directory_path() / "gcnn_cli_synth_limits").string();
  expect_user_error("synth --n 10 --size 100000 --out " + out, "synth: --size 100000: must be in [8, 1024]");
  expect_user_error("synth --n -1 --out " + out, "synth: --n -1: must be in [1, 10000000]");
  expect_user_error("synth --n 10 --threads 100000 --out " + out, "synth: --threads 100000: must be in [0, ");
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Cli, BenchDataRefusesTooManyWorkers) {
  expect_user_error("bench data --synthetic 0 --workers 100000", "bench data: --workers 100000: must be in [0, ");
}

TEST(Cli, DownloadRefusesHopelessRatesAndNonHttpUrls) {
  const auto dir = std::filesystem::temp_directory_path() / "gcnn_cli_download_limits";
  std::filesystem::create_directories(dir);
  const std::string catalog = (dir / "catalog.csv").string();
  { std::ofstream(catalog) << "objID,ra,dec\n1,10.0,0.5\n"; }
  const std::string base = "download --catalog " + catalog + " --out " + (dir / "out").string();
  expect_user_error(base + " --rate 0.0000001/h", "--rate '0.0000001/h': below the minimum of 1/h");
  expect_user_error(base + " --base-url file:///etc", "--base-url 'file:///etc': only http:// and https://");
  std::filesystem::remove_all(dir);
}

TEST(Cli, QueryWithAMissingSqlFileNamesIt) {
  expect_user_error("query --sql /nonexistent --out /tmp/gcnn_cli_query.csv", "--sql /nonexistent: no such file");
  expect_user_error("query --sql / --out /tmp/gcnn_cli_query.csv", "--sql /: no such file");
}

TEST(Cli, TrainWithAFolderAsConfigNamesIt) {
  expect_user_error("train --config /tmp", "config file /tmp: is a folder");
}

TEST(Cli, CheckLayerPassesACustomLayerAndRefusesBadRequests) {
  CommandResult r = run_gcnn("check-layer se_block --options ratio=2 --input 2,4,3,5 --repeats 1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("finite differences   fc1.weight.grad"), std::string::npos) << r.output;
  // Without nvcc the gcnn binary checks against the emulated CUDA device; a
  // build with nvcc on a machine without a GPU says why it skips that part.
  const bool compared = r.output.find("cpu vs cuda          input.grad") != std::string::npos;
  const bool skipped = r.output.find("cpu vs cuda: skipped (CUDA compiled in but no usable device") != std::string::npos;
  EXPECT_TRUE(compared || skipped) << r.output;
  EXPECT_NE(r.output.find("PASS"), std::string::npos) << r.output;
  expect_user_error("check-layer no_such_layer", "unknown layer type 'no_such_layer'");
  expect_user_error("check-layer se_block --options ratio", "--options 'ratio': expected key=value");
  expect_user_error("check-layer se_block --options typo=1", "typo");
  expect_user_error("check-layer se_block --input 2,x,3", "--input '2,x,3'");
  expect_user_error("check-layer se_block --precision bf16", "--precision bf16: only fp32");
  expect_user_error("check-layer se_block --tolerance 0", "--tolerance");
}

}  // namespace
