// The device-generic layer-op checks declared in layer_op_checks.h: inputs are
// drawn on the CPU, copied to the device under test, and every output of the
// op is compared with the reference op run on the CPU copies.
#include "tests/support/layer_op_checks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "kernels/ops/batchnorm.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/elementwise.h"
#include "kernels/ops/loss.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/sgd.h"
#include "kernels/reference/batchnorm.h"
#include "kernels/reference/dropout.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/loss.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/sgd.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

// Values in {0, 0.25, ..., 1}: many exact ties, to pin down which maximum wins.
Tensor tied_tensor(const Shape& shape, std::uint64_t seed, Device device) {
  std::vector<float> v = random_tensor(shape, seed, 0.0f, 5.0f).to_vector();
  for (float& e : v) e = std::floor(e) * 0.25f;
  return Tensor::from_vector(shape, v, device);
}

#define EXPECT_CLOSE(out, ref) EXPECT_LE(relative_error(out, ref), kLayerOpTolerance) << #out

}  // namespace

void expect_batchnorm_matches_reference(Device device) {
  // At least 3 values per channel: with 2, dx is identically 0 up to eps and
  // its relative error means nothing.
  const std::vector<Shape> shapes = {{1, 5, 3, 3}, {3, 3, 1, 1},   {3, 7, 5, 9},  {1, 1, 1, 3},
                                     {4, 17},      {1, 6, 17, 19}, {5, 19, 2, 3}, {33, 3}};
  std::uint64_t seed = 100;
  for (const Shape& shape : shapes) {
    SCOPED_TRACE("x " + shape_str(shape) + " on " + device.str());
    const std::int64_t c = shape[1];
    const Tensor x = random_tensor(shape, ++seed, -2.0f, 3.0f), dy = random_tensor(shape, ++seed);
    const Tensor gamma = random_tensor({c}, ++seed, 0.5f, 1.5f), beta = random_tensor({c}, ++seed);
    const Tensor rm0 = random_tensor({c}, ++seed), rv0 = random_tensor({c}, ++seed, 0.5f, 2.0f);
    const float momentum = 0.1f, eps = 1e-5f;

    Tensor ref_y = Tensor::empty(shape), ref_mean = Tensor::empty({c}), ref_invstd = Tensor::empty({c});
    Tensor ref_rm = rm0.clone(), ref_rv = rv0.clone();
    reference::batchnorm_forward_train(x, gamma, beta, ref_rm, ref_rv, momentum, eps, ref_y, ref_mean, ref_invstd);
    Tensor y = poisoned(shape, device), mean = poisoned({c}, device), invstd = poisoned({c}, device);
    Tensor rm = rm0.to(device), rv = rv0.to(device);
    const Tensor xd = x.to(device), gd = gamma.to(device), bd = beta.to(device);
    ops::batchnorm_forward_train(xd, gd, bd, rm, rv, momentum, eps, y, mean, invstd);
    EXPECT_CLOSE(y, ref_y);
    EXPECT_CLOSE(mean, ref_mean);
    EXPECT_CLOSE(invstd, ref_invstd);
    EXPECT_CLOSE(rm, ref_rm);
    EXPECT_CLOSE(rv, ref_rv);

    Tensor ref_eval = Tensor::empty(shape), eval = poisoned(shape, device);
    reference::batchnorm_forward_eval(x, gamma, beta, rm0, rv0, eps, ref_eval);
    ops::batchnorm_forward_eval(xd, gd, bd, rm0.to(device), rv0.to(device), eps, eval);
    EXPECT_CLOSE(eval, ref_eval);

    Tensor ref_dx = Tensor::empty(shape), ref_dgamma = Tensor::empty({c}), ref_dbeta = Tensor::empty({c});
    reference::batchnorm_backward(x, gamma, ref_mean, ref_invstd, dy, ref_dx, ref_dgamma, ref_dbeta);
    Tensor dx = poisoned(shape, device), dgamma = poisoned({c}, device), dbeta = poisoned({c}, device);
    ops::batchnorm_backward(xd, gd, ref_mean.to(device), ref_invstd.to(device), dy.to(device), dx, dgamma, dbeta);
    EXPECT_CLOSE(dx, ref_dx);
    EXPECT_CLOSE(dgamma, ref_dgamma);
    EXPECT_CLOSE(dbeta, ref_dbeta);

    // The fused ReLU variants against the reference's composition.
    Tensor ref_fused = Tensor::empty(shape), fused = poisoned(shape, device);
    Tensor ref_frm = rm0.clone(), ref_frv = rv0.clone(), frm = rm0.to(device), frv = rv0.to(device);
    Tensor fmean = poisoned({c}, device), finvstd = poisoned({c}, device);
    reference::batchnorm_relu_forward_train(x, gamma, beta, ref_frm, ref_frv, momentum, eps, ref_fused, ref_mean,
                                            ref_invstd);
    ops::batchnorm_relu_forward_train(xd, gd, bd, frm, frv, momentum, eps, fused, fmean, finvstd);
    EXPECT_CLOSE(fused, ref_fused);
    EXPECT_CLOSE(fmean, ref_mean);
    EXPECT_CLOSE(finvstd, ref_invstd);
    EXPECT_CLOSE(frm, ref_frm);
    EXPECT_CLOSE(frv, ref_frv);

    Tensor ref_fused_eval = Tensor::empty(shape), fused_eval = poisoned(shape, device);
    reference::batchnorm_relu_forward_eval(x, gamma, beta, rm0, rv0, eps, ref_fused_eval);
    ops::batchnorm_relu_forward_eval(xd, gd, bd, rm0.to(device), rv0.to(device), eps, fused_eval);
    EXPECT_CLOSE(fused_eval, ref_fused_eval);

    reference::relu_batchnorm_backward(x, gamma, ref_mean, ref_invstd, ref_fused, dy, ref_dx, ref_dgamma, ref_dbeta);
    dx = poisoned(shape, device);
    dgamma = poisoned({c}, device);
    dbeta = poisoned({c}, device);
    ops::relu_batchnorm_backward(xd, gd, ref_mean.to(device), ref_invstd.to(device), ref_fused.to(device),
                                 dy.to(device), dx, dgamma, dbeta);
    EXPECT_CLOSE(dx, ref_dx);
    EXPECT_CLOSE(dgamma, ref_dgamma);
    EXPECT_CLOSE(dbeta, ref_dbeta);
  }
}

void expect_pooling_matches_reference(Device device) {
  struct Case {
    Shape x;
    ops::Pool2dParams p;
  };
  const ops::Pool2dParams stem;  // 3x3, stride 2, padding 1
  const std::vector<Case> cases = {
      {{1, 1, 1, 1}, stem},
      {{2, 3, 7, 9}, stem},
      {{1, 5, 64, 33}, stem},
      {{3, 2, 8, 8}, {2, 2, 2, 2, 0, 0}},
      {{2, 3, 6, 7}, {3, 3, 1, 1, 1, 1}},
      {{1, 2, 9, 5}, {3, 2, 1, 2, 1, 0}},
      {{2, 1, 5, 5}, {3, 3, 2, 2, 0, 0}},
      {{1, 2, 8, 7}, {2, 2, 3, 3, 0, 0}},  // stride > kernel: some inputs get no gradient
  };
  std::uint64_t seed = 200;
  for (const Case& k : cases) {
    for (bool ties : {false, true}) {
      SCOPED_TRACE("maxpool2d x " + shape_str(k.x) + (ties ? " with ties" : "") + " on " + device.str());
      const Tensor x = ties ? tied_tensor(k.x, ++seed, Device::cpu()) : random_tensor(k.x, ++seed);
      const Shape ys = ops::pool2d_output_shape(k.x, k.p);
      const Tensor dy = random_tensor(ys, ++seed);
      Tensor ref_y = Tensor::empty(ys), ref_dx = Tensor::empty(k.x);
      reference::maxpool2d_forward(x, ref_y, k.p);
      reference::maxpool2d_backward(x, dy, ref_dx, k.p);
      Tensor y = poisoned(ys, device), dx = poisoned(k.x, device);
      const Tensor xd = x.to(device);
      ops::maxpool2d_forward(xd, y, k.p);
      ops::maxpool2d_backward(xd, dy.to(device), dx, k.p);
      EXPECT_CLOSE(y, ref_y);
      EXPECT_CLOSE(dx, ref_dx);
    }
  }

  const std::vector<Shape> planes = {{1, 1, 1, 1}, {2, 3, 4, 4}, {3, 5, 7, 3}, {1, 2, 33, 35}, {2, 70, 1, 1}};
  for (const Shape& shape : planes) {
    for (bool ties : {false, true}) {
      SCOPED_TRACE("global pools x " + shape_str(shape) + (ties ? " with ties" : "") + " on " + device.str());
      const std::int64_t n = shape[0], c = shape[1];
      const Tensor x = ties ? tied_tensor(shape, ++seed, Device::cpu()) : random_tensor(shape, ++seed);
      const Tensor dy = random_tensor({n, c}, ++seed), dy2 = random_tensor({n, 2 * c}, ++seed);
      const Tensor xd = x.to(device), dyd = dy.to(device), dy2d = dy2.to(device);

      Tensor ref = Tensor::empty({n, c}), out = poisoned({n, c}, device);
      Tensor ref_dx = Tensor::empty(shape), dx = poisoned(shape, device);
      reference::global_avgpool_forward(x, ref);
      ops::global_avgpool_forward(xd, out);
      EXPECT_CLOSE(out, ref);
      reference::global_avgpool_backward(dy, ref_dx);
      ops::global_avgpool_backward(dyd, dx);
      EXPECT_CLOSE(dx, ref_dx);

      out = poisoned({n, c}, device);
      dx = poisoned(shape, device);
      reference::global_maxpool_forward(x, ref);
      ops::global_maxpool_forward(xd, out);
      EXPECT_CLOSE(out, ref);
      reference::global_maxpool_backward(x, dy, ref_dx);
      ops::global_maxpool_backward(xd, dyd, dx);
      EXPECT_CLOSE(dx, ref_dx);

      Tensor ref2 = Tensor::empty({n, 2 * c}), out2 = poisoned({n, 2 * c}, device);
      dx = poisoned(shape, device);
      reference::concat_pool_forward(x, ref2);
      ops::concat_pool_forward(xd, out2);
      EXPECT_CLOSE(out2, ref2);
      reference::concat_pool_backward(x, dy2, ref_dx);
      ops::concat_pool_backward(xd, dy2d, dx);
      EXPECT_CLOSE(dx, ref_dx);
    }
  }
}

void expect_elementwise_matches_reference(Device device) {
  std::uint64_t seed = 300;
  for (const Shape& shape : std::vector<Shape>{{1}, {3, 1, 1, 1}, {257}, {2, 3, 5, 7}, {100003}}) {
    SCOPED_TRACE("shape " + shape_str(shape) + " on " + device.str());
    const Tensor a = random_tensor(shape, ++seed), b = random_tensor(shape, ++seed);
    Tensor ref = Tensor::empty(shape), out = poisoned(shape, device);
    reference::add(a, b, ref);
    ops::add(a.to(device), b.to(device), out);
    EXPECT_CLOSE(out, ref);

    Tensor aliased = a.to(device);  // y = a + b written over a, then over b
    ops::add(aliased, b.to(device), aliased);
    EXPECT_CLOSE(aliased, ref);
    Tensor aliased_b = b.to(device);
    ops::add(a.to(device), aliased_b, aliased_b);
    EXPECT_CLOSE(aliased_b, ref);

    // add + ReLU: exactly the reference (one rounding, then a max), also written over a.
    Tensor ref_relu = Tensor::empty(shape), relu_out = poisoned(shape, device);
    reference::add_relu(a, b, ref_relu);
    ops::add_relu(a.to(device), b.to(device), relu_out);
    EXPECT_EQ(relu_out.to_vector(), ref_relu.to_vector());
    Tensor relu_aliased = a.to(device);
    ops::add_relu(relu_aliased, b.to(device), relu_aliased);
    EXPECT_EQ(relu_aliased.to_vector(), ref_relu.to_vector());

    Tensor ref_acc = a.clone(), acc = a.to(device);
    reference::accumulate(ref_acc, b);
    ops::accumulate(acc, b.to(device));
    EXPECT_CLOSE(acc, ref_acc);

    out = poisoned(shape, device);
    reference::scale(a, -0.37f, ref);
    ops::scale(a.to(device), -0.37f, out);
    EXPECT_CLOSE(out, ref);
    Tensor in_place = a.to(device);
    ops::scale(in_place, -0.37f, in_place);
    EXPECT_CLOSE(in_place, ref);
  }
}

void expect_dropout_matches_reference(Device device) {
  std::uint64_t seed = 400;
  for (const Shape& shape : std::vector<Shape>{{1}, {7, 3}, {2, 3, 5, 7}, {70001}}) {
    for (float p : {0.0f, 0.3f, 0.5f, 1.0f}) {
      SCOPED_TRACE("shape " + shape_str(shape) + " p " + std::to_string(p) + " on " + device.str());
      const Tensor x = random_tensor(shape, ++seed), dy = random_tensor(shape, ++seed);
      const std::uint64_t mask_seed = 0x1234'5678'9abcULL + seed;
      Tensor ref_mask = Tensor::empty(shape), ref_y = Tensor::empty(shape), ref_dx = Tensor::empty(shape);
      reference::dropout_forward(x, p, mask_seed, ref_mask, ref_y);
      reference::dropout_backward(dy, ref_mask, ref_dx);
      Tensor mask = poisoned(shape, device), y = poisoned(shape, device), dx = poisoned(shape, device);
      ops::dropout_forward(x.to(device), p, mask_seed, mask, y);
      ops::dropout_backward(dy.to(device), mask, dx);
      EXPECT_EQ(mask.to_vector(), ref_mask.to_vector());
      EXPECT_EQ(y.to_vector(), ref_y.to_vector());
      EXPECT_EQ(dx.to_vector(), ref_dx.to_vector());
    }
  }
}

namespace {

// The value and gradient (into grad) of one loss on the device under test.
using LossUnderTest = std::function<float(ops::LossKind kind, const Tensor& pred, const Tensor& target, float delta,
                                          const Tensor& weights, Tensor& grad)>;

// Every loss kind, Huber delta 1 and 0.3, batches of 1 to 1000 rows of 1 or 3
// targets, without and (for 3 targets) with uneven per-target weights that
// include a zero: `loss` against the reference's value and gradient.
void expect_loss_cases_match_reference(Device device, std::uint64_t seed, const LossUnderTest& loss) {
  for (const Shape& shape : std::vector<Shape>{{1, 1}, {32, 1}, {7, 3}, {1000, 3}}) {
    std::vector<Tensor> weight_choices{Tensor()};
    if (shape[1] == 3) weight_choices.push_back(Tensor::from_vector({3}, {1.0f, 0.0f, 2.5f}));
    for (ops::LossKind kind : {ops::LossKind::MSE, ops::LossKind::RMSE, ops::LossKind::L1, ops::LossKind::Huber}) {
      for (float delta : {1.0f, 0.3f}) {
        for (const Tensor& weights : weight_choices) {
          SCOPED_TRACE("loss " + std::string(ops::loss_name(kind)) + " delta " + std::to_string(delta) + " shape " +
                       shape_str(shape) + (weights.defined() ? " weighted" : "") + " on " + device.str());
          const Tensor pred = random_tensor(shape, ++seed, -2.0f, 2.0f), target = random_tensor(shape, ++seed);
          const Tensor device_weights = weights.defined() ? weights.to(device) : Tensor();
          Tensor ref_grad = Tensor::empty(shape), grad = poisoned(shape, device);
          const float ref = reference::loss_forward(kind, pred, target, delta, weights);
          reference::loss_backward(kind, pred, target, ref_grad, delta, weights);
          const float value = loss(kind, pred.to(device), target.to(device), delta, device_weights, grad);
          EXPECT_LE(std::abs(value - ref), kLayerOpTolerance * std::abs(ref));
          EXPECT_CLOSE(grad, ref_grad);
        }
      }
    }
  }
}

}  // namespace

void expect_loss_matches_reference(Device device) {
  expect_loss_cases_match_reference(device, 500, [](ops::LossKind kind, const Tensor& pred, const Tensor& target,
                                                    float delta, const Tensor& weights, Tensor& grad) {
    const float value = ops::loss_forward(kind, pred, target, delta, weights);
    ops::loss_backward(kind, pred, target, grad, delta, weights);
    return value;
  });
}

void expect_device_loss_matches_reference(Device device) {
  expect_loss_cases_match_reference(device, 900, [device](ops::LossKind kind, const Tensor& pred, const Tensor& target,
                                                          float delta, const Tensor& weights, Tensor& grad) {
    Tensor state = poisoned({2}, device);
    ops::loss_forward_on_device(kind, pred, target, state, delta, weights);
    ops::loss_backward_on_device(kind, pred, target, state, grad, delta, weights);
    return state.to_vector()[0];
  });
  std::uint64_t seed = 1900;
  {
    SCOPED_TRACE("RMSE of exact predictions on " + device.str());  // loss 0: gradient 0, not NaN
    const Tensor pred = random_tensor({5, 2}, ++seed).to(device);
    Tensor state = poisoned({2}, device), grad = poisoned({5, 2}, device);
    ops::loss_forward_on_device(ops::LossKind::RMSE, pred, pred, state);
    ops::loss_backward_on_device(ops::LossKind::RMSE, pred, pred, state, grad);
    EXPECT_EQ(state.to_vector(), (std::vector<float>{0.0f, 0.0f}));
    EXPECT_EQ(grad.to_vector(), std::vector<float>(10, 0.0f));
  }
  SCOPED_TRACE("accumulate_loss on " + device.str());
  Tensor running = Tensor::from_vector({ops::kRunningLossSize}, {0.0f, 0.0f, 0.0f, -1.0f}).to(device);
  double exact = 0;
  float plain = 0;
  for (int step = 0; step < 1000; ++step) {
    const float value = 0.1f * static_cast<float>(1 + step % 7);
    ops::accumulate_loss(Tensor::from_vector({2}, {value, 0.0f}).to(device), running, step);
    exact += value;
    plain += value;
  }
  std::vector<float> r = running.to_vector();
  // The compensated sum is within 1e-7 of the exact one, a bar a plain float sum misses.
  EXPECT_LE(std::abs(r[0] - exact), 1e-7 * exact) << "sum " << r[0] << " exact " << exact;
  EXPECT_GT(std::abs(plain - exact), 1e-7 * exact) << "the bar no longer tells a compensated sum from a plain one";
  EXPECT_EQ(r[2], 1000.0f);
  EXPECT_EQ(r[3], -1.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  ops::accumulate_loss(Tensor::from_vector({2}, {1.0f, 0.0f}).to(device), running, 1000);
  ops::accumulate_loss(Tensor::from_vector({2}, {inf, 0.0f}).to(device), running, 1001);
  ops::accumulate_loss(Tensor::from_vector({2}, {nan, 0.0f}).to(device), running, 1002);
  r = running.to_vector();
  EXPECT_EQ(r[2], 1003.0f);
  EXPECT_EQ(r[3], 1001.0f);  // the first non-finite step stays
}

void expect_sgd_matches_reference(Device device) {
  struct Setting {
    float lr, momentum, weight_decay;
    bool nesterov;
  };
  const std::vector<Setting> settings = {
      {0.1f, 0.0f, 0.0f, false}, {0.05f, 0.9f, 0.0f, false}, {0.05f, 0.9f, 5e-4f, false}, {0.02f, 0.9f, 1e-2f, true}};
  std::uint64_t seed = 600;
  for (const Shape& shape : std::vector<Shape>{{1}, {3, 3, 1, 1}, {1001}, {64, 3, 7, 7}}) {
    for (const Setting& s : settings) {
      SCOPED_TRACE("param " + shape_str(shape) + " lr " + std::to_string(s.lr) + " momentum " +
                   std::to_string(s.momentum) + " wd " + std::to_string(s.weight_decay) +
                   (s.nesterov ? " nesterov" : "") + " on " + device.str());
      Tensor ref_param = random_tensor(shape, ++seed), ref_buf = Tensor::zeros(shape);
      Tensor param = ref_param.to(device), buf = Tensor::zeros(shape, device);
      for (int step = 0; step < 3; ++step) {  // later steps exercise a non-zero buffer
        const Tensor grad = random_tensor(shape, ++seed);
        reference::sgd_update(ref_param, grad, ref_buf, s.lr, s.momentum, s.weight_decay, s.nesterov);
        ops::sgd_update(param, grad.to(device), buf, s.lr, s.momentum, s.weight_decay, s.nesterov);
      }
      EXPECT_CLOSE(param, ref_param);
      EXPECT_CLOSE(buf, ref_buf);
    }
  }
}

}  // namespace gcnn::test
