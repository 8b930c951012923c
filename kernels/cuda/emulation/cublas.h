// CUDA emulation harness: host stand-ins for the cuBLAS calls the backend makes,
// with cuBLAS's names and signatures, computed by plain host loops.
#pragma once

#include "kernels/cuda/emulation/runtime.h"

enum cublasStatus_t {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
};
struct cublasContext;
using cublasHandle_t = cublasContext*;

cublasStatus_t cublasCreate(cublasHandle_t* handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublasGetVersion(cublasHandle_t handle, int* version);
const char* cublasGetStatusString(cublasStatus_t status);

// ---- GEMM, served by kernels/cuda/emulation/cublas_gemm.cpp ----
// Column-major, as cuBLAS: C = alpha op(A) op(B) + beta C with op(A) m x k,
// op(B) k x n, C m x n; C is not read when beta is zero.
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };
cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc);

namespace gcnn::emu {
// Performs the deferred copies of the handle's stream (before a call computes on it).
void run_pending_of(cublasHandle_t handle);
}  // namespace gcnn::emu

// Mixed-precision GEMM (cublasGemmEx), same column-major semantics. Emulated
// combinations: A, B, C all CUDA_R_32F with CUBLAS_COMPUTE_32F (strict FP32)
// or CUBLAS_COMPUTE_32F_FAST_TF32 (A and B truncated to TF32's 10 mantissa
// bits, as tensor cores read them); A, B CUDA_R_16BF and C CUDA_R_32F with
// CUBLAS_COMPUTE_32F. alpha and beta are floats; any other combination is
// CUBLAS_STATUS_NOT_SUPPORTED.
enum cudaDataType_t { CUDA_R_32F = 0, CUDA_R_16BF = 14 };
enum cublasComputeType_t { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 };
enum cublasGemmAlgo_t { CUBLAS_GEMM_DEFAULT = -1 };
cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* A, cudaDataType_t Atype, int lda, const void* B,
                            cudaDataType_t Btype, int ldb, const void* beta, void* C, cudaDataType_t Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t algo);
