// conv2d through the CUDA backend (cuDNN call sites served by the emulation
// stand-ins) against the reference, and the stand-ins' rejection of the misuse
// the real cuDNN rejects, so a wrong call site in conv.cu fails here.
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/cudnn.h"
#include "kernels/tensor.h"
#include "tests/support/dense_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(EmulatedConv2d, MatchesReferenceOnAwkwardShapes) {
  std::uint64_t seed = 300;
  for (const ConvCase& c : awkward_conv_cases()) expect_conv_matches_reference(c, Device::cuda(0), seed += 10);
}

TEST(EmulatedConv2d, RepeatedShapeReusesPlanWithFreshInputs) {
  const ConvCase c = awkward_conv_cases()[4];
  expect_conv_matches_reference(c, Device::cuda(0), 1);
  expect_conv_matches_reference(c, Device::cuda(0), 2);
}

TEST(EmulatedConv2d, EmptyBatch) { expect_empty_batch_gives_zero_gradients(Device::cuda(0)); }

// Descriptors for x [2,3,5,5] * w [4,3,3,3], pad 1 -> y [2,4,5,5], and device buffers for them.
class CudnnStandIn : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cudnnCreate(&handle), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateTensorDescriptor(&x_desc), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateTensorDescriptor(&y_desc), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateFilterDescriptor(&w_desc), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnCreateConvolutionDescriptor(&conv_desc), CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetTensor4dDescriptor(x_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 3, 5, 5),
              CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetFilter4dDescriptor(w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 4, 3, 3, 3),
              CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetConvolution2dDescriptor(conv_desc, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              CUDNN_STATUS_SUCCESS);
    ASSERT_EQ(cudnnSetTensor4dDescriptor(y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 4, 5, 5),
              CUDNN_STATUS_SUCCESS);
  }
  void TearDown() override {
    cudnnDestroyTensorDescriptor(x_desc);
    cudnnDestroyTensorDescriptor(y_desc);
    cudnnDestroyFilterDescriptor(w_desc);
    cudnnDestroyConvolutionDescriptor(conv_desc);
    cudnnDestroy(handle);
  }
  cudnnStatus_t forward(cudnnConvolutionFwdAlgo_t algo, void* workspace, std::size_t bytes, const void* x_ptr) {
    return cudnnConvolutionForward(handle, &one, x_desc, x_ptr, w_desc, w.data<float>(), conv_desc, algo, workspace,
                                   bytes, &zero, y_desc, y.data<float>());
  }

  cudnnHandle_t handle = nullptr;
  cudnnTensorDescriptor_t x_desc = nullptr, y_desc = nullptr;
  cudnnFilterDescriptor_t w_desc = nullptr;
  cudnnConvolutionDescriptor_t conv_desc = nullptr;
  const float one = 1.0f, zero = 0.0f;
  Tensor x = random_tensor({2, 3, 5, 5}, 1, -1, 1, Device::cuda(0));
  Tensor w = random_tensor({4, 3, 3, 3}, 2, -1, 1, Device::cuda(0));
  Tensor y = Tensor::empty({2, 4, 5, 5}, Device::cuda(0));
};

TEST_F(CudnnStandIn, RejectsUnsupportedDescriptors) {
  cudnnTensorDescriptor_t t = nullptr;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&t), CUDNN_STATUS_SUCCESS);
  EXPECT_NE(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, 1, 1, 1), CUDNN_STATUS_SUCCESS);
  EXPECT_NE(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 1, 1, 1, 1), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 0, 1, 1, 1), CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyTensorDescriptor(t);
  EXPECT_EQ(cudnnSetConvolution2dDescriptor(conv_desc, -1, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            CUDNN_STATUS_BAD_PARAM);
}

TEST_F(CudnnStandIn, WorkspaceMustCoverTheAlgorithm) {
  std::size_t needed = 0;
  ASSERT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle, x_desc, w_desc, conv_desc, y_desc,
                                                    CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &needed),
            CUDNN_STATUS_SUCCESS);
  ASSERT_GT(needed, 0u);
  Tensor ws = Tensor::empty({static_cast<std::int64_t>(needed / sizeof(float))}, Device::cuda(0));
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, nullptr, 0, x.data<float>()), CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws.data<float>(), needed - 4, x.data<float>()),
            CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ws.data<float>(), needed, x.data<float>()), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, x.data<float>()), CUDNN_STATUS_SUCCESS);
}

TEST_F(CudnnStandIn, RejectsHostPointersAndMismatchedShapes) {
  const std::vector<float> host(2 * 3 * 5 * 5, 1.0f);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, host.data()), CUDNN_STATUS_BAD_PARAM);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, nullptr), CUDNN_STATUS_BAD_PARAM);
  ASSERT_EQ(cudnnSetTensor4dDescriptor(y_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 2, 4, 4, 4), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, x.data<float>()), CUDNN_STATUS_BAD_PARAM);
}

TEST_F(CudnnStandIn, HeuristicsOfferATensorOpCandidateFirst) {
  // The backend must skip it (TF32 would miss the 1e-4 bar); the emulation
  // offers it first so that the skipping is exercised by every conv test.
  cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int count = 0;
  ASSERT_EQ(cudnnGetConvolutionForwardAlgorithm_v7(handle, x_desc, w_desc, conv_desc, y_desc,
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, results),
            CUDNN_STATUS_SUCCESS);
  ASSERT_GE(count, 3);
  EXPECT_EQ(results[0].mathType, CUDNN_TENSOR_OP_MATH);
  EXPECT_EQ(results[2].status, CUDNN_STATUS_NOT_SUPPORTED);
}

TEST_F(CudnnStandIn, BetaBlendsAndZeroBetaIgnoresNaN) {
  Tensor ref = Tensor::empty({2, 4, 5, 5}, Device::cuda(0));
  ASSERT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, x.data<float>()), CUDNN_STATUS_SUCCESS);
  ref.copy_from(y);
  const float two = 2.0f;
  // y = 1 * conv + 2 * y = 3 * conv
  ASSERT_EQ(cudnnConvolutionForward(handle, &one, x_desc, x.data<float>(), w_desc, w.data<float>(), conv_desc,
                                    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &two, y_desc,
                                    y.data<float>()),
            CUDNN_STATUS_SUCCESS);
  const std::vector<float> r = ref.to_vector(), v = y.to_vector();
  for (std::size_t i = 0; i < r.size(); ++i) ASSERT_NEAR(v[i], 3.0f * r[i], 1e-5f * (1.0f + std::abs(r[i])));
  y.copy_from(poisoned({2, 4, 5, 5}, Device::cuda(0)));
  ASSERT_EQ(forward(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, x.data<float>()), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(relative_error(y, ref), 0.0);
}

}  // namespace
}  // namespace gcnn::test
