// Mish's kernels (CPU in mish.cpp, CUDA in mish.cu) and the scalar formulas
// both use: y = x * tanh(softplus(x)), dy/dx = t + x (1 - t^2) sigmoid(x) with
// t = tanh(softplus(x)).
#pragma once

#include <math.h>

#include "kernels/host_device.h"
#include "kernels/tensor.h"

namespace gcnn::mish {

// softplus(x) = log(1 + e^x), taken as x above 20 where e^x would dominate in float.
GCNN_HOST_DEVICE inline float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
GCNN_HOST_DEVICE inline float value(float x) { return x * tanhf(softplus(x)); }
GCNN_HOST_DEVICE inline float derivative(float x) {
  const float t = tanhf(softplus(x)), sigmoid = 1.0f / (1.0f + expf(-x));
  return t + x * (1.0f - t * t) * sigmoid;
}

namespace cuda {
void forward(const Tensor& x, Tensor& y);
void backward(const Tensor& x, const Tensor& dy, Tensor& dx);
}  // namespace cuda

}  // namespace gcnn::mish
