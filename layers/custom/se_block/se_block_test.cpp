// The squeeze-and-excitation block: its kernels on the CPU and the emulated
// CUDA device against a float64 reference (awkward shapes, NaN-poisoned
// outputs, the harness's shuffled thread order), the layer's forward against a
// hand computation from its parameters, and its use inside ResNet stages and
// YAML layer lists with timm-style names. Its gradients: check_layer_test.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/custom/se_block/se_block.h"
#include "layers/custom/se_block/se_block_kernels.h"
#include "layers/models.h"
#include "layers/registry.h"
#include "tests/support/test_support.h"
#include "train/config.h"

namespace gcnn {
namespace {

using test::poisoned;
using test::random_tensor;
using test::relative_error;

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

TEST(SeBlockKernels, MatchAFloat64ReferenceOnCpuAndEmulatedCuda) {
  const std::vector<Shape> shapes = {{1, 1, 1, 1}, {2, 3, 5, 7}, {3, 5, 17, 19}, {2, 33, 1, 1}};
  for (Device device : {Device::cpu(), Device::cuda(0)}) {
    std::uint64_t seed = 10;
    for (const Shape& s : shapes) {
      const Shape nc{s[0], s[1]};
      const std::int64_t planes = s[0] * s[1], hw = s[2] * s[3];
      Tensor x = random_tensor(s, ++seed, -1, 1, device), dy = random_tensor(s, ++seed, -1, 1, device);
      Tensor z = random_tensor(nc, ++seed, -3, 3, device), dp = random_tensor(nc, ++seed, -1, 1, device);
      Tensor y = poisoned(s, device), dz = poisoned(nc, device), dx = poisoned(s, device);
      se_block::scale_forward(x, z, y);
      se_block::gate_grad(x, z, dy, dz);
      se_block::input_grad(dy, z, dp, dx);

      const auto xv = x.to_vector(), dyv = dy.to_vector(), zv = z.to_vector(), dpv = dp.to_vector();
      std::vector<float> y_ref(xv.size()), dz_ref(zv.size()), dx_ref(xv.size());
      for (std::int64_t p = 0; p < planes; ++p) {
        const double g = sigmoid(zv[p]);
        double sum = 0;
        for (std::int64_t i = p * hw; i < (p + 1) * hw; ++i) {
          y_ref[i] = static_cast<float>(xv[i] * g);
          dx_ref[i] = static_cast<float>(dyv[i] * g + dpv[p] / static_cast<double>(hw));
          sum += static_cast<double>(dyv[i]) * xv[i];
        }
        dz_ref[p] = static_cast<float>(g * (1 - g) * sum);
      }
      const std::string where = device.str() + " " + shape_str(s);
      EXPECT_LT(relative_error(y, Tensor::from_vector(s, y_ref)), 1e-6) << where;
      EXPECT_LT(relative_error(dz, Tensor::from_vector(nc, dz_ref)), 1e-5) << where;
      EXPECT_LT(relative_error(dx, Tensor::from_vector(s, dx_ref)), 1e-6) << where;
    }
  }
}

TEST(SeBlockLayer, ForwardMatchesAHandComputationOnBothDevices) {
  const int n = 2, c = 6, ratio = 2, s = 3, h = 5, w = 4;
  for (Device device : {Device::cpu(), Device::cuda(0)}) {
    SqueezeExcitation se(c, ratio);
    se.reset_parameters(5);
    auto named = named_parameters(se);
    ASSERT_EQ(named.size(), 4u);
    EXPECT_EQ(named[0].name, "fc1.weight");
    EXPECT_EQ(named[0].param->value.shape(), (Shape{s, c}));
    EXPECT_EQ(named[3].name, "fc2.bias");
    const auto w1 = named[0].param->value.to_vector(), b1 = named[1].param->value.to_vector();
    const auto w2 = named[2].param->value.to_vector(), b2 = named[3].param->value.to_vector();
    move_to(se, device);
    Tensor x = random_tensor({n, c, h, w}, 3, -1, 1, device);
    const auto xv = x.to_vector();
    std::vector<float> ref(xv.size());
    for (int b = 0; b < n; ++b) {
      std::vector<double> pooled(c, 0.0), hidden(s, 0.0);
      for (int k = 0; k < c; ++k)
        for (int i = 0; i < h * w; ++i) pooled[k] += xv[(b * c + k) * h * w + i] / double(h * w);
      for (int j = 0; j < s; ++j) {
        hidden[j] = b1[j];
        for (int k = 0; k < c; ++k) hidden[j] += w1[j * c + k] * pooled[k];
        hidden[j] = std::max(hidden[j], 0.0);
      }
      for (int k = 0; k < c; ++k) {
        double z = b2[k];
        for (int j = 0; j < s; ++j) z += w2[k * s + j] * hidden[j];
        for (int i = 0; i < h * w; ++i) ref[(b * c + k) * h * w + i] = static_cast<float>(xv[(b * c + k) * h * w + i] * sigmoid(z));
      }
    }
    EXPECT_LT(relative_error(se.forward(x, false), Tensor::from_vector({n, c, h, w}, ref)), 1e-5) << device.str();
  }
}

TEST(SeBlockLayer, InsideResNetStagesWithTimmNames) {
  ResNetOptions o;
  o.width = 8;
  o.se_ratio = 4;
  o.head.kind = "linear";
  auto net = make_resnet(o, 1);
  auto sd = state_dict(*net);
  ASSERT_TRUE(sd.count("layer1.0.se.fc1.weight"));
  EXPECT_EQ(sd["layer1.0.se.fc1.weight"].shape(), (Shape{2, 8}));
  EXPECT_EQ(sd["layer4.1.se.fc2.weight"].shape(), (Shape{64, 16}));
  EXPECT_EQ(sd["layer4.1.se.fc2.bias"].shape(), (Shape{64}));
  ResNetOptions plain = o;
  plain.se_ratio = 0;
  auto without = state_dict(*make_resnet(plain, 1));
  std::size_t se_tensors = 0;
  for (const auto& [name, t] : sd) {
    if (name.find(".se.") != std::string::npos) ++se_tensors;
    else EXPECT_TRUE(without.count(name)) << name;  // every other name unchanged
  }
  EXPECT_EQ(se_tensors, 8u * 4u);  // 8 blocks x (fc1, fc2) x (weight, bias)
  EXPECT_EQ(sd.size(), without.size() + se_tensors);
  Tensor y = net->forward(random_tensor({2, 3, 32, 32}, 4), true);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  net->backward(Tensor::full({2, 1}, 1.0f));
  float grad = 0;
  for (float v : sd["layer2.1.se.fc1.weight"].to_vector()) grad += std::abs(v);
  EXPECT_GT(grad, 0.0f);
}

TEST(SeBlockLayer, FromYamlAsALayerAndThroughTheConfig) {
  YAML::Node node = YAML::Load(R"(
layers:
  - {type: conv2d, out: 8}
  - {type: se_block, ratio: 4}
  - {type: basic_block, planes: 8, se_ratio: 2}
  - {type: avgpool}
  - {type: linear, out: 1}
)");
  Options root(node, "se.yaml");
  auto items = root.list("layers");
  auto net = make_layer_list(items, {1, 3, 8, 8});
  auto sd = state_dict(*net);
  EXPECT_EQ(sd.at("1.fc1.weight").shape(), (Shape{2, 8}));
  EXPECT_EQ(sd.at("2.se.fc1.weight").shape(), (Shape{4, 8}));
  YAML::Node bad = YAML::Load("layers:\n  - {type: se_block, ratio: 0}\n");
  Options bad_root(bad, "bad.yaml");
  auto bad_items = bad_root.list("layers");
  EXPECT_THROW(make_layer_list(bad_items, {1, 3, 8, 8}), InputError);

  const std::string config = "name: se\ndata: {synthetic: {n: 40, size: 16}, image_size: 16, batch_size: 8}\n"
                             "model: {preset: resnet18, width: 8, se_ratio: 4}\nphases: [{epochs: 1, lr: 0.1}]\n";
  auto c = train::parse_config(config, "se.yaml", ".");
  EXPECT_EQ(c.model.resnet.se_ratio, 4);
  EXPECT_TRUE(state_dict(*train::build_model(c, 1)).count("layer3.0.se.fc2.bias"));
  EXPECT_THROW(train::parse_config(config, "se.yaml", ".", {"model.se_ratio=-1"}), InputError);
}

}  // namespace
}  // namespace gcnn
