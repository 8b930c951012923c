// Model presets: torchvision state_dict names and parameter counts (computed
// from torchvision's published totals), head naming, loading state dicts,
// YAML list models through the registry (with the example custom layer), and
// a frozen body that skips its convolutions' weight gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/error.h"
#include "layers/models.h"
#include "layers/registry.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

std::int64_t count_parameters(Layer& net) {
  std::int64_t n = 0;
  for (auto& p : named_parameters(net)) n += p.param->value.numel();
  return n;
}

ResNetOptions linear_head(int depth) {
  ResNetOptions o;
  o.depth = depth;
  o.head.kind = "linear";
  o.head.n_targets = 1;
  return o;
}

TEST(Models, ResNetsMatchTorchvisionNamesAndSizes) {
  // torchvision totals with a 1000-class fc, minus that fc, plus a 1-output fc.
  auto r18 = make_resnet(linear_head(18), 1);
  EXPECT_EQ(count_parameters(*r18), 11689512 - 513000 + 513);
  auto sd = state_dict(*r18);
  EXPECT_EQ(sd.size(), 122u);  // len(torchvision.models.resnet18().state_dict())
  for (const char* name : {"conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                           "layer1.1.bn2.bias", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                           "layer4.1.conv2.weight", "fc.weight", "fc.bias"}) {
    EXPECT_TRUE(sd.count(name)) << name;
  }
  EXPECT_EQ(sd["layer3.0.conv1.weight"].shape(), (Shape{256, 128, 3, 3}));
  EXPECT_EQ(sd["fc.weight"].shape(), (Shape{1, 512}));

  auto r34 = make_resnet(linear_head(34), 1);
  EXPECT_EQ(count_parameters(*r34), 21797672 - 513000 + 513);
  auto r50 = make_resnet(linear_head(50), 1);
  EXPECT_EQ(count_parameters(*r50), 25557032 - 2049000 + 2049);
  EXPECT_EQ(state_dict(*r50)["layer1.0.conv3.weight"].shape(), (Shape{256, 64, 1, 1}));
}

TEST(Models, FastaiHeadNamesAndZeroInitResidual) {
  ResNetOptions o;
  o.width = 8;
  o.zero_init_residual = true;
  o.head.n_targets = 3;
  auto net = make_resnet(o, 1);
  auto sd = state_dict(*net);
  EXPECT_EQ(sd["head.2.weight"].shape(), (Shape{128}));  // BN1d over 2 * 64 concat-pooled features
  EXPECT_EQ(sd["head.4.weight"].shape(), (Shape{512, 128}));
  EXPECT_EQ(sd["head.6.running_var"].shape(), (Shape{512}));
  EXPECT_EQ(sd["head.8.weight"].shape(), (Shape{3, 512}));
  EXPECT_FALSE(sd.count("fc.weight"));
  EXPECT_TRUE(is_head_parameter("head.8.bias"));
  EXPECT_FALSE(is_head_parameter("layer1.0.bn2.weight"));
  for (float g : sd["layer1.0.bn2.weight"].to_vector()) EXPECT_EQ(g, 0.0f);
  for (float g : sd["layer1.0.bn1.weight"].to_vector()) EXPECT_EQ(g, 1.0f);
  // Kaiming normal, fan_out: conv1 std = sqrt(2 / (8 * 7 * 7)) = 0.0714
  auto w = sd["conv1.weight"].to_vector();
  double sq = 0;
  for (float v : w) sq += v * v;
  EXPECT_NEAR(std::sqrt(sq / w.size()), 0.0714, 0.01);
  Tensor y = net->forward(Tensor::full({2, 3, 32, 32}, 0.5f), false);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
}

TEST(Models, ZeroInitHeadStartsAtTheMeanAndStillLearns) {
  for (const char* kind : {"linear", "fastai"}) {
    ResNetOptions o;
    o.width = 4;
    o.head.kind = kind;
    o.head.zero_init = true;
    auto net = make_resnet(o, 3);
    const std::string last = o.head.kind == "linear" ? "fc" : "head.8";
    auto sd = state_dict(*net);
    for (const char* t : {".weight", ".bias"})
      for (float v : sd[last + t].to_vector()) EXPECT_EQ(v, 0.0f) << kind << " " << last << t;
    // The layer before it keeps its random initialisation.
    if (o.head.kind == "fastai") {
      EXPECT_GT(std::abs(sd["head.4.weight"].to_vector()[0]), 0.0f);
    }
    Tensor x = test::random_tensor({2, 3, 32, 32}, 11);
    for (float v : net->forward(x, true).to_vector()) EXPECT_EQ(v, 0.0f) << kind;
    // The weight gradient is the features times dy: non-zero, so the head learns.
    net->backward(Tensor::full({2, 1}, 1.0f));
    double g = 0;
    for (auto& p : named_parameters(*net))
      if (p.name == last + ".weight")
        for (float v : p.param->grad.to_vector()) g += std::abs(v);
    EXPECT_GT(g, 0.0) << kind;
  }
}

TEST(Models, FrozenBodySkipsConvolutionWeightGradientsAndChangesNothingElse) {
  // Two identical small ResNets; in one every body convolution is frozen and its
  // weight grad poisoned with NaN: the backward must leave those grads alone
  // (no backward-filter ran) and give bit-identical head, BN and input grads.
  ResNetOptions o;
  o.width = 4;
  o.head.kind = "fastai";
  auto reference_net = make_resnet(o, 5), frozen_net = make_resnet(o, 5);
  int frozen_convs = 0;
  for (auto& p : named_parameters(*frozen_net)) {
    if (is_head_parameter(p.name) || p.param->norm) continue;
    p.param->frozen = true;
    p.param->grad.fill(std::numeric_limits<float>::quiet_NaN());
    ++frozen_convs;
  }
  EXPECT_GE(frozen_convs, 20);  // the stem, 16 convolutions of the blocks and 3 projections
  const Tensor x = test::random_tensor({2, 3, 32, 32}, 12), dy = test::random_tensor({2, 1}, 13);
  for (Layer* net : {static_cast<Layer*>(reference_net.get()), static_cast<Layer*>(frozen_net.get())}) {
    net->needs_input_grad = true;
    net->forward(x, true);
  }
  const Tensor dx_reference = reference_net->backward(dy), dx_frozen = frozen_net->backward(dy);
  EXPECT_EQ(dx_frozen.to_vector(), dx_reference.to_vector());
  auto reference_params = named_parameters(*reference_net);
  auto frozen_params = named_parameters(*frozen_net);
  ASSERT_EQ(reference_params.size(), frozen_params.size());
  for (std::size_t i = 0; i < frozen_params.size(); ++i) {
    const auto& p = frozen_params[i];
    const std::vector<float> g = p.param->grad.to_vector();
    if (p.param->frozen) {
      for (float v : g) ASSERT_TRUE(std::isnan(v)) << p.name << ": a frozen weight's gradient was computed";
    } else {
      EXPECT_EQ(g, reference_params[i].param->grad.to_vector()) << p.name;
    }
  }
}

TEST(Models, MoveToTheDeviceTheModelIsOnKeepsItsTensors) {
  // A copy of every parameter, gradient and buffer would double the model's
  // memory for nothing (gcnn predict moves its model to the CPU it is on).
  auto net = make_resnet(linear_head(18), 1);
  std::vector<const void*> before;
  for (auto& [name, p] : named_parameters(*net)) before.insert(before.end(), {p->value.raw_data(), p->grad.raw_data()});
  move_to(*net, Device::cpu());
  std::vector<const void*> after;
  for (auto& [name, p] : named_parameters(*net)) after.insert(after.end(), {p->value.raw_data(), p->grad.raw_data()});
  EXPECT_EQ(after, before);
}

TEST(Models, LoadStateDictReportsMissingUnexpectedAndShapeErrors) {
  auto net = make_resnet(linear_head(18), 1);
  auto other = make_resnet(linear_head(18), 2);
  auto sd = state_dict(*other);
  sd.erase("fc.weight");
  sd["classifier.weight"] = Tensor::zeros({2});
  LoadReport report = load_state_dict(*net, sd, "other.safetensors");
  EXPECT_EQ(report.missing, std::vector<std::string>{"fc.weight"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"classifier.weight"});
  EXPECT_EQ(state_dict(*net)["layer1.0.conv1.weight"].to_vector(), sd["layer1.0.conv1.weight"].to_vector());

  sd["conv1.weight"] = Tensor::zeros({64, 3, 3, 3});
  try {
    load_state_dict(*net, sd, "bad.safetensors");
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv1.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[64, 3, 3, 3]"), std::string::npos) << e.what();
  }
}

TEST(Models, YamlLayerListWithCustomLayer) {
  YAML::Node node = YAML::Load(R"(
layers:
  - {type: conv2d, out: 4, kernel: 3}
  - {type: batchnorm}
  - {type: relu}
  - {type: maxpool, kernel: 2}
  - {type: avgpool}
  - {type: linear, out: 2}
  - {type: scaled_tanh, scale: 3.0}
)");
  Options root(node, "model.yaml");
  auto items = root.list("layers");
  auto net = make_layer_list(items, {1, 3, 8, 8});
  EXPECT_EQ(net->output_shape({5, 3, 8, 8}), (Shape{5, 2}));
  auto sd = state_dict(*net);
  EXPECT_TRUE(sd.count("0.weight"));
  EXPECT_TRUE(sd.count("5.bias"));
  net->reset_parameters(3);
  // scaled_tanh bounds the output to (-3, 3) and its backward runs.
  Tensor y = net->forward(Tensor::full({2, 3, 8, 8}, 100.0f), true);
  for (float v : y.to_vector()) EXPECT_LT(std::abs(v), 3.0f);
  Tensor dx = net->backward(Tensor::full({2, 2}, 1.0f));
  EXPECT_EQ(dx.shape(), (Shape{2, 3, 8, 8}));
}

TEST(Models, YamlLayerErrorsNameLineAndKey) {
  YAML::Node node = YAML::Load("layers:\n  - {type: conv2d, out: 4}\n  - {type: swish}\n");
  Options root(node, "m.yaml");
  auto items = root.list("layers");
  try {
    make_layer_list(items, {1, 3, 8, 8});
    FAIL() << "expected an unknown-layer error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("m.yaml:3"), std::string::npos) << what;
    EXPECT_NE(what.find("swish"), std::string::npos) << what;
  }
  YAML::Node typo = YAML::Load("layers:\n  - {type: conv2d, out: 4, kernal: 3}\n");
  Options root2(typo, "t.yaml");
  auto items2 = root2.list("layers");
  try {
    make_layer_list(items2, {1, 3, 8, 8});
    FAIL() << "expected an unknown-key error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernal"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.yaml:2"), std::string::npos) << e.what();
  }
  YAML::Node wrong = YAML::Load("layers:\n  - {type: conv2d, out: many}\n");
  Options root3(wrong, "w.yaml");
  auto items3 = root3.list("layers");
  EXPECT_THROW(make_layer_list(items3, {1, 3, 8, 8}), Error);
}

}  // namespace
}  // namespace gcnn
