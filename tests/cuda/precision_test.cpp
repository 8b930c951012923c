// Precision modes of the CUDA backend under emulation: the fp32 <-> bf16
// conversion kernels bit-exact against hand-computed patterns and the host
// conversion, cuDNN's bf16 and TF32 convolutions and cuBLAS's bf16 and TF32
// GEMMs through the backend's call sites against the float64 reference within
// the bound of tests/support/precision_checks.cpp, the stand-ins' refusal of
// type combinations the libraries do not document, and `auto` on the device.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/bf16.h"
#include "kernels/cuda/bf16_convert.h"
#include "kernels/cuda/emulation/cublas.h"
#include "kernels/cuda/emulation/cudnn.h"
#include "kernels/cuda/emulation/kernel.h"
#include "kernels/error.h"
#include "tests/support/precision_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {
using cuda::bf16_to_float;
using cuda::to_bf16;

std::uint16_t emulated_intrinsic(float v) { return __float2bfloat16_rn(v).__x; }

TEST(EmulatedBf16, IntrinsicMatchesHandComputedBitPatterns) {
  const std::vector<std::string> wrong = bf16_conversion_mismatches(emulated_intrinsic);
  EXPECT_TRUE(wrong.empty()) << fmt::format("{}", fmt::join(wrong, "\n"));
}

// Bit patterns of a bf16 tensor, read back to the host.
std::vector<std::uint16_t> bf16_bits(const Tensor& t) {
  const Tensor host = t.to(Device::cpu());
  std::vector<std::uint16_t> out(static_cast<std::size_t>(t.numel()));
  std::memcpy(out.data(), host.raw_data(), out.size() * sizeof(std::uint16_t));
  return out;
}

TEST(EmulatedBf16, ConversionKernelsAreBitExact) {
  // The hand-computed cases followed by random values: an odd count, so the
  // last block is partial.
  std::vector<float> values;
  for (const Bf16Case& c : bf16_conversion_cases()) {
    float v;
    std::memcpy(&v, &c.float_bits, sizeof v);
    values.push_back(v);
  }
  const std::vector<float> random = random_tensor({1013}, 7, -300.0f, 300.0f).to_vector();
  values.insert(values.end(), random.begin(), random.end());
  const auto n = static_cast<std::int64_t>(values.size());
  const Tensor src = Tensor::from_vector({n}, values, Device::cuda(0));

  const Tensor converted = to_bf16(src);
  ASSERT_EQ(converted.dtype(), DType::BF16);
  const std::vector<std::uint16_t> bits = bf16_bits(converted);
  for (std::size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(bits[i], float_to_bf16_bits(values[i])) << "element " << i << " = " << values[i];
  for (std::size_t i = 0; i < bf16_conversion_cases().size(); ++i)
    EXPECT_EQ(bits[i], bf16_conversion_cases()[i].bf16_bits) << bf16_conversion_cases()[i].what;

  Tensor widened = poisoned({n}, Device::cuda(0));
  bf16_to_float(converted, widened);
  const std::vector<float> back = widened.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint32_t expected = static_cast<std::uint32_t>(bits[i]) << 16;
    ASSERT_EQ(float_bits(back[i]), expected) << "element " << i;
  }
}

TEST(EmulatedBf16, ConversionRejectsWrongTypes) {
  const Tensor cpu = random_tensor({4}, 1);
  EXPECT_THROW(to_bf16(cpu), Error);
  Tensor f32 = Tensor::empty({4}, Device::cuda(0)), other = Tensor::empty({5}, Device::cuda(0));
  EXPECT_THROW(bf16_to_float(f32, other), Error);
  EXPECT_THROW(bf16_to_float(to_bf16(f32), other), Error);
}

TEST(EmulatedPrecision, AutoIsTf32OnTheEmulatedDevice) {  // compute capability 9.0
  EXPECT_EQ(resolve_precision("auto", Device::cuda(0)), Precision::tf32);
  EXPECT_EQ(resolve_precision("fp32", Device::cuda(0)), Precision::fp32);
  EXPECT_EQ(resolve_precision("bf16", Device::cuda(0)), Precision::bf16);
}

TEST(EmulatedConv2d, Bf16WithinTheBoundOnAwkwardShapes) {
  std::uint64_t seed = 1300;
  for (const ConvCase& c : awkward_conv_cases())
    expect_conv_within_precision_bound(c, Precision::bf16, Device::cuda(0), true, seed += 10);
}

TEST(EmulatedConv2d, Tf32WithinTheBoundOnAwkwardShapes) {
  std::uint64_t seed = 1500;
  for (const ConvCase& c : awkward_conv_cases())
    expect_conv_within_precision_bound(c, Precision::tf32, Device::cuda(0), false, seed += 10);
}

TEST(EmulatedLinear, Bf16AndTf32WithinTheBoundOnAwkwardShapes) {
  std::uint64_t seed = 1700;
  for (Precision precision : {Precision::bf16, Precision::tf32})
    for (const LinearCase& c : awkward_linear_cases())
      expect_linear_within_precision_bound(c, precision, Device::cuda(0), seed += 10);
}

TEST(CudnnStandInTypes, MixedTensorTypesAreNotSupported) {
  cudnnHandle_t handle = nullptr;
  ASSERT_EQ(cudnnCreate(&handle), CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ASSERT_EQ(cudnnCreateTensorDescriptor(&x), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateTensorDescriptor(&y), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateFilterDescriptor(&w), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnCreateConvolutionDescriptor(&conv), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_BFLOAT16, 1, 2, 4, 4), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 3, 2, 3, 3), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_BFLOAT16, 1, 3, 2, 2), CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(cudnnSetConvolution2dDescriptor(conv, 0, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            CUDNN_STATUS_SUCCESS);
  std::size_t bytes = 0;
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                                    &bytes),
            CUDNN_STATUS_NOT_SUPPORTED);  // bf16 input with an FP32 filter
  ASSERT_EQ(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_NCHW, 3, 2, 3, 3), CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(cudnnGetConvolutionForwardWorkspaceSize(handle, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                                    &bytes),
            CUDNN_STATUS_SUCCESS);  // PSEUDO_BFLOAT16
  cudnnDestroyTensorDescriptor(x);
  cudnnDestroyTensorDescriptor(y);
  cudnnDestroyFilterDescriptor(w);
  cudnnDestroyConvolutionDescriptor(conv);
  cudnnDestroy(handle);
}

TEST(CublasStandInTypes, GemmExAcceptsOnlyDocumentedCombinations) {
  cublasHandle_t handle = nullptr;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  const Tensor a = to_bf16(random_tensor({6}, 1, -1, 1, Device::cuda(0)));
  const Tensor b = to_bf16(random_tensor({6}, 2, -1, 1, Device::cuda(0)));
  Tensor c = Tensor::empty({4}, Device::cuda(0));
  const Tensor c16 = to_bf16(c);
  const float one = 1.0f, zero = 0.0f;
  // C (2x2) = A (2x3) B (3x2), bf16 inputs and FP32 output with FP32 compute: documented.
  EXPECT_EQ(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.raw_data(), CUDA_R_16BF, 2, b.raw_data(),
                         CUDA_R_16BF, 3, &zero, c.raw_data(), CUDA_R_32F, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  // bf16 inputs under the TF32 compute type, and a bf16 output: not emulated.
  EXPECT_EQ(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.raw_data(), CUDA_R_16BF, 2, b.raw_data(),
                         CUDA_R_16BF, 3, &zero, c.raw_data(), CUDA_R_32F, 2, CUBLAS_COMPUTE_32F_FAST_TF32,
                         CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a.raw_data(), CUDA_R_16BF, 2, b.raw_data(),
                         CUDA_R_16BF, 3, &zero, c16.raw_data(), CUDA_R_16BF, 2, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  cublasDestroy(handle);
}

}  // namespace
}  // namespace gcnn::test
