// Batch normalisation (public API, any device), for [N, C] (BatchNorm1d) and
// [N, C, H, W] (BatchNorm2d) inputs; statistics are per channel over N and all
// spatial positions, as torch.nn.BatchNorm1d/2d.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// Training mode: normalises x with the batch mean and biased variance,
//   y = (x - mean) * invstd * gamma + beta,   invstd = 1 / sqrt(var + eps),
// saves mean and invstd ([C]) for the backward, and updates the running
// statistics as PyTorch does, with the UNBIASED batch variance:
//   running = (1 - momentum) * running + momentum * batch.
// Needs more than one value per channel (N * H * W > 1).
void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd);

// Inference mode: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y);

// Gradients of the training-mode forward, from the mean and invstd it saved:
//   dbeta = sum dy,  dgamma = sum dy * xhat,  xhat = (x - mean) * invstd,
//   dx = gamma * invstd * (dy - dbeta / M - xhat * dgamma / M),  M = N * H * W.
// Overwrites dx, dgamma and dbeta.
void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta);

// Batch norm followed by a ReLU in one pass over the data, the pair every
// ResNet block runs: y = max(0, batchnorm(x)), with the same saved and running
// statistics as batchnorm_forward_train / _eval.
void batchnorm_relu_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                  Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                                  Tensor& save_invstd);
void batchnorm_relu_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                 const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y);
// The backward of batchnorm_relu_forward_train from its output y: dy is taken
// where y > 0 (0 elsewhere, as relu_backward) and goes through
// batchnorm_backward, without an intermediate tensor.
void relu_batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                             const Tensor& save_invstd, const Tensor& y, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                             Tensor& dbeta);

}  // namespace gcnn::ops
