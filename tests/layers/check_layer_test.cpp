// The layer checker on the CPU: every registered layer (built-in and custom)
// passes on its registered example, and a test-only layer with a deliberately
// wrong backward (or a wrong output shape rule) fails, naming the tensor.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/ops/elementwise.h"
#include "layers/check_layer.h"
#include "layers/registry.h"

namespace gcnn {
namespace {

bool has_failure(const LayerCheckReport& report, const std::string& text) {
  const auto failed = report.failures();
  return std::any_of(failed.begin(), failed.end(), [&](const std::string& f) { return f.find(text) != std::string::npos; });
}

TEST(CheckLayer, EveryRegisteredLayerPassesOnTheCpu) {
  const auto types = registered_layers();
  for (const char* expected : {"conv2d", "basic_block", "se_block", "dihedral_pool", "scaled_tanh"})
    EXPECT_NE(std::find(types.begin(), types.end(), expected), types.end()) << expected;
  for (const auto& type : types) {
    LayerCheckRequest request;
    request.type = type;
    request.timing_repeats = 1;
    const LayerCheckReport report = check_layer(request);
    EXPECT_TRUE(report.passed()) << format_layer_check(report);
    const auto gradient_checks = std::count_if(report.checks.begin(), report.checks.end(), [](const TensorCheck& c) {
      return c.check == "finite differences";
    });
    EXPECT_GE(gradient_checks, 1) << type;  // at least the input gradient
  }
}

// y = w[c] * x with a per-channel weight w; `wrong` picks the defect:
// "weight" scales dw by 1.5, "input" flips the sign of dx for channel 0,
// "shape" declares an output with one channel too many, "none" is correct.
class ChannelScaleWithDefect : public Layer {
 public:
  ChannelScaleWithDefect(int channels, std::string wrong) : wrong_(std::move(wrong)) {
    add_parameter("weight", Tensor::zeros({channels}), true);
  }
  std::string type() const override { return "test_channel_scale_with_defect"; }
  Shape output_shape(const Shape& in) const override {
    Shape out = in;
    if (wrong_ == "shape") out[1] += 1;
    return out;
  }
  void reset_parameters(std::uint64_t) override {
    std::vector<float> w(static_cast<std::size_t>(parameters()[0].value.numel()));
    for (std::size_t c = 0; c < w.size(); ++c) w[c] = 0.5f + 0.25f * static_cast<float>(c);
    parameters()[0].value.copy_from(Tensor::from_vector({static_cast<std::int64_t>(w.size())}, w));
  }
  Tensor forward(const Tensor& x, bool) override {
    x_ = x;
    return Tensor::from_vector(x.shape(), scaled(x.to_vector(), 1.0f), x.device());
  }
  Tensor backward(const Tensor& dy) override {
    const std::vector<float> g = dy.to_vector(), xv = x_.to_vector();
    const auto [n, c, plane] = dims(dy.shape());
    std::vector<float> dw(static_cast<std::size_t>(c), 0.0f);
    for (std::int64_t i = 0; i < n * c * plane; ++i) dw[static_cast<std::size_t>((i / plane) % c)] += g[i] * xv[i];
    if (wrong_ == "weight")
      for (float& v : dw) v *= 1.5f;
    parameters()[0].grad.copy_from(Tensor::from_vector({c}, dw));
    std::vector<float> dx = scaled(g, 1.0f);
    if (wrong_ == "input")
      for (std::int64_t i = 0; i < n * c * plane; ++i)
        if ((i / plane) % c == 0) dx[i] = -dx[i];
    return Tensor::from_vector(dy.shape(), dx, dy.device());
  }

 private:
  static std::tuple<std::int64_t, std::int64_t, std::int64_t> dims(const Shape& s) {
    return {s[0], s[1], shape_numel(s) / (s[0] * s[1])};
  }
  std::vector<float> scaled(std::vector<float> v, float sign) {
    const std::vector<float> w = parameters()[0].value.to_vector();
    const auto [n, c, plane] = dims(x_.shape());
    for (std::int64_t i = 0; i < n * c * plane; ++i) v[i] *= sign * w[static_cast<std::size_t>((i / plane) % c)];
    return v;
  }
  std::string wrong_;
  Tensor x_;
};

LayerPtr make_channel_scale_with_defect(LayerArgs& args) {
  const std::string wrong = args.options.choice("wrong", {"none", "weight", "input", "shape"}, "none");
  return std::make_unique<ChannelScaleWithDefect>(static_cast<int>(args.in_shape.at(1)), wrong);
}

void register_defective_layer() {
  static const bool once = [] {
    register_layer("test_channel_scale_with_defect", {&make_channel_scale_with_defect, "{}", {2, 3, 3, 3}});
    return true;
  }();
  (void)once;
}

LayerCheckReport check_defect(const std::string& wrong) {
  register_defective_layer();
  LayerCheckRequest request;
  request.type = "test_channel_scale_with_defect";
  request.options = "{wrong: " + wrong + "}";
  request.timing_repeats = 1;
  return check_layer(request);
}

TEST(CheckLayer, TheCorrectTestLayerPasses) {
  const LayerCheckReport report = check_defect("none");
  EXPECT_TRUE(report.passed()) << format_layer_check(report);
}

TEST(CheckLayer, AWrongWeightGradientFailsNamingTheWeight) {
  const LayerCheckReport report = check_defect("weight");
  EXPECT_FALSE(report.passed());
  EXPECT_TRUE(has_failure(report, "finite differences of weight.grad")) << format_layer_check(report);
  EXPECT_FALSE(has_failure(report, "input.grad")) << format_layer_check(report);
  const std::string table = format_layer_check(report);
  EXPECT_NE(table.find("FAIL: finite differences of weight.grad"), std::string::npos) << table;
  EXPECT_EQ(table.find("PASS"), std::string::npos) << table;
}

TEST(CheckLayer, AWrongInputGradientFailsNamingTheInput) {
  const LayerCheckReport report = check_defect("input");
  EXPECT_TRUE(has_failure(report, "finite differences of input.grad")) << format_layer_check(report);
  EXPECT_FALSE(has_failure(report, "weight.grad")) << format_layer_check(report);
}

TEST(CheckLayer, AWrongOutputShapeRuleFails) {
  const LayerCheckReport report = check_defect("shape");
  EXPECT_TRUE(has_failure(report, "output shape of output")) << format_layer_check(report);
}

TEST(CheckLayer, BadRequestsAreInputErrors) {
  LayerCheckRequest unknown;
  unknown.type = "no_such_layer";
  EXPECT_THROW(check_layer(unknown), InputError);
  LayerCheckRequest bad_option;
  bad_option.type = "se_block";
  bad_option.options = "{ratio: 2, typo: 1}";
  try {
    check_layer(bad_option);
    FAIL() << "expected the unknown key to be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("typo"), std::string::npos) << e.what();
  }
  LayerCheckRequest bad_input;
  bad_input.type = "linear";
  bad_input.input = {2, 3, 4, 4};
  EXPECT_THROW(check_layer(bad_input), Error);
}

}  // namespace
}  // namespace gcnn
