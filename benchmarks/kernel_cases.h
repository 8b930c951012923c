// The ops of a ResNet-18/34 training step at 128 px as benchmark cases, for any
// device and batch: every distinct convolution (forward, backward data,
// backward weights), the fastai head's linear layers, batch norm at every
// stage, max pool, concat pool, residual add, ReLU, gradient accumulation,
// dropout, the loss and one SGD step over ResNet-18's parameters (one tensor,
// and ResNet-34's 110 tensors in one multi-tensor call), the fused BN+ReLU,
// ReLU+BN backward and add+ReLU, and on CUDA the simple batch-norm kernels
// beside the fast ones ("batchnorm_*_simple/"). One list
// serves both gcnn_bench (Google Benchmark) and `gcnn bench kernels`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/device.h"
#include "kernels/precision.h"

namespace gcnn::bench {

struct KernelCase {
  std::string name;   // "conv_fwd/l1_3x3_64x32", "batchnorm_backward/32x64x64x64"
  std::string op;     // the ops-API function it times: "conv2d_forward", "batchnorm_backward", ...
  std::string shape;  // operand shape, e.g. "x 32x64x32x32, w 64x64x3x3"
  // Work of one run: flops > 0 marks a compute-bound op (2 per multiply-add),
  // bytes is the minimum traffic (each tensor it must read or write once).
  double flops = 0;
  double bytes = 0;
  // Allocates the operands on the device and returns the function that runs
  // the op once (asynchronously on CUDA: the caller synchronizes).
  std::function<std::function<void()>(Device)> prepare;
  // A CUDA-only variant (the simple kernels kept as the fast ones' yardstick): skipped on the CPU.
  bool cuda_only = false;
};

// A distinct convolution of ResNet-18/34 at 128 px: x [N, c, hw, hw], w [k, c, rs, rs].
struct ConvShape {
  const char* name;
  std::int64_t c, hw, k, rs;
  int stride, pad;
};
const std::vector<ConvShape>& resnet_conv_shapes();

// Every case at `batch` images of 128 px; convolutions and linear layers in
// precision (the other ops are FP32 in every precision).
std::vector<KernelCase> resnet_kernel_cases(std::int64_t batch, Precision precision = Precision::fp32);

// Waits until the device has finished its queued work (no-op on the CPU).
void synchronize(Device device);

}  // namespace gcnn::bench
