// Pretrained body weights: a torchvision-layout file (ResNet with an "fc"
// classifier) loads into a model with the fastai head, skipping the file's head
// and listing what was not used; a shape mismatch names the tensor.
#include "train/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "kernels/error.h"
#include "layers/models.h"
#include "layers/safetensors.h"

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

}  // namespace
}  // namespace gcnn::train
