// Host stand-in for cublasSgemm (see cublas.h): cuBLAS's column-major
// semantics and argument checks (CUBLAS_STATUS_INVALID_VALUE for negative
// sizes or leading dimensions too small), device pointers required, C not read
// when beta is zero; computed with float64 accumulation.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/emulation/control.h"
#include "kernels/cuda/emulation/cublas.h"

namespace {
bool on_device(const float* p, std::int64_t rows, std::int64_t cols, int ld) {
  if (rows == 0 || cols == 0) return true;
  if (!p || !gcnn::emu::is_device_pointer(p)) return false;
  return gcnn::emu::is_device_pointer(p + (cols - 1) * static_cast<std::int64_t>(ld) + rows - 1);
}
}  // namespace

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  gcnn::emu::run_pending_of(handle);
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (transa == CUBLAS_OP_C || transb == CUBLAS_OP_C) return CUBLAS_STATUS_INVALID_VALUE;  // complex only
  const bool ta = transa == CUBLAS_OP_T, tb = transb == CUBLAS_OP_T;
  // A is stored as (ta ? k x m : m x k), B as (tb ? n x k : k x n), column-major.
  if (m < 0 || n < 0 || k < 0 || lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) ||
      ldc < std::max(1, m) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (!on_device(A, ta ? k : m, ta ? m : k, lda) || !on_device(B, tb ? n : k, tb ? k : n, ldb) ||
      !on_device(C, m, n, ldc))
    return CUBLAS_STATUS_INVALID_VALUE;
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < m; ++i) {
      double sum = 0.0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double a = ta ? A[i * lda + p] : A[p * lda + i];
        const double b = tb ? B[p * ldb + j] : B[j * ldb + p];
        sum += a * b;
      }
      float& c = C[j * ldc + i];
      c = static_cast<float>(*alpha * sum + (*beta == 0.0f ? 0.0 : static_cast<double>(*beta) * c));
    }
  return CUBLAS_STATUS_SUCCESS;
}
