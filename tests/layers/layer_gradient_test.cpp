// Layers' backward checked against central finite differences of their
// forward on tiny shapes: the loss is sum(forward(x) * r) for a fixed random r,
// so dL/dy = r, and every input and parameter gradient is compared.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/models.h"
#include "layers/pooling.h"
#include "layers/registry.h"
#include "layers/residual_blocks.h"

namespace gcnn {
namespace {

Tensor random_tensor(const Shape& shape, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (float& e : v) e = u(rng);
  return Tensor::from_vector(shape, v);
}

double loss_of(Layer& layer, const Tensor& x, const Tensor& r) {
  layer.set_seed(42);  // same dropout mask every time
  const std::vector<float> y = layer.forward(x, true).to_vector();
  const std::vector<float> w = r.to_vector();
  double sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(y[i]) * w[i];
  return sum;
}

// ||analytic - numeric|| / ||numeric|| over all entries of t.
double relative_error(const std::vector<float>& analytic, const std::vector<double>& numeric) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < numeric.size(); ++i) {
    diff += (analytic[i] - numeric[i]) * (analytic[i] - numeric[i]);
    norm += numeric[i] * numeric[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

std::vector<double> numeric_gradient(Layer& layer, Tensor& target, const Tensor& x, const Tensor& r, float eps) {
  std::vector<double> g(static_cast<std::size_t>(target.numel()));
  float* data = target.data<float>();
  for (std::size_t i = 0; i < g.size(); ++i) {
    const float saved = data[i];
    data[i] = saved + eps;
    const double plus = loss_of(layer, x, r);
    data[i] = saved - eps;
    const double minus = loss_of(layer, x, r);
    data[i] = saved;
    g[i] = (plus - minus) / (2.0 * eps);
  }
  return g;
}

void check_gradients(Layer& layer, const Shape& in_shape, double tolerance = 2e-2, float eps = 1e-2f) {
  Tensor x = random_tensor(in_shape, 1);
  const Shape out_shape = layer.output_shape(in_shape);
  Tensor r = random_tensor(out_shape, 2);
  layer.set_seed(42);
  Tensor y = layer.forward(x, true);
  ASSERT_EQ(y.shape(), out_shape) << layer.type();
  Tensor dx = layer.backward(r);
  std::vector<std::vector<float>> analytic_params;
  auto params = named_parameters(layer);
  for (auto& p : params) analytic_params.push_back(p.param->grad.to_vector());

  ASSERT_TRUE(dx.defined()) << layer.type();
  EXPECT_LT(relative_error(dx.to_vector(), numeric_gradient(layer, x, x, r, eps)), tolerance)
      << layer.type() << " dx";
  for (std::size_t k = 0; k < params.size(); ++k) {
    EXPECT_LT(relative_error(analytic_params[k], numeric_gradient(layer, params[k].param->value, x, r, eps)),
              tolerance)
        << layer.type() << " d" << params[k].name;
  }
}

TEST(LayerGradients, Conv2dWithBiasAndStride) {
  Conv2d conv(3, 4, 3, 2, 1, true);
  conv.reset_parameters(7);
  check_gradients(conv, {2, 3, 5, 6});
}

TEST(LayerGradients, BatchNorm2dAnd1d) {
  BatchNorm bn2(3);
  bn2.parameters()[0].value.copy_from(random_tensor({3}, 3));
  bn2.parameters()[1].value.copy_from(random_tensor({3}, 4));
  check_gradients(bn2, {4, 3, 2, 3});
  BatchNorm bn1(5);
  check_gradients(bn1, {6, 5});
}

TEST(LayerGradients, ActivationsPoolsAndDropout) {
  ReLU relu;
  check_gradients(relu, {2, 3, 4, 4}, 2e-2, 1e-3f);
  MaxPool2d pool(ops::Pool2dParams{3, 3, 2, 2, 1, 1});
  check_gradients(pool, {2, 2, 5, 5}, 2e-2, 1e-3f);
  GlobalAvgPool avg;
  check_gradients(avg, {2, 3, 3, 4});
  ConcatPool concat;
  check_gradients(concat, {2, 3, 3, 4}, 2e-2, 1e-3f);
  Dropout dropout(0.5f);
  check_gradients(dropout, {3, 7});
}

TEST(LayerGradients, LinearBothInits) {
  Linear a(5, 3, true, false);
  a.reset_parameters(1);
  check_gradients(a, {4, 5});
  Linear b(5, 2, true, true);
  b.reset_parameters(2);
  check_gradients(b, {3, 5});
}

TEST(LayerGradients, ResidualBlocksWithAndWithoutShortcut) {
  BasicBlock same(4, 4, 1);
  same.reset_parameters(3);
  check_gradients(same, {2, 4, 4, 4}, 3e-2, 1e-3f);
  BasicBlock down(3, 4, 2);
  down.reset_parameters(4);
  check_gradients(down, {2, 3, 5, 5}, 3e-2, 1e-3f);
  Bottleneck bottleneck(4, 2, 2);
  bottleneck.reset_parameters(5);
  check_gradients(bottleneck, {2, 4, 4, 4}, 3e-2, 1e-3f);
}

TEST(LayerGradients, PlainCnnWithFastaiHead) {
  PlainCnnOptions o;
  o.channels = {3};
  o.head.hidden = 4;
  o.head.n_targets = 2;
  auto net = make_plain_cnn(o, 9);
  net->needs_input_grad = true;  // so that dx can be checked too
  check_gradients(*net, {4, 3, 4, 4}, 3e-2);
}

}  // namespace
}  // namespace gcnn
