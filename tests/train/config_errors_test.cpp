// Config values that used to be accepted silently or failed without naming
// anything: each is now an input error that names the file, key or value,
// without the engine's own source location.
#include "train/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "kernels/error.h"

namespace gcnn::train {
namespace {

const char* kValid = R"(name: t
data:
  synthetic: {n: 40, size: 16}
  image_size: 16
  batch_size: 8
model:
  preset: plain_cnn
  channels: [4]
phases:
  - {epochs: 2, lr: 0.1}
)";

// The error message parse_config gives ("" and a failure when it accepts).
std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_config(text, "exp.yaml", std::filesystem::temp_directory_path(), sets);
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find(".cpp:"), std::string::npos) << "engine source location in a user error: " << message;
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a gcnn error: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}

std::string with(const std::string& from, const std::string& to) {
  std::string text = kValid;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ConfigErrors, TheValidConfigParses) { EXPECT_EQ(parse_config(kValid, "exp.yaml", ".").name, "t"); }

TEST(ConfigErrors, PrecisionNamesTheKeyAndTheChoices) {
  const std::string m = error_of(with("name: t\n", "name: t\nprecision: fp16\n"));
  EXPECT_TRUE(contains(m, "precision") && contains(m, "fp16") && contains(m, "auto, fp32, tf32 or bf16")) << m;
  EXPECT_EQ(parse_config(kValid, "exp.yaml", ".", {"precision=bf16"}).precision, "bf16");
}

TEST(ConfigErrors, DuplicateKeysNameBothLines) {
  const std::string m = error_of(with("  batch_size: 8\n", "  batch_size: 8\n  batch_size: 16\n"));
  EXPECT_TRUE(contains(m, "exp.yaml:6: duplicate key 'batch_size' (first given on line 5)")) << m;
}

// Found by fuzzing: a YAML complex key ("? [a, b]") made yaml-cpp throw its own
// "bad conversion" from the unknown-key check.
TEST(ConfigErrors, AKeyThatIsAListIsNamedWithItsLine) {
  const std::string m = error_of(with("  channels: [4]\n", "  channels: [4]\n  ? [a, b]\n  : 1\n"));
  EXPECT_TRUE(contains(m, "exp.yaml:9: a key in 'model' is a YAML list or map")) << m;
}

// Found by fuzzing: 2^2001 - 1 epochs overflowed to inf before the cast to int (UBSan).
TEST(ConfigErrors, SgdrCyclesBeyondTheEpochLimitAreRefused) {
  const std::string m =
      error_of(with("{epochs: 2, lr: 0.1}", "{schedule: sgdr, lr: 0.1, cycle_len: 1, cycle_mult: 2, cycles: 2001}"));
  EXPECT_TRUE(contains(m, "2001 cycles make inf epochs; the limit is")) << m;
}

TEST(ConfigErrors, NullValuesAreRefused) {
  EXPECT_TRUE(contains(error_of(with("image_size: 16", "image_size: null")), "key 'data.image_size' is empty"));
  EXPECT_TRUE(contains(error_of(kValid, {"model=null"}), "--set model"));
}

TEST(ConfigErrors, TheIdColumnIsNotATarget) {
  const std::string m = error_of(with("  image_size: 16\n", "  image_size: 16\n  targets: [objID]\n"));
  EXPECT_TRUE(contains(m, "key 'data.targets' names 'objID', the id column")) << m;
}

TEST(ConfigErrors, SetWithAHugeIndexOrAnUnknownKeyNamesTheOverride) {
  std::string m = error_of(kValid, {"phases.99999999999999999999.lr=1"});
  EXPECT_TRUE(contains(m, "--set 'phases.99999999999999999999.lr=1'")) << m;
  m = error_of(kValid, {"nonexistent.key=1"});
  EXPECT_TRUE(contains(m, "--set nonexistent.key: unknown key 'nonexistent'")) << m;
  EXPECT_FALSE(contains(m, ":0:")) << m;
}

TEST(ConfigErrors, NonFiniteAndZeroValuesAreRefusedBeforeTraining) {
  EXPECT_TRUE(contains(error_of(kValid, {"huber_delta=0"}), "--set huber_delta must be > 0"));
  EXPECT_TRUE(contains(error_of(kValid, {"phases.0.lr=.inf"}), "--set phases[0].lr must be finite"));
  EXPECT_TRUE(contains(error_of(kValid, {"optimizer.weight_decay=.nan"}), "must be finite"));
}

TEST(ConfigErrors, OptimizerKeysOfTheOtherKindAreRefused) {
  const std::vector<std::string> adamw{"optimizer.kind=adamw"};
  auto with_adamw = [&](const std::string& set) {
    auto sets = adamw;
    sets.push_back(set);
    return error_of(kValid, sets);
  };
  std::string m = with_adamw("phases.0.momentum=0.8");
  EXPECT_TRUE(contains(m, "phases[0].momentum is SGD's; with optimizer.kind adamw set optimizer.betas")) << m;
  m = with_adamw("optimizer.nesterov=true");
  EXPECT_TRUE(contains(m, "optimizer.nesterov is an SGD setting")) << m;
  m = with_adamw("optimizer.betas=[0.9, 1.0]");
  EXPECT_TRUE(contains(m, "optimizer.betas must be two numbers in [0, 1)")) << m;
  m = with_adamw("optimizer.eps=0");
  EXPECT_TRUE(contains(m, "optimizer.eps must be in (0, 1)")) << m;
  m = error_of(kValid, {"optimizer.betas=[0.9, 0.99]"});
  EXPECT_TRUE(contains(m, "optimizer.betas is an AdamW setting; give optimizer.kind: adamw")) << m;
  m = error_of(kValid, {"optimizer.kind=adam"});
  EXPECT_TRUE(contains(m, "optimizer.kind")) << m;
  m = error_of(kValid, {"optimizer.weight_decay=1.5"});
  EXPECT_TRUE(contains(m, "optimizer.weight_decay must be in [0, 1)")) << m;
}

TEST(ConfigErrors, LossWeightsMustMatchTheTargets) {
  std::string m = error_of(kValid, {"loss_weights=[1, 0.5]"});
  EXPECT_TRUE(contains(m, "loss_weights has 2 weights for the 1 targets of data.targets")) << m;
  m = error_of(kValid, {"data.targets=[oh_p50, lgm_tot_p50]", "loss_weights=[0, 0]"});
  EXPECT_TRUE(contains(m, "loss_weights must not all be 0")) << m;
  m = error_of(kValid, {"data.targets=[oh_p50, lgm_tot_p50]", "loss_weights=[1, -1]"});
  EXPECT_TRUE(contains(m, "loss_weights must all be in [0, 1e6]")) << m;
}

TEST(ConfigErrors, SizesAndWorkersAreBoundedWithTheLimitInTheMessage) {
  EXPECT_TRUE(contains(error_of(kValid, {"data.synthetic.n=1000000000000"}), "must be in [20, 10000000]"));
  EXPECT_TRUE(contains(error_of(kValid, {"data.image_size=100000"}), "must be in [8, 1024]"));
  const int limit = 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string m = error_of(kValid, {"data.workers=100000"});
  EXPECT_TRUE(contains(m, "--set data.workers must be in [0, " + std::to_string(limit) + "]")) << m;
}

TEST(ConfigErrors, ANulByteInTheNameIsRefused) {
  EXPECT_TRUE(contains(error_of(with("name: t", "name: \"a\\0b\"")),
                       "key 'name' must be UTF-8 text without control characters"));
  EXPECT_TRUE(contains(error_of(with("name: t", "name: a/b")), "key 'name' must be a plain folder name"));
}

TEST(ConfigErrors, AFolderGivenAsTheConfigIsNamed) {
  try {
    load_config(std::filesystem::temp_directory_path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "is a folder, not a YAML file")) << e.what();
  }
}

}  // namespace
}  // namespace gcnn::train
