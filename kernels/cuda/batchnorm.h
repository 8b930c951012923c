// Batch normalisation on CUDA: the fast kernels (batchnorm.cu), optionally
// fused with the ReLU that follows, and the simple one-block-per-channel
// kernels (batchnorm_simple.cu) kept as the benchmark's yardstick. See
// kernels/ops/batchnorm.h for the contract; shapes are checked by the ops layer.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {

// How the fast kernels split a channel over blocks: 0 picks the count from the
// device's SM count and the channel's size; tests force other counts.
struct BatchNormLaunch {
  int blocks_per_channel = 0;
};

// relu: y = max(0, batchnorm(x)) in the same pass.
void batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                             Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                             Tensor& save_invstd, bool relu = false, BatchNormLaunch launch = {});
void batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, float eps, Tensor& y, bool relu = false,
                            BatchNormLaunch launch = {});
// relu_out non-null: the backward of relu(batchnorm(x)), dy taken where *relu_out > 0 and 0 elsewhere.
void batchnorm_backward(const Tensor& x, const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta, const Tensor* relu_out = nullptr,
                        BatchNormLaunch launch = {});

// The simple kernels: one block of 256 threads per channel, scalar loads.
void batchnorm_forward_train_simple(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                    Tensor& running_var, float momentum, float eps, Tensor& y, Tensor& save_mean,
                                    Tensor& save_invstd);
void batchnorm_forward_eval_simple(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   const Tensor& running_mean, const Tensor& running_var, float eps, Tensor& y);
void batchnorm_backward_simple(const Tensor& x, const Tensor& gamma, const Tensor& save_mean,
                               const Tensor& save_invstd, const Tensor& dy, Tensor& dx, Tensor& dgamma,
                               Tensor& dbeta);

}  // namespace gcnn::cuda
