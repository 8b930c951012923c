// fuse_for_inference: the fused ResNet body (batch norms folded, oneDNN
// layouts kept, ReLUs and residual sums as post-ops; its 3x3 convolutions
// Winograd or direct) against the same model run layer by layer in eval
// mode, with batch norms whose statistics are far from the identity; and the
// models it must leave alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/winograd.h"
#include "kernels/error.h"
#include "layers/fused_inference.h"
#include "layers/init.h"
#include "layers/models.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

// Every batch norm gets gamma, beta and running statistics far from 1, 0, 0, 1.
void randomise_batch_norms(Layer& model, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  auto fill = [&](Tensor& t, float lo, float hi) {
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    for (float& x : v) x = lo + (hi - lo) * u(rng);
    t = Tensor::from_vector(t.shape(), v);
  };
  for (auto& p : named_parameters(model)) {
    const std::string& n = p.name;
    if (n.find("bn") == std::string::npos && n.find("downsample.1") == std::string::npos) continue;
    if (n.ends_with("weight")) fill(p.param->value, 0.5f, 1.5f);
    if (n.ends_with("bias")) fill(p.param->value, -0.3f, 0.3f);
  }
  for (auto& b : named_buffers(model)) {
    if (b.name.ends_with("running_mean")) fill(*b.value, -0.4f, 0.4f);
    if (b.name.ends_with("running_var")) fill(*b.value, 0.3f, 2.5f);
  }
}

Tensor random_input(const Shape& shape, std::uint64_t seed) {
  Tensor x = Tensor::empty(shape);
  init_normal(x, 1.0, seed);
  return x;
}

// The fused body needs AVX2 or AVX-512 (below, fuse_for_inference declines).
#define SKIP_WITHOUT_FUSED_BODY()                                                                     \
  if (cpu::onednn_conv_channel_block() == 0)                                                          \
  GTEST_SKIP() << "oneDNN runs on " << cpu::onednn_isa() << ": no fused body below AVX2"

// max |a - b| / max |b|.
double relative_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(va[i] - vb[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(vb[i])));
  }
  return diff / scale;
}

// The fused body's output against the body's layers (the first 8 children:
// conv1, bn1, relu, maxpool, layer1-4) run one by one, and the whole model's
// output against the unfused model's, at each input shape; the body's 3x3
// convolutions by conv3x3, which the description names where it runs.
void expect_fused_matches_layer_by_layer(ResNetOptions o, const std::vector<Shape>& inputs,
                                         cpu::Conv3x3Algorithm conv3x3) {
  ASSERT_NE(cpu::onednn_conv_channel_block(), 0);
  o.head.n_targets = 5;
  auto model = make_resnet(o, 7);
  randomise_batch_norms(*model, 11);
  std::vector<Tensor> features, outputs;
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Tensor h = random_input(inputs[i], 20 + i);
    for (std::size_t k = 0; k < 8; ++k) h = model->at(k).forward(h, false);
    features.push_back(h);
    outputs.push_back(model->forward(random_input(inputs[i], 20 + i), false));
    shapes.push_back(model->output_shape(inputs[i]));
  }
  ASSERT_EQ(fuse_for_inference(*model, conv3x3), "");
  ASSERT_EQ(model->at(0).type(), "fused_resnet_body");
  const bool winograd = conv3x3 == cpu::Conv3x3Algorithm::winograd && cpu::WinogradConv3x3::available() &&
                        cpu::onednn_conv_channel_block() == 8;
  EXPECT_EQ(describe_forward(*model, "").find("Winograd") != std::string::npos, winograd)
      << describe_forward(*model, "");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor x = random_input(inputs[i], 20 + i);
    EXPECT_EQ(model->at(0).output_shape(inputs[i]), features[i].shape());
    EXPECT_LT(relative_difference(model->at(0).forward(x, false), features[i]), 2e-5) << shape_str(inputs[i]);
    EXPECT_LT(relative_difference(model->forward(x, false), outputs[i]), 2e-5) << shape_str(inputs[i]);
    EXPECT_EQ(model->output_shape(inputs[i]), shapes[i]);
  }
}

TEST(FusedInference, BasicBlockResNetMatchesLayerByLayer) {
  SKIP_WITHOUT_FUSED_BODY();
  ResNetOptions o;
  o.depth = 18;
  o.width = 8;
  o.head.kind = "linear";
  // A second batch size builds a second plan; odd sizes give negative right paddings.
  for (const auto conv3x3 : {cpu::Conv3x3Algorithm::winograd, cpu::Conv3x3Algorithm::direct})
    expect_fused_matches_layer_by_layer(o, {{3, 3, 32, 32}, {2, 3, 37, 29}, {3, 3, 32, 32}}, conv3x3);
}

TEST(FusedInference, BottleneckResNetMatchesLayerByLayer) {
  SKIP_WITHOUT_FUSED_BODY();
  ResNetOptions o;
  o.depth = 50;
  o.width = 4;
  o.head.kind = "fastai";  // the head after the fused body runs layer by layer
  for (const auto conv3x3 : {cpu::Conv3x3Algorithm::winograd, cpu::Conv3x3Algorithm::direct})
    expect_fused_matches_layer_by_layer(o, {{2, 3, 40, 40}}, conv3x3);
}

TEST(FusedInference, TheFusedModelRefusesToTrain) {
  SKIP_WITHOUT_FUSED_BODY();
  ResNetOptions o;
  o.width = 4;
  auto model = make_resnet(o, 1);
  ASSERT_EQ(fuse_for_inference(*model), "");
  const Tensor x = random_input({2, 3, 32, 32}, 3);
  EXPECT_THROW(model->forward(x, true), Error);
  EXPECT_THROW(model->at(0).backward(x), Error);
  EXPECT_THROW(model->forward(random_input({2, 4, 32, 32}, 3), false), Error);  // the stem takes 3 channels
  // The replaced layers are gone (their weights live folded in the body): only the head has parameters.
  for (const auto& p : named_parameters(*model)) EXPECT_TRUE(is_head_parameter(p.name)) << p.name;
  EXPECT_FALSE(named_parameters(*model).empty());
}

TEST(FusedInference, LeavesOtherModelsAsTheyWere) {
  SKIP_WITHOUT_FUSED_BODY();  // below AVX2 every model is declined for that reason first
  auto unchanged = [](Sequential& model, const std::string& reason_part) {
    const std::size_t children = model.size();
    const std::string why = fuse_for_inference(model);
    EXPECT_NE(why.find(reason_part), std::string::npos) << why;
    EXPECT_EQ(model.size(), children);
    EXPECT_NE(model.at(0).type(), "fused_resnet_body");
  };
  ResNetOptions se;
  se.width = 8;
  se.se_ratio = 2;
  unchanged(*make_resnet(se, 1), "residual block");
  ResNetOptions pooled;
  pooled.width = 4;
  pooled.dihedral_pool = true;
  unchanged(*make_resnet(pooled, 1), "dihedral_pool");
  PlainCnnOptions plain;
  unchanged(*make_plain_cnn(plain, 1), "not a ResNet");
  ResNetOptions tf32;
  tf32.width = 4;
  auto model = make_resnet(tf32, 1);
  set_precision(*model, Precision::tf32);
  unchanged(*model, "precision tf32");
}

TEST(FusedInference, Bf16ChainMatchesFp32WithinBf16Rounding) {
  if (!cpu::onednn_has_bf16())
    GTEST_SKIP() << "the CPU has no bf16 arithmetic (oneDNN ISA \"" << cpu::onednn_isa() << "\")";
  ResNetOptions o;
  o.width = 16;
  o.head.n_targets = 5;
  auto model = make_resnet(o, 7);
  randomise_batch_norms(*model, 11);
  const Tensor x = random_input({4, 3, 48, 48}, 5);
  const Tensor fp32 = model->forward(x, false);
  set_precision(*model, Precision::bf16);
  ASSERT_EQ(fuse_for_inference(*model), "");
  const double d = relative_difference(model->forward(x, false), fp32);
  // bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.2%) at each of the body's 17 layers.
  EXPECT_LT(d, 3e-2);
  EXPECT_GT(d, 1e-5);  // it did round: an FP32 chain would agree to ~1e-6
}

}  // namespace
}  // namespace gcnn
