// Reference batch normalisation: plain loops with float64 accumulation, for
// tests only. Same contract as kernels/ops/batchnorm.h (CPU tensors).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::reference {
void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd);
void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y);
void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta);
// The fused ReLU variants, composed of the ops above and the reference ReLU.
void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                  Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                                  Tensor& save_invstd);
void batchnorm_relu_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                 const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y);
void relu_batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                             const Tensor& save_invstd, const Tensor& y, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                             Tensor& dbeta);
}  // namespace gcnn::reference
