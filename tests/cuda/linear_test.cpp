// linear through the CUDA backend (cuBLAS sgemm served by the emulation
// stand-in, bias kernels on emulated threads) against the reference, and the
// stand-in's argument checks.
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/cublas.h"
#include "tests/support/dense_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(EmulatedLinear, MatchesReferenceOnAwkwardShapes) {
  std::uint64_t seed = 700;
  for (const LinearCase& c : awkward_linear_cases()) expect_linear_matches_reference(c, Device::cuda(0), seed += 10);
}

TEST(CublasStandIn, ColumnMajorSemanticsAndArgumentChecks) {
  cublasHandle_t handle = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  // Column-major A (2 x 3) = [1 2 3; 4 5 6] stored as 1 4 2 5 3 6; B (3 x 1) = [1; 1; 1].
  const Tensor a = Tensor::from_vector({6}, {1, 4, 2, 5, 3, 6}, Device::cuda(0));
  const Tensor b = Tensor::from_vector({3}, {1, 1, 1}, Device::cuda(0));
  Tensor c = poisoned({2}, Device::cuda(0));
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 3, &one, a.data<float>(), 2, b.data<float>(), 3, &zero,
                        c.data<float>(), 2),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c.to_vector(), (std::vector<float>{6, 15}));
  // lda smaller than the rows of A, and a host pointer, are rejected.
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 3, &one, a.data<float>(), 1, b.data<float>(), 3, &zero,
                        c.data<float>(), 2),
            CUBLAS_STATUS_INVALID_VALUE);
  const std::vector<float> host(3, 1.0f);
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 3, &one, a.data<float>(), 2, host.data(), 3, &zero,
                        c.data<float>(), 2),
            CUBLAS_STATUS_INVALID_VALUE);
  cublasDestroy(handle);
}

}  // namespace
}  // namespace gcnn::test
