// The fused SGD update through the CUDA backend under emulation: against the
// reference, and the multi-tensor launch bit-identical to one launch per tensor.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cuda/emulation/control.h"
#include "kernels/cuda/sgd.h"
#include "kernels/ops/sgd.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(SgdCuda, MatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  expect_sgd_matches_reference(Device::cuda(0));
  EXPECT_GT(emu::launch_count(), launches);
}

// Tensors of awkward sizes (1, chunk boundaries 4095/4096/4097, an empty one,
// a large one spanning chunks), each with its own lr and weight decay.
TEST(SgdCuda, MultiTensorLaunchIsBitIdenticalToPerTensorLaunches) {
  const Device cuda = Device::cuda(0);
  const std::vector<Shape> shapes = {{1}, {4095}, {0}, {4096}, {3, 3, 1, 1}, {4097}, {64, 3, 7, 7}, {5}};
  for (const bool nesterov : {false, true}) {
    SCOPED_TRACE(nesterov ? "nesterov" : "plain momentum");
    std::vector<Tensor> params, bufs, ref_params, ref_bufs;
    std::uint64_t seed = 900;
    for (const Shape& s : shapes) {
      params.push_back(random_tensor(s, ++seed, -1.0f, 1.0f, cuda));
      bufs.push_back(Tensor::zeros(s, cuda));
      ref_params.push_back(params.back().clone());
      ref_bufs.push_back(Tensor::zeros(s, cuda));
    }
    for (int step = 0; step < 3; ++step) {  // later steps exercise a non-zero buffer
      std::vector<Tensor> grads;
      std::vector<ops::SgdTensor> update;
      for (std::size_t i = 0; i < shapes.size(); ++i) grads.push_back(random_tensor(shapes[i], ++seed, -1.0f, 1.0f, cuda));
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        const float lr = 0.01f * static_cast<float>(i + 1) + 0.001f * step, wd = i % 2 ? 5e-4f : 0.0f;
        update.push_back({&params[i], &grads[i], &bufs[i], lr, wd});
        cuda::sgd_update(ref_params[i], grads[i], ref_bufs[i], lr, 0.9f, wd, nesterov);
      }
      const std::uint64_t launches = emu::launch_count();
      ops::sgd_update(update, 0.9f, nesterov);
      EXPECT_EQ(emu::launch_count(), launches + 1) << "one launch for all tensors";
    }
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      SCOPED_TRACE("tensor " + shape_str(shapes[i]));
      EXPECT_EQ(params[i].to_vector(), ref_params[i].to_vector());
      EXPECT_EQ(bufs[i].to_vector(), ref_bufs[i].to_vector());
      if (params[i].numel() > 0) {
        EXPECT_NE(params[i].to_vector(), random_tensor(shapes[i], 901 + i).to_vector()) << "not updated";
      }
    }
  }
}

TEST(SgdCuda, MultiTensorUpdateSpansSeveralLaunchesPastTheTableLimit) {
  // 300 tensors: more than one launch's worth of per-tensor scalars.
  const Device cuda = Device::cuda(0);
  std::vector<Tensor> params, grads, bufs, ref_params, ref_bufs;
  std::vector<ops::SgdTensor> update;
  for (int i = 0; i < 300; ++i) {
    const Shape s{1 + i % 7};
    params.push_back(random_tensor(s, 2000 + i, -1.0f, 1.0f, cuda));
    grads.push_back(random_tensor(s, 3000 + i, -1.0f, 1.0f, cuda));
    bufs.push_back(Tensor::zeros(s, cuda));
    ref_params.push_back(params.back().clone());
    ref_bufs.push_back(Tensor::zeros(s, cuda));
  }
  for (int i = 0; i < 300; ++i) {
    update.push_back({&params[i], &grads[i], &bufs[i], 0.001f * static_cast<float>(i), 1e-3f});
    cuda::sgd_update(ref_params[i], grads[i], ref_bufs[i], 0.001f * static_cast<float>(i), 0.5f, 1e-3f, false);
  }
  ops::sgd_update(update, 0.5f, false);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(params[i].to_vector(), ref_params[i].to_vector()) << "tensor " << i;
    EXPECT_EQ(bufs[i].to_vector(), ref_bufs[i].to_vector()) << "tensor " << i;
  }
}

}  // namespace
}  // namespace gcnn::test
