// Host stand-ins for cublasSgemm and cublasGemmEx (see cublas.h): cuBLAS's
// column-major semantics and argument checks (CUBLAS_STATUS_INVALID_VALUE for
// negative sizes or leading dimensions too small), device pointers required, C
// not read when beta is zero; computed with float64 accumulation, from
// operands read as the GPU's tensor cores would read them.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/bf16.h"
#include "kernels/cuda/emulation/control.h"
#include "kernels/cuda/emulation/cublas.h"

namespace {
std::int64_t element_bytes(cudaDataType_t type) { return type == CUDA_R_16BF ? 2 : 4; }

bool on_device(const void* p, std::int64_t rows, std::int64_t cols, int ld, cudaDataType_t type) {
  if (rows == 0 || cols == 0) return true;
  if (!p || !gcnn::emu::is_device_pointer(p)) return false;
  const std::int64_t last = (cols - 1) * static_cast<std::int64_t>(ld) + rows - 1;
  return gcnn::emu::is_device_pointer(static_cast<const char*>(p) + (last + 1) * element_bytes(type) - 1);
}

// v as a TF32 tensor core reads it: 10 of FP32's 23 mantissa bits kept.
float tf32_truncate(float v) {
  const std::uint32_t bits = gcnn::float_bits(v) & 0xffffe000u;
  float r;
  std::memcpy(&r, &bits, sizeof r);
  return r;
}

// An operand's element as the multiplier sees it.
struct Operand {
  const void* data;
  cudaDataType_t type;
  bool tf32;
  double operator()(std::int64_t i) const {
    if (type == CUDA_R_16BF) return gcnn::bf16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
    const float v = static_cast<const float*>(data)[i];
    return tf32 ? tf32_truncate(v) : v;
  }
};

cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                    const float* alpha, const Operand& A, int lda, const Operand& B, int ldb, const float* beta,
                    float* C, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  gcnn::emu::run_pending_of(handle);
  if (transa == CUBLAS_OP_C || transb == CUBLAS_OP_C) return CUBLAS_STATUS_INVALID_VALUE;  // complex only
  const bool ta = transa == CUBLAS_OP_T, tb = transb == CUBLAS_OP_T;
  // A is stored as (ta ? k x m : m x k), B as (tb ? n x k : k x n), column-major.
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) ||
      ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (!on_device(A.data, ta ? k : m, ta ? m : k, lda, A.type) ||
      !on_device(B.data, tb ? n : k, tb ? k : n, ldb, B.type) || !on_device(C, m, n, ldc, CUDA_R_32F))
    return CUBLAS_STATUS_INVALID_VALUE;
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < m; ++i) {
      double sum = 0.0;
      for (std::int64_t p = 0; p < k; ++p)
        sum += A(ta ? i * lda + p : p * lda + i) * B(tb ? p * ldb + j : j * ldb + p);
      float& c = C[j * ldc + i];
      c = static_cast<float>(*alpha * sum + (*beta == 0.0f ? 0.0 : static_cast<double>(*beta) * c));
    }
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, {A, CUDA_R_32F, false}, lda, {B, CUDA_R_32F, false}, ldb, beta,
              C, ldc);
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* A, cudaDataType_t Atype, int lda, const void* B,
                            cudaDataType_t Btype, int ldb, const void* beta, void* C, cudaDataType_t Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
  if (algo != CUBLAS_GEMM_DEFAULT || Atype != Btype || Ctype != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool fp32 = Atype == CUDA_R_32F &&
                    (computeType == CUBLAS_COMPUTE_32F || computeType == CUBLAS_COMPUTE_32F_FAST_TF32);
  const bool bf16 = Atype == CUDA_R_16BF && computeType == CUBLAS_COMPUTE_32F;
  if (!fp32 && !bf16) return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool tf32 = computeType == CUBLAS_COMPUTE_32F_FAST_TF32;
  return gemm(handle, transa, transb, m, n, k, static_cast<const float*>(alpha), {A, Atype, tf32}, lda,
              {B, Btype, tf32}, ldb, static_cast<const float*>(beta), static_cast<float*>(C), ldc);
}
