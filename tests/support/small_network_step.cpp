// The small network of small_network_step.h, forward and backward by hand.
#include "small_network_step.h"

#include <random>

#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/conv.h"
#include "kernels/ops/elementwise.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/loss.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/sgd.h"

namespace gcnn::test {
namespace {

Tensor uniform(const Shape& shape, float scale, std::mt19937& rng, Device device) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (auto& x : v) x = dist(rng);
  return Tensor::from_vector(shape, v, device);
}

Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.device()); }

}  // namespace

SmallNetwork make_small_network(Device device, int in_channels, int width, int n_targets, unsigned seed) {
  std::mt19937 rng(seed);
  SmallNetwork net;
  auto& p = net.params;
  auto gamma = [&](int n) {
    auto v = uniform({n}, 0.2f, rng, Device::cpu()).to_vector();
    for (auto& g : v) g += 1.0f;
    return Tensor::from_vector({n}, v, device);
  };
  p["conv1.weight"] = uniform({width, in_channels, 3, 3}, 0.3f, rng, device);
  p["bn1.weight"] = gamma(width);
  p["bn1.bias"] = uniform({width}, 0.2f, rng, device);
  p["conv2.weight"] = uniform({width, width, 3, 3}, 0.2f, rng, device);
  p["conv2.bias"] = uniform({width}, 0.1f, rng, device);
  p["bn2.weight"] = gamma(width);
  p["bn2.bias"] = uniform({width}, 0.2f, rng, device);
  p["fc.weight"] = uniform({n_targets, 2 * width}, 0.3f, rng, device);
  p["fc.bias"] = uniform({n_targets}, 0.1f, rng, device);
  for (auto& [name, t] : p) net.momentum[name] = Tensor::zeros(t.shape(), device);
  for (const char* bn : {"bn1", "bn2"}) {
    net.buffers[std::string(bn) + ".running_mean"] = Tensor::zeros({width}, device);
    net.buffers[std::string(bn) + ".running_var"] = Tensor::full({width}, 1.0f, device);
  }
  return net;
}

float small_network_step(SmallNetwork& net, const Tensor& x, const Tensor& target, float lr) {
  auto& p = net.params;
  auto& b = net.buffers;
  const Device dev = x.device();
  const ops::Conv2dParams same{1, 1, 1, 1};
  const ops::Pool2dParams pool{3, 3, 2, 2, 1, 1};
  const float eps = 1e-5f, bn_momentum = 0.1f;

  // Forward.
  Tensor c1 = Tensor::empty(ops::conv2d_output_shape(x.shape(), p["conv1.weight"].shape(), same), dev);
  ops::conv2d_forward(x, p["conv1.weight"], Tensor(), c1, same);
  Tensor b1 = like(c1), m1 = Tensor::empty({c1.dim(1)}, dev), s1 = like(m1);
  ops::batchnorm_forward_train(c1, p["bn1.weight"], p["bn1.bias"], b["bn1.running_mean"], b["bn1.running_var"],
                               bn_momentum, eps, b1, m1, s1);
  Tensor r1 = like(b1);
  ops::relu_forward(b1, r1);
  Tensor pooled = Tensor::empty(ops::pool2d_output_shape(r1.shape(), pool), dev);
  ops::maxpool2d_forward(r1, pooled, pool);
  Tensor c2 = like(pooled);
  ops::conv2d_forward(pooled, p["conv2.weight"], p["conv2.bias"], c2, same);
  Tensor b2 = like(c2), m2 = Tensor::empty({c2.dim(1)}, dev), s2 = like(m2);
  ops::batchnorm_forward_train(c2, p["bn2.weight"], p["bn2.bias"], b["bn2.running_mean"], b["bn2.running_var"],
                               bn_momentum, eps, b2, m2, s2);
  Tensor sum = like(b2);
  ops::add(b2, pooled, sum);
  Tensor r2 = like(sum);
  ops::relu_forward(sum, r2);
  Tensor feat = Tensor::empty({r2.dim(0), 2 * r2.dim(1)}, dev);
  ops::concat_pool_forward(r2, feat);
  Tensor pred = Tensor::empty({feat.dim(0), p["fc.weight"].dim(0)}, dev);
  ops::linear_forward(feat, p["fc.weight"], p["fc.bias"], pred);
  const float loss = ops::loss_forward(ops::LossKind::RMSE, pred, target);

  // Backward.
  std::map<std::string, Tensor> g;
  for (auto& [name, t] : p) g[name] = like(t);
  Tensor dpred = like(pred);
  ops::loss_backward(ops::LossKind::RMSE, pred, target, dpred);
  Tensor dfeat = like(feat);
  ops::linear_backward(feat, p["fc.weight"], dpred, &dfeat, g["fc.weight"], &g["fc.bias"]);
  Tensor dr2 = like(r2);
  ops::concat_pool_backward(r2, dfeat, dr2);
  Tensor dsum = like(sum);
  ops::relu_backward(r2, dr2, dsum);
  Tensor dc2 = like(c2);
  ops::batchnorm_backward(c2, p["bn2.weight"], m2, s2, dsum, dc2, g["bn2.weight"], g["bn2.bias"]);
  Tensor dpooled = like(pooled);
  ops::conv2d_backward(pooled, p["conv2.weight"], dc2, &dpooled, g["conv2.weight"], &g["conv2.bias"], same);
  ops::accumulate(dpooled, dsum);  // the skip connection
  Tensor dr1 = like(r1);
  ops::maxpool2d_backward(r1, dpooled, dr1, pool);
  Tensor db1 = like(b1);
  ops::relu_backward(r1, dr1, db1);
  Tensor dc1 = like(c1);
  ops::batchnorm_backward(c1, p["bn1.weight"], m1, s1, db1, dc1, g["bn1.weight"], g["bn1.bias"]);
  ops::conv2d_backward(x, p["conv1.weight"], dc1, nullptr, g["conv1.weight"], nullptr, same);

  for (auto& [name, t] : p) {
    const bool decay = name.find("bn") == std::string::npos && !name.ends_with("bias");
    ops::sgd_update(t, g[name], net.momentum[name], lr, 0.9f, decay ? 1e-2f : 0.0f, true);
  }
  return loss;
}

}  // namespace gcnn::test
