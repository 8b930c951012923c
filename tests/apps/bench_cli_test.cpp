// gcnn bench kernels / train / infer as a user runs them: the JSON reports hold
// the device and numbers that agree with hand-computed traffic and with the
// network's FLOP count, and bad options are refused naming the option.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "kernels/cpu/isa.h"
#include "layers/flops.h"
#include "layers/models.h"

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run_gcnn(const std::string& args) {
  const std::string cmd = std::string(GCNN_BINARY_DIR) + "/gcnn " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("gcnn_bench_cli_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(BenchKernelsCli, JsonHoldsTheDeviceAndRatesOfTheChosenOps) {
  const fs::path dir = fresh_dir("kernels");
  const CommandResult r = run_gcnn("bench kernels --device cpu --batch 2 --filter '^relu_forward/' --min-runs 3 "
                                   "--min-seconds 0 --json " + (dir / "k.json").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ISA"), std::string::npos) << r.output;
  const nlohmann::json k = read_json(dir / "k.json");
  EXPECT_EQ(k["device"]["kind"], "cpu");
  EXPECT_FALSE(k["device"]["onednn_isa"].get<std::string>().empty());
  EXPECT_GT(k["peaks"]["fp32_tflops"].get<double>(), 0);
  EXPECT_GT(k["peaks"]["dram_gbps"].get<double>(), 0);
  EXPECT_NE(k["peaks"]["fp32_source"].get<std::string>().find("measured"), std::string::npos);
  ASSERT_EQ(k["ops"].size(), 1u);
  const nlohmann::json& op = k["ops"][0];
  EXPECT_EQ(op["name"], "relu_forward/2x64x32x32");
  EXPECT_EQ(op["bound"], "memory");
  // ReLU reads x and writes y: 2 tensors of 2x64x32x32 floats.
  EXPECT_DOUBLE_EQ(op["bytes"].get<double>(), 2.0 * 4 * 2 * 64 * 32 * 32);
  EXPECT_GE(op["runs"].get<int>(), 3);
  const double median_s = op["median_ms"].get<double>() * 1e-3;
  EXPECT_LE(op["p10_ms"].get<double>(), op["median_ms"].get<double>());
  EXPECT_LE(op["median_ms"].get<double>(), op["p90_ms"].get<double>());
  EXPECT_NEAR(op["gbps"].get<double>(), op["bytes"].get<double>() / median_s * 1e-9, 1e-6 * op["gbps"].get<double>());
  EXPECT_NEAR(op["fraction_of_peak"].get<double>(), op["gbps"].get<double>() / k["peaks"]["dram_gbps"].get<double>(),
              1e-9);
}

TEST(BenchKernelsCli, RefusesABadFilter) {
  CommandResult r = run_gcnn("bench kernels --device cpu --filter '('");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--filter '(': not a regular expression"), std::string::npos) << r.output;
  r = run_gcnn("bench kernels --device cpu --filter no_such_op");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("matches no op"), std::string::npos) << r.output;
}

TEST(BenchTrainCli, ReportsImagesPerSecondAndTheNetworksFlops) {
  const fs::path dir = fresh_dir("train");
  const CommandResult r = run_gcnn("bench train --model resnet18 --size 32 --batch 2 --steps 3 --warmup 1 "
                                   "--device cpu --threads 1 --json " + (dir / "t.json").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json t = read_json(dir / "t.json");
  EXPECT_EQ(t["mode"], "train");
  EXPECT_EQ(t["threads"], 1);
  EXPECT_EQ(t["step"]["runs"], 3);
  gcnn::ResNetOptions o;
  o.head.kind = "linear";
  auto net = gcnn::make_resnet(o, 1);
  EXPECT_DOUBLE_EQ(t["flops_per_step"].get<double>(), gcnn::count_flops(*net, {2, 3, 32, 32}).train_step());
  const double median_s = t["step"]["median_ms"].get<double>() * 1e-3;
  EXPECT_NEAR(t["images_per_second"].get<double>(), 2 / median_s, 1e-9 * t["images_per_second"].get<double>());
  EXPECT_NEAR(t["tflops"].get<double>(), t["flops_per_step"].get<double>() / median_s * 1e-12, 1e-9);
  // The process holds at least the network's weights, gradients and momentum (3 x 11.2M floats).
  EXPECT_GT(t["peak_host_rss_bytes"].get<double>(), 3 * 11.1e6 * 4);
  EXPECT_EQ(t["peak_device_bytes"].get<double>(), 0);
}

TEST(BenchTrainCli, Bf16RunsWhereTheCpuHasIt) {
  const fs::path dir = fresh_dir("train_bf16");
  const CommandResult r = run_gcnn("bench train --model resnet18 --size 32 --batch 2 --steps 2 --warmup 1 "
                                   "--device cpu --threads 1 --precision bf16 --json " + (dir / "t.json").string());
  if (!gcnn::cpu::onednn_has_bf16()) {
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(gcnn::cpu::onednn_isa()), std::string::npos) << r.output;
    return;
  }
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("batch 2, bf16, 1 threads"), std::string::npos) << r.output;
  EXPECT_EQ(read_json(dir / "t.json")["precision"], "bf16");
}

TEST(BenchTrainCli, RefusesPrecisionsAndModelsItDoesNotHave) {
  CommandResult r = run_gcnn("bench train --device cpu --precision tf32");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("precision tf32 is a CUDA tensor-core mode"), std::string::npos) << r.output;
  r = run_gcnn("bench infer --device cpu --model resnet19");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--model 'resnet19'"), std::string::npos) << r.output;
}

}  // namespace
