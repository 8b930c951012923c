// Experiment config parsing: errors name file, line and key before any work;
// --set overrides; SGDR phases derive their epochs from the cycles.
#include "train/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "kernels/error.h"

namespace gcnn::train {
namespace {

const char* kValid = R"(name: t
seed: 3
data:
  synthetic: {n: 40, size: 16}
  image_size: 16
  batch_size: 8
model:
  preset: resnet18
  width: 8
phases:
  - {epochs: 2, lr: 0.1, freeze_body: true}
  - {schedule: sgdr, lr: 0.01, cycles: 3, cycle_len: 1, cycle_mult: 2}
)";

std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    parse_config(text, "exp.yaml", std::filesystem::temp_directory_path(), sets);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesPhasesAndSgdrEpochs) {
  ExperimentConfig c = parse_config(kValid, "exp.yaml", ".");
  EXPECT_EQ(c.name, "t");
  EXPECT_EQ(c.seed, 3u);
  ASSERT_EQ(c.phases.size(), 2u);
  EXPECT_TRUE(c.phases[0].freeze_body);
  EXPECT_EQ(c.phases[1].epochs, 7);  // 1 + 2 + 4
  EXPECT_EQ(c.total_epochs(), 9);
  EXPECT_EQ(c.phase_of_epoch(1), (std::pair<std::size_t, int>{0, 1}));
  EXPECT_EQ(c.phase_of_epoch(2), (std::pair<std::size_t, int>{1, 0}));
  EXPECT_EQ(c.model.resnet.width, 8);
  EXPECT_EQ(c.loss, "rmse");
}

TEST(Config, SetOverridesValuesAndListItems) {
  ExperimentConfig c =
      parse_config(kValid, "exp.yaml", ".", {"model.width=4", "phases.0.lr=0.5", "data.targets=[oh_p50, lgm_tot_p50]"});
  EXPECT_EQ(c.model.resnet.width, 4);
  EXPECT_DOUBLE_EQ(c.phases[0].schedule.lr, 0.5);
  EXPECT_EQ(c.data.targets, (std::vector<std::string>{"oh_p50", "lgm_tot_p50"}));
  EXPECT_EQ(c.resolved["model"]["width"].as<int>(), 4);
}

TEST(Config, OptimizerKindsAndTheirDefaults) {
  ExperimentConfig sgd = parse_config(kValid, "exp.yaml", ".", {"optimizer.momentum=0.8"});
  EXPECT_EQ(sgd.optimizer.kind, "sgd");
  EXPECT_DOUBLE_EQ(sgd.optimizer.weight_decay, 1e-4);
  EXPECT_DOUBLE_EQ(sgd.phases[0].schedule.momentum, 0.8);  // optimizer.momentum is the phases' default

  ExperimentConfig adamw =
      parse_config(kValid, "exp.yaml", ".", {"optimizer.kind=adamw", "optimizer.betas=[0.8, 0.99]",
                                             "phases.0.schedule=one_cycle"});
  EXPECT_EQ(adamw.optimizer.kind, "adamw");
  EXPECT_DOUBLE_EQ(adamw.optimizer.weight_decay, 0.01);  // PyTorch's AdamW default
  EXPECT_DOUBLE_EQ(adamw.optimizer.beta2, 0.99);
  EXPECT_DOUBLE_EQ(adamw.optimizer.eps, 1e-8);
  // beta1 is the schedule's momentum: betas[0] for a schedule that does not cycle it ...
  EXPECT_DOUBLE_EQ(optim::schedule_at(adamw.phases[1].schedule, 3, 5, 35).momentum, 0.8);
  // ... and cycled 0.95 -> 0.85 -> 0.95 by one_cycle, as PyTorch's OneCycleLR does for Adam.
  EXPECT_DOUBLE_EQ(optim::schedule_at(adamw.phases[0].schedule, 0, 10, 20).momentum, 0.95);
  EXPECT_NEAR(optim::schedule_at(adamw.phases[0].schedule, 5, 10, 20).momentum, 0.85, 1e-3);
  auto optimizer = make_optimizer({}, adamw.optimizer);
  EXPECT_STREQ(optimizer->kind(), "adamw");
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  std::string text = kValid;
  text.replace(text.find("  width: 8"), 10, "  widht: 8");
  const std::string e = error_of(text);
  EXPECT_NE(e.find("exp.yaml:9"), std::string::npos) << e;
  EXPECT_NE(e.find("model.widht"), std::string::npos) << e;
}

TEST(Config, WrongTypeNamesKeyAndLine) {
  std::string text = kValid;
  text.replace(text.find("batch_size: 8"), 13, "batch_size: eight");
  const std::string e = error_of(text);
  EXPECT_NE(e.find("exp.yaml:6"), std::string::npos) << e;
  EXPECT_NE(e.find("data.batch_size"), std::string::npos) << e;
  EXPECT_NE(e.find("integer"), std::string::npos) << e;
}

TEST(Config, BadValuesAndMissingFiles) {
  std::string text = kValid;
  text.replace(text.find("lr: 0.1,"), 8, "lr: -1, ");
  EXPECT_NE(error_of(text).find("phases[0].lr"), std::string::npos) << error_of(text);

  const std::string missing = "name: x\ndata: {catalog: nowhere/cat.csv, images: nowhere}\nphases: [{epochs: 1, lr: 0.1}]\n";
  const std::string e = error_of(missing);
  EXPECT_NE(e.find("exp.yaml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("data.catalog"), std::string::npos) << e;
  EXPECT_NE(e.find("cat.csv"), std::string::npos) << e;

  EXPECT_NE(error_of(std::string(kValid) + "loss: l3\n").find("loss"), std::string::npos);
  EXPECT_NE(error_of("name: x\ndata: {synthetic: {n: 40}}\n").find("phases"), std::string::npos);
  EXPECT_NE(error_of("name: [x\n").find("YAML syntax"), std::string::npos) << error_of("name: [x\n");
  std::string cycles = kValid;
  cycles.replace(cycles.find("cycle_len: 1,"), 13, "cycle_len: 0.5,");
  EXPECT_NE(error_of(cycles).find("whole number of epochs"), std::string::npos) << error_of(cycles);
  EXPECT_THROW(load_config("/nonexistent/exp.yaml"), Error);
}

TEST(Config, DeviceIsCheckedWhenTheConfigIsRead) {
  for (const char* good : {"auto", "cpu", "cuda", "cuda:3"})
    EXPECT_EQ(error_of(std::string(kValid) + "device: '" + good + "'\n"), "") << good;
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "c\\x84pu"}) {
    const std::string e = error_of(std::string(kValid) + "device: \"" + bad + "\"\n");
    EXPECT_NE(e.find("exp.yaml:13: key 'device'"), std::string::npos) << bad << ": " << e;
  }
}

// config.yaml and checkpoints store the config as YAML: a string that would not
// read back the same (invalid UTF-8, control characters) is refused up front.
TEST(Config, StringsMustBePrintableUtf8) {
  const std::string accepted[] = {"na\xc3\xafve", "\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x8c\x8c", "plain"};
  for (const auto& name : accepted) EXPECT_EQ(error_of(kValid, {"name=" + name}), "") << name;
  const std::string refused[] = {"c\x84pu",        "a\x13" "b",        "\xc0\xaf" /* overlong '/' */,
                                 "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
                                 "x\xe4\xb8",      "\xc2\x85" /* C1 NEL */, "del\x7f"};
  for (const auto& bad : refused) {
    const std::string e = error_of(kValid, {"name=" + bad});
    EXPECT_NE(e.find("--set name"), std::string::npos) << e;
    EXPECT_NE(e.find("UTF-8 text without control characters"), std::string::npos) << e;
  }
}

TEST(Config, OverrideErrorsNameTheSetOption) {
  EXPECT_NE(error_of(kValid, {"model.depth=50"}).find("--set model.depth"), std::string::npos)
      << error_of(kValid, {"model.depth=50"});
  EXPECT_NE(error_of(kValid, {"data.batch_size=big"}).find("--set data.batch_size"), std::string::npos);
  EXPECT_NE(error_of(kValid, {"phases.5.lr=1"}).find("not an index"), std::string::npos);
  EXPECT_NE(error_of(kValid, {"novalue"}).find("key.path=value"), std::string::npos);
}

TEST(Config, KFoldKeysAreChecked) {
  ExperimentConfig c = parse_config(kValid, "exp.yaml", ".", {"data.folds=5", "data.fold=4"});
  EXPECT_EQ(c.data.folds, 5);
  EXPECT_EQ(c.data.fold, 4);
  EXPECT_NE(error_of(kValid, {"data.folds=5", "data.fold=5"}).find("[0, 4]"), std::string::npos)
      << error_of(kValid, {"data.folds=5", "data.fold=5"});
  EXPECT_NE(error_of(kValid, {"data.folds=1"}).find("data.folds"), std::string::npos);
  EXPECT_NE(error_of(kValid, {"data.fold=1"}).find("needs data.folds"), std::string::npos);
}

TEST(Config, LayerListModelIsCheckedUpFront) {
  const std::string text = R"(name: l
data: {synthetic: {n: 40, size: 16}, image_size: 16, batch_size: 8}
model:
  preset: layers
  layers:
    - {type: conv2d, out: 4}
    - {type: relu}
    - {type: avgpool}
    - {type: linear, out: 3}
phases: [{epochs: 1, lr: 0.1}]
)";
  const std::string e = error_of(text);
  EXPECT_NE(e.find("1 target"), std::string::npos) << e;
  std::string ok = text;
  ok.replace(ok.find("out: 3"), 6, "out: 1");
  EXPECT_EQ(error_of(ok), "");
}

}  // namespace
}  // namespace gcnn::train
