// Checks shared by the CPU, emulated-CUDA and real-GPU tests of the dense ops
// (conv2d, linear): the awkward shapes every backend must handle, and one
// function per op that runs it on a device with NaN-poisoned outputs and
// compares every output with the reference ops (gtest expectations inside).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/conv.h"

namespace gcnn::test {

// Relative error bar of the fp32 ops against the float64 reference.
constexpr double kDenseTolerance = 1e-4;

struct ConvCase {
  std::string name;
  Shape x, w;  // [N, C, H, W], [K, C, R, S]
  ops::Conv2dParams params;
};
// Batch 1, 1x1 spatial, odd channels, stride 2 with padding, the 7x7/2 pad 3
// stem, 1x1/2 projections (even and odd sizes), 3x3 pad 1, non-square kernels
// and strides, a kernel as large as the input.
std::vector<ConvCase> awkward_conv_cases();

// conv2d forward (with and without bias) and backward (all outputs, then dw
// alone) on device against the reference; inputs drawn from seed.
void expect_conv_matches_reference(const ConvCase& c, Device device, std::uint64_t seed);

struct LinearCase {
  std::int64_t batch, in, out;
};
std::vector<LinearCase> awkward_linear_cases();
void expect_linear_matches_reference(const LinearCase& c, Device device, std::uint64_t seed);

// An empty batch: forward leaves y (empty) alone, backward zeroes dw and db.
void expect_empty_batch_gives_zero_gradients(Device device);

}  // namespace gcnn::test
