// Shared helpers for op tests: seeded random tensors, the relative-error
// measure the accuracy bars are stated in, NaN-poisoned outputs (so an op that
// skips writing an element fails loudly), and central finite differences.
#pragma once

#include <cstdint>
#include <functional>

#include "kernels/tensor.h"

namespace gcnn::test {

// Values drawn uniformly from [lo, hi) by a generator seeded with seed, placed
// on device. The same (shape, seed, lo, hi) always gives the same values.
Tensor random_tensor(const Shape& shape, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f,
                     Device device = Device::cpu());

// ||out - ref|| / ||ref|| in float64 (Euclidean norms), tensors on any device.
// Infinity when any element of out is not finite or the shapes differ; the
// absolute error ||out|| when ref is all zeros.
double relative_error(const Tensor& out, const Tensor& ref);

// A tensor of the given shape filled with quiet NaN.
Tensor poisoned(const Shape& shape, Device device = Device::cpu());

// sum_i y[i] * g[i] in float64: the scalar loss whose gradient wrt y is g.
double weighted_sum(const Tensor& y, const Tensor& g);

// Central finite differences of loss() with respect to every element of the
// CPU tensor param: (loss(p + eps) - loss(p - eps)) / (2 eps), perturbing
// param in place and restoring it. Returns a CPU tensor shaped like param.
Tensor finite_difference_gradient(const std::function<double()>& loss, Tensor& param, double eps = 1e-2);

}  // namespace gcnn::test
