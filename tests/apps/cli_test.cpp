// The gcnn program as a user runs it: --version, devices, and a bad --device.
#include <gtest/gtest.h>

#include <cstdio>
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

}  // namespace
