// The AdamW checks declared in adamw_checks.h: inputs drawn on the CPU, copied
// to the device under test, and compared with the reference update run on the
// CPU copies.
#include "tests/support/adamw_checks.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernels/ops/adamw.h"
#include "kernels/reference/adamw.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

// One set of tensors on the CPU (for the reference) and on the device under test.
struct AdamWCase {
  std::vector<Tensor> ref_param, ref_m, ref_v, param, m, v;
  std::vector<float> lr, weight_decay, grad_scale;
  std::vector<std::int64_t> first_step;
  std::uint64_t seed;

  AdamWCase(const std::vector<Shape>& shapes, Device device, std::uint64_t seed_) : seed(seed_) {
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      ref_param.push_back(random_tensor(shapes[i], ++seed));
      ref_m.push_back(Tensor::zeros(shapes[i]));
      ref_v.push_back(Tensor::zeros(shapes[i]));
      param.push_back(ref_param.back().to(device));
      m.push_back(Tensor::zeros(shapes[i], device));
      v.push_back(Tensor::zeros(shapes[i], device));
      lr.push_back(1e-3f * static_cast<float>(i % 5 + 1));
      weight_decay.push_back(i % 2 ? 0.0f : 0.05f);
      grad_scale.push_back(i % 3 == 1 ? 1e-7f : 1.0f);  // tiny gradients: eps is of the order of sqrt(v)
      first_step.push_back(static_cast<std::int64_t>(1 + 4 * (i % 3)));  // a frozen-then-unfrozen tensor starts late
    }
  }

  // One update of every tensor at the given step (0-based) on both sides.
  void step(int step, Device device, const ops::AdamWBetas& betas) {
    std::vector<Tensor> grads, device_grads;
    std::vector<ops::AdamWTensor> ref_entries, entries;
    for (std::size_t i = 0; i < param.size(); ++i) {
      std::vector<float> g = random_tensor(param[i].shape(), ++seed).to_vector();
      for (float& x : g) x *= grad_scale[i];
      grads.push_back(Tensor::from_vector(param[i].shape(), g));
      device_grads.push_back(grads.back().to(device));
    }
    for (std::size_t i = 0; i < param.size(); ++i) {
      const std::int64_t count = first_step[i] + step;
      ref_entries.push_back({&ref_param[i], &grads[i], &ref_m[i], &ref_v[i], lr[i], weight_decay[i], count});
      entries.push_back({&param[i], &device_grads[i], &m[i], &v[i], lr[i], weight_decay[i], count});
    }
    reference::adamw_update(ref_entries, betas);
    ops::adamw_update(entries, betas);
  }

  void expect_close() const {
    for (std::size_t i = 0; i < param.size(); ++i) {
      SCOPED_TRACE("tensor " + std::to_string(i) + " " + shape_str(param[i].shape()));
      EXPECT_LE(relative_error(param[i], ref_param[i]), kLayerOpTolerance);
      EXPECT_LE(relative_error(m[i], ref_m[i]), kLayerOpTolerance);
      EXPECT_LE(relative_error(v[i], ref_v[i]), kLayerOpTolerance);
    }
  }
};

}  // namespace

void expect_adamw_matches_reference(Device device) {
  const std::vector<Shape> shapes = {{1}, {3, 3, 1, 1}, {1001}, {64, 3, 7, 7}, {5, 7}};
  const std::vector<ops::AdamWBetas> settings = {{0.9, 0.999, 1e-8}, {0.85, 0.99, 1e-6}, {0.0, 0.0, 1e-3}};
  std::uint64_t seed = 700;
  for (const ops::AdamWBetas& betas : settings) {
    SCOPED_TRACE("betas " + std::to_string(betas.beta1) + ", " + std::to_string(betas.beta2) + " eps " +
                 std::to_string(betas.eps) + " on " + device.str());
    AdamWCase c(shapes, device, seed += 100);
    for (int step = 0; step < 3; ++step) c.step(step, device, betas);  // later steps: non-zero moments
    c.expect_close();
  }
}

void expect_adamw_many_tensors_match_reference(Device device, int n_tensors) {
  std::vector<Shape> shapes;
  for (int i = 0; i < n_tensors; ++i) shapes.push_back({1 + (i * 7) % 40});
  AdamWCase c(shapes, device, 900);
  for (int step = 0; step < 2; ++step) c.step(step, device, {0.9, 0.999, 1e-8});
  c.expect_close();
}

}  // namespace gcnn::test
