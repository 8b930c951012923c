// Pretrained body weights: a torchvision-layout file (ResNet with an "fc"
// classifier) loads into a model with the fastai head, skipping the file's head
// and listing what was not used; a shape mismatch names the tensor.
#include "train/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <memory>

#include "kernels/error.h"
#include "layers/models.h"
#include "layers/safetensors.h"
#include "optim/sgd.h"
#include "train/predict.h"

namespace gcnn::train {
namespace {

TEST(Checkpoint, LoadsTorchvisionBodyIntoFastaiHeadModel) {
  ResNetOptions classifier;
  classifier.width = 8;
  classifier.head.kind = "linear";
  classifier.head.n_targets = 10;  // a classifier's fc, as torchvision's 1000-class one
  auto source = make_resnet(classifier, 1);
  const auto path = std::filesystem::temp_directory_path() / "gcnn_checkpoint_test_body.safetensors";
  write_safetensors(path, state_dict(*source));

  ResNetOptions regression;
  regression.width = 8;
  auto model = make_resnet(regression, 2);
  LoadReport report = load_body_weights(*model, path);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  ASSERT_FALSE(report.missing.empty());
  for (const auto& name : report.missing) EXPECT_TRUE(name.starts_with("head.")) << name;
  EXPECT_EQ(report.loaded, state_dict(*source).size() - 2);
  EXPECT_EQ(state_dict(*model)["layer3.1.conv2.weight"].to_vector(),
            state_dict(*source)["layer3.1.conv2.weight"].to_vector());

  ResNetOptions wider = regression;
  wider.width = 16;
  auto wrong = make_resnet(wider, 3);
  try {
    load_body_weights(*wrong, path);
    FAIL() << "expected a shape mismatch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'bn1.bias' has shape [8]"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// A small model, its optimizer and a saved last.state whose tensors or
// metadata a test then corrupts.
struct SavedState {
  std::unique_ptr<Sequential> model;
  std::unique_ptr<optim::Sgd> sgd;
  // One file per test: ctest runs the tests of this file in parallel processes.
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               (std::string("gcnn_checkpoint_test.") +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".state");
  Safetensors saved;

  SavedState() {
    ResNetOptions options;
    options.width = 8;
    model = make_resnet(options, 1);
    sgd = std::make_unique<optim::Sgd>(std::vector<optim::ParamGroup>{{"all", named_parameters(*model)}},
                                       optim::SgdOptions{});
    save_state(path, *model, *sgd, Progress{3, 30, 0.5});
    saved = read_safetensors(path);
  }
  ~SavedState() { std::filesystem::remove(path); }

  // The InputError message of load_state after writing tensors and metadata.
  std::string load_error(const std::map<std::string, Tensor>& tensors, const std::map<std::string, std::string>& meta) {
    write_safetensors(path, tensors, meta);
    try {
      load_state(path, *model, *sgd);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected an error";
    return "";
  }
};

TEST(Checkpoint, StateRoundTripsAndRefusesCorruptMetadata) {
  SavedState s;
  const Progress p = load_state(s.path, *s.model, *s.sgd);
  EXPECT_EQ(p.epochs_done, 3);
  EXPECT_EQ(p.global_step, 30);
  for (const char* bad : {"1e300", "-1", "2.5", "nan"}) {
    auto meta = s.saved.metadata;
    meta["gcnn.epochs_done"] = bad;
    const std::string message = s.load_error(s.saved.tensors, meta);
    EXPECT_NE(message.find("metadata 'gcnn.epochs_done' = '" + std::string(bad) + "'"), std::string::npos)
        << message;
  }
}

TEST(Checkpoint, StateRefusesNonFiniteMomentumNamingTheTensor) {
  SavedState s;
  auto tensors = s.saved.tensors;
  const std::string name = "momentum.layer1.0.conv1.weight";
  ASSERT_TRUE(tensors.count(name));
  std::vector<float> values = tensors[name].to_vector();
  values[5] = std::numeric_limits<float>::infinity();
  tensors[name] = Tensor::from_vector(tensors[name].shape(), values);
  const std::string message = s.load_error(tensors, s.saved.metadata);
  EXPECT_NE(message.find("tensor '" + name + "' holds a non-finite value"), std::string::npos) << message;
}

TEST(Checkpoint, MetadataWithoutConfigOrWithGarbageNamesFileAndKey) {
  std::map<std::string, std::string> meta{{"gcnn.targets", "oh_p50"}, {"gcnn.target_mean", "nan"},
                                          {"gcnn.target_std", "1"}};
  try {
    read_normalisation(meta, "ckpt.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt.safetensors gcnn.target_mean: 'nan'"), std::string::npos) << e.what();
  }

  // A checkpoint whose metadata lacks gcnn.config: predict names the file and key.
  ResNetOptions options;
  options.width = 8;
  options.head.n_targets = 1;
  auto model = make_resnet(options, 1);
  const auto dir = std::filesystem::temp_directory_path() / "gcnn_checkpoint_test_noconfig";
  std::filesystem::create_directories(dir);
  Normalisation norm{{"oh_p50"}, {8.9f}, {0.2f}, ChannelStats{}};
  save_model(dir / "best.safetensors", *model, "", norm);
  Safetensors st = read_safetensors(dir / "best.safetensors");
  st.metadata.erase("gcnn.config");
  write_safetensors(dir / "best.safetensors", st.tensors, st.metadata);
  PredictOptions p;
  p.checkpoints = {dir};
  p.catalog = dir / "catalog.csv";
  p.images = dir;
  try {
    predict(p);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a gcnn checkpoint (metadata 'gcnn.config' missing)"),
              std::string::npos)
        << e.what();
  } catch (const std::exception& e) {
    FAIL() << "not an input error: " << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gcnn::train
