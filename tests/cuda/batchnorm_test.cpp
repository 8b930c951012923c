// Batch norm through the CUDA backend under emulation, against the reference:
// the ops-API check, then the fast kernels directly with forced blocks per
// channel (the emulated device's one SM would otherwise pick one part for
// most shapes), float4 and scalar paths, a misaligned view, the fused ReLU
// variants, and the simple kernels kept for the benchmark.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/emulation/control.h"
#include "kernels/reference/activation.h"
#include "kernels/reference/batchnorm.h"
#include "tests/cuda/thread_orders.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

#define EXPECT_CLOSE(out, ref) EXPECT_LE(relative_error(out, ref), kLayerOpTolerance) << #out

TEST(BatchNormCuda, MatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  for_each_thread_order([] { expect_batchnorm_matches_reference(Device::cuda(0)); });
  EXPECT_GT(emu::launch_count(), launches);
}

enum class Kernels { Fast, Simple };

// A CUDA copy of host tensor t whose data starts 4 bytes past a 16-byte
// boundary (a view into a larger allocation), so float4 loads are not allowed.
Tensor misaligned_copy(const Tensor& t) {
  Tensor storage = Tensor::zeros({t.numel() + 1}, Device::cuda(0));
  Tensor view = storage.slice(1, t.numel() + 1).reshape(t.shape());
  view.copy_from(t);
  return view;
}

// Forward train, eval and backward (each with and without the fused ReLU for
// the fast kernels) against the reference ops on x of `shape`.
void expect_kernels_match_reference(const Shape& shape, Kernels kernels, int parts, bool misaligned,
                                    std::uint64_t seed) {
  SCOPED_TRACE("x " + shape_str(shape) + (kernels == Kernels::Fast ? " fast" : " simple") + " parts " +
               std::to_string(parts) + (misaligned ? " misaligned" : ""));
  const Device cuda = Device::cuda(0);
  const std::int64_t c = shape[1];
  const Tensor x = random_tensor(shape, ++seed, -2.0f, 3.0f), dy = random_tensor(shape, ++seed);
  const Tensor gamma = random_tensor({c}, ++seed, 0.5f, 1.5f), beta = random_tensor({c}, ++seed);
  const Tensor rm0 = random_tensor({c}, ++seed), rv0 = random_tensor({c}, ++seed, 0.5f, 2.0f);
  const float momentum = 0.1f, eps = 1e-5f;
  const auto on_device = [&](const Tensor& t) { return misaligned ? misaligned_copy(t) : t.to(cuda); };
  const Tensor xd = on_device(x), dyd = on_device(dy), gd = gamma.to(cuda), bd = beta.to(cuda);
  const cuda::BatchNormLaunch launch{parts};

  Tensor ref_y = Tensor::empty(shape), ref_mean = Tensor::empty({c}), ref_invstd = Tensor::empty({c});
  Tensor ref_rm = rm0.clone(), ref_rv = rv0.clone();
  reference::batchnorm_forward_train(x, gamma, beta, ref_rm, ref_rv, momentum, eps, ref_y, ref_mean, ref_invstd);
  Tensor ref_relu_y = Tensor::empty(shape);
  reference::relu_forward(ref_y, ref_relu_y);
  Tensor ref_eval = Tensor::empty(shape), ref_relu_eval = Tensor::empty(shape);
  reference::batchnorm_forward_eval(x, gamma, beta, rm0, rv0, eps, ref_eval);
  reference::relu_forward(ref_eval, ref_relu_eval);

  for (const bool relu : {false, true}) {
    if (relu && kernels == Kernels::Simple) continue;
    SCOPED_TRACE(relu ? "batchnorm + relu" : "batchnorm");
    Tensor y = on_device(poisoned(shape)), mean = poisoned({c}, cuda), invstd = poisoned({c}, cuda);
    Tensor rm = rm0.to(cuda), rv = rv0.to(cuda);
    if (kernels == Kernels::Fast)
      cuda::batchnorm_forward_train(xd, gd, bd, rm, rv, momentum, eps, y, mean, invstd, relu, launch);
    else cuda::batchnorm_forward_train_simple(xd, gd, bd, rm, rv, momentum, eps, y, mean, invstd);
    EXPECT_CLOSE(y, relu ? ref_relu_y : ref_y);
    EXPECT_CLOSE(mean, ref_mean);
    EXPECT_CLOSE(invstd, ref_invstd);
    EXPECT_CLOSE(rm, ref_rm);
    EXPECT_CLOSE(rv, ref_rv);

    Tensor eval = on_device(poisoned(shape));
    if (kernels == Kernels::Fast)
      cuda::batchnorm_forward_eval(xd, gd, bd, rm0.to(cuda), rv0.to(cuda), eps, eval, relu, launch);
    else cuda::batchnorm_forward_eval_simple(xd, gd, bd, rm0.to(cuda), rv0.to(cuda), eps, eval);
    EXPECT_CLOSE(eval, relu ? ref_relu_eval : ref_eval);

    // Backward of relu(batchnorm(x)): dy masked where the relu output is 0, then batch norm's backward.
    Tensor masked_dy = dy.clone();
    if (relu) reference::relu_backward(ref_relu_y, dy, masked_dy);
    Tensor ref_dx = Tensor::empty(shape), ref_dgamma = Tensor::empty({c}), ref_dbeta = Tensor::empty({c});
    reference::batchnorm_backward(x, gamma, ref_mean, ref_invstd, masked_dy, ref_dx, ref_dgamma, ref_dbeta);
    Tensor dx = on_device(poisoned(shape)), dgamma = poisoned({c}, cuda), dbeta = poisoned({c}, cuda);
    const Tensor relu_out = on_device(ref_relu_y);
    if (kernels == Kernels::Fast)
      cuda::batchnorm_backward(xd, gd, ref_mean.to(cuda), ref_invstd.to(cuda), dyd, dx, dgamma, dbeta,
                               relu ? &relu_out : nullptr, launch);
    else cuda::batchnorm_backward_simple(xd, gd, ref_mean.to(cuda), ref_invstd.to(cuda), dyd, dx, dgamma, dbeta);
    EXPECT_CLOSE(dx, ref_dx);
    EXPECT_CLOSE(dgamma, ref_dgamma);
    EXPECT_CLOSE(dbeta, ref_dbeta);
  }
}

// Awkward shapes: N = 1, 1x1 planes, odd planes, C = 3, planes of 4k floats
// (float4) and of 4k + 2, and [N, C] inputs; each with 1 part, a few parts,
// and more parts than the channel has vectors for (idle threads and blocks).
const std::vector<Shape> kShapes = {{1, 3, 4, 4}, {3, 5, 1, 1}, {2, 3, 5, 7}, {1, 4, 3, 6},
                                    {4, 3, 8, 2}, {7, 6},       {5, 2, 6, 6}, {2, 3, 1, 3}};

TEST(BatchNormCuda, FastKernelsMatchReferenceForAnyBlocksPerChannel) {
  std::uint64_t seed = 7000;
  for (const Shape& shape : kShapes)
    for (int parts : {1, 2, 3, 7})
      for (bool misaligned : {false, true}) expect_kernels_match_reference(shape, Kernels::Fast, parts, misaligned, seed += 10);
}

TEST(BatchNormCuda, FastKernelsPickTheirOwnSplit) {
  std::uint64_t seed = 8000;
  for (const Shape& shape : std::vector<Shape>{{2, 3, 64, 64}, {9, 2, 5, 5}})
    expect_kernels_match_reference(shape, Kernels::Fast, 0, false, seed += 10);
}

TEST(BatchNormCuda, SimpleKernelsStillMatchReference) {
  std::uint64_t seed = 9000;
  for (const Shape& shape : kShapes) expect_kernels_match_reference(shape, Kernels::Simple, 0, false, seed += 10);
}

TEST(BatchNormCuda, StatisticsStayAccurateFarFromZero) {
  // mean 1000, std ~0.3: a plain one-pass sum of squares in float loses the variance entirely.
  const Shape shape{4, 2, 8, 8};
  const std::int64_t c = 2;
  std::vector<float> v = random_tensor(shape, 31).to_vector();
  for (float& e : v) e = 1000.0f + 0.5f * e;
  const Tensor x = Tensor::from_vector(shape, v);
  const Tensor gamma = Tensor::full({c}, 1.0f), beta = Tensor::zeros({c});
  Tensor ref_y = Tensor::empty(shape), ref_mean = Tensor::empty({c}), ref_invstd = Tensor::empty({c});
  Tensor ref_rm = Tensor::zeros({c}), ref_rv = Tensor::full({c}, 1.0f);
  reference::batchnorm_forward_train(x, gamma, beta, ref_rm, ref_rv, 0.1f, 1e-5f, ref_y, ref_mean, ref_invstd);
  const Device cuda = Device::cuda(0);
  Tensor y = poisoned(shape, cuda), mean = poisoned({c}, cuda), invstd = poisoned({c}, cuda);
  Tensor rm = Tensor::zeros({c}, cuda), rv = Tensor::full({c}, 1.0f, cuda);
  cuda::batchnorm_forward_train(x.to(cuda), gamma.to(cuda), beta.to(cuda), rm, rv, 0.1f, 1e-5f, y, mean, invstd,
                                false, cuda::BatchNormLaunch{3});
  EXPECT_LE(relative_error(invstd, ref_invstd), 1e-3);
  EXPECT_LE(relative_error(y, ref_y), 1e-3);
}

}  // namespace
}  // namespace gcnn::test
