// Batch normalisation on the CPU (OpenMP), optionally fused with the ReLU that
// follows; see kernels/ops/batchnorm.h for the contract. Shapes are checked by
// the ops layer.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cpu {
void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd, bool relu = false);
void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y, bool relu = false);
void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor* relu_out = nullptr);
}  // namespace gcnn::cpu
