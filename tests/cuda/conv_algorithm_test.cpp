// The cuDNN algorithm search (kernels/cuda/conv_algorithm.cu) against the
// emulated cudnnFind*AlgorithmEx: the fastest qualifying algorithm wins, the
// workspace limit and the deterministic filter are honoured, tensor-op math
// only where allowed, the search runs once per shape and policy, and the
// convolution op still matches the CPU under every policy.
#define GCNN_CUDA_EMULATION 1
#include "kernels/cuda/conv_algorithm.h"

#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"
#include "kernels/ops/conv.h"
#include "tests/support/test_support.h"

namespace gcnn::cuda {
namespace {

// The search policy for one test, the default restored after.
class PolicyScope {
 public:
  explicit PolicyScope(ConvSearchPolicy policy) : saved_(conv_search_policy()) { set_conv_search_policy(policy); }
  ~PolicyScope() { set_conv_search_policy(saved_); }

 private:
  ConvSearchPolicy saved_;
};

// Descriptors of x [n, 3, 6, 6] * w [4, 3, 3, 3], pad 1 (n makes each test's shape its own), and device buffers.
class Search : public ::testing::Test {
 protected:
  void make(int n, cudnnMathType_t math = CUDNN_FMA_MATH) {
    ASSERT_EQ(cudnnCreateTensorDescriptor(&d.x), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateTensorDescriptor(&d.y), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateFilterDescriptor(&d.w), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateConvolutionDescriptor(&d.conv), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, 3, 6, 6), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 4, 3, 3, 3), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetConvolution2dDescriptor(d.conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetConvolutionMathType(d.conv, math), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, 4, 6, 6), CUDNN_STATUS_SUCCESS);
    d.shape = {0, n, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, CUDNN_DATA_FLOAT, math};
    x = Tensor::zeros({n, 3, 6, 6}, Device::cuda(0));
    w = Tensor::zeros({4, 3, 3, 3}, Device::cuda(0));
    y = Tensor::zeros({n, 4, 6, 6}, Device::cuda(0));
  }
  void TearDown() override {
    cudnnDestroyTensorDescriptor(d.x);
    cudnnDestroyTensorDescriptor(d.y);
    cudnnDestroyFilterDescriptor(d.w);
    cudnnDestroyConvolutionDescriptor(d.conv);
  }
  const ChosenAlgorithm& forward(bool tensor_ops = false) {
    return forward_algorithm(d, x.data<float>(), w.data<float>(), y.data<float>(), tensor_ops);
  }
  const ChosenAlgorithm& backward_data() {
    return backward_data_algorithm(d, w.data<float>(), y.data<float>(), x.data<float>(), false);
  }
  const ChosenAlgorithm& backward_filter() {
    return backward_filter_algorithm(d, x.data<float>(), y.data<float>(), w.data<float>(), false);
  }
  ConvDescriptors d{};
  Tensor x, w, y;
};

// The emulated im2col buffer of one image: C * R * S * OH * OW floats.
constexpr std::size_t kIm2colBytes = 3 * 3 * 3 * 6 * 6 * sizeof(float);

TEST_F(Search, PicksTheFastestAlgorithmThatFitsTheWorkspaceLimit) {
  {
    PolicyScope scope({std::size_t{512} << 20, false});
    make(3);
    const ChosenAlgorithm& chosen = forward();
    EXPECT_EQ(chosen.algo, CUDNN_CONVOLUTION_FWD_ALGO_GEMM);  // the emulation's fastest, with an im2col workspace
    EXPECT_EQ(chosen.workspace, kIm2colBytes);
    EXPECT_GT(chosen.time_ms, 0.0f);
  }
  PolicyScope scope({kIm2colBytes - 1, false});
  const ChosenAlgorithm& capped = forward();
  EXPECT_LE(capped.workspace, kIm2colBytes - 1);
  EXPECT_EQ(capped.algo, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  EXPECT_EQ(capped.math, CUDNN_FMA_MATH);
}

TEST_F(Search, DeterministicKeepsOnlyDeterministicAlgorithms) {
  make(5);
  {
    PolicyScope scope({std::size_t{512} << 20, false});
    EXPECT_EQ(backward_data().algo, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0);      // fastest, uses atomics
    EXPECT_EQ(backward_filter().algo, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3);  // fastest, uses atomics
  }
  PolicyScope scope({std::size_t{512} << 20, true});
  EXPECT_EQ(backward_data().algo, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
  EXPECT_EQ(backward_filter().algo, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
}

TEST_F(Search, TensorOpMathOnlyWhenAllowedAndWrittenBackToTheDescriptor) {
  PolicyScope scope({std::size_t{512} << 20, false});
  make(7, CUDNN_DEFAULT_MATH);
  EXPECT_EQ(forward(false).math, CUDNN_DEFAULT_MATH);
  const ChosenAlgorithm& fast = forward(true);
  EXPECT_EQ(fast.math, CUDNN_TENSOR_OP_MATH);
  use_math_type(d.conv, fast);
  // The descriptor now carries the math type: the emulated forward computes in TF32.
  std::vector<float> ones(static_cast<std::size_t>(x.numel()), 1.0f + 1.0f / 4096);
  x.copy_from(Tensor::from_vector(x.shape(), ones));
  w.fill(1.0f);
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cudnnConvolutionForward(context(0).cudnn, &one, d.x, x.data<float>(), d.w, w.data<float>(), d.conv,
                                    static_cast<cudnnConvolutionFwdAlgo_t>(fast.algo),
                                    conv_workspace(0, fast.workspace), fast.workspace, &zero, d.y, y.data<float>()),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(y.to_vector()[6 * 6 + 7], 27.0f) << "1 + 2^-12 keeps no TF32 mantissa bit: 27 taps of exactly 1";
}

TEST_F(Search, SearchesOncePerShapeAndPolicy) {
  PolicyScope scope({std::size_t{512} << 20, false});
  make(9);
  const std::uint64_t before = emu::algorithm_searches();
  const ChosenAlgorithm& first = forward();
  EXPECT_EQ(emu::algorithm_searches(), before + 1);
  const ChosenAlgorithm& again = forward();
  EXPECT_EQ(emu::algorithm_searches(), before + 1) << "the second call must hit the cache";
  EXPECT_EQ(&first, &again);
  set_conv_search_policy({std::size_t{512} << 20, true});
  forward();
  EXPECT_EQ(emu::algorithm_searches(), before + 2) << "a new policy searches again";
}

TEST_F(Search, SharedWorkspaceGrowsOnDemand) {
  void* small = conv_workspace(0, 64);
  ASSERT_NE(small, nullptr);
  EXPECT_TRUE(emu::is_device_pointer(small));
  EXPECT_EQ(conv_workspace(0, 32), small) << "a smaller request reuses the buffer";
  void* large = conv_workspace(0, std::size_t{1} << 20);
  EXPECT_TRUE(emu::is_device_pointer(static_cast<char*>(large) + (std::size_t{1} << 20) - 1));
  EXPECT_EQ(conv_workspace(0, 0), nullptr);
}

TEST(ConvUnderSearchPolicies, MatchesTheCpu) {
  const Tensor x = test::random_tensor({2, 3, 7, 7}, 11), w = test::random_tensor({5, 3, 3, 3}, 12);
  const ops::Conv2dParams p{1, 1, 1, 1};
  Tensor y_cpu = Tensor::empty({2, 5, 7, 7});
  ops::conv2d_forward(x, w, Tensor(), y_cpu, p);
  for (const ConvSearchPolicy policy :
       {ConvSearchPolicy{std::size_t{512} << 20, false}, ConvSearchPolicy{0, false}, ConvSearchPolicy{64, true}}) {
    PolicyScope scope(policy);
    Tensor y = Tensor::empty({2, 5, 7, 7}, Device::cuda(0));
    ops::conv2d_forward(x.to(Device::cuda(0)), w.to(Device::cuda(0)), Tensor(), y, p);
    EXPECT_LT(test::relative_error(y.to(Device::cpu()), y_cpu), 1e-5)
        << "workspace limit " << policy.workspace_limit << " deterministic " << policy.deterministic;
  }
}

}  // namespace
}  // namespace gcnn::cuda
