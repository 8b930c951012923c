// cuDNN convolution algorithm search (conv_algorithm.cu): for each
// convolution (every descriptor field) and search policy, the fastest
// algorithm of a direction, measured once by cudnnFind*AlgorithmEx within a
// workspace limit and cached; and the one workspace buffer per device that
// all convolutions share, grown on demand.
#pragma once

#include "kernels/cuda/common.cuh"

#include <cstdint>
#include <tuple>

namespace gcnn::cuda {

// Every field of a convolution's descriptors, plus the device.
struct ConvShape {
  int device;
  int n, c, h, w;  // input
  int k, r, s;     // filter
  int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  int data_type;   // cudnnDataType_t of tensors, filter and computation
  int math_type;   // cudnnMathType_t the descriptor was created with
  auto tie() const {
    return std::tie(device, n, c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, data_type,
                    math_type);
  }
};

// A convolution's descriptors and shape, as the search needs them.
struct ConvDescriptors {
  ConvShape shape;
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
};

// What a search picked for one direction (algo: that direction's cudnn*Algo_t).
struct ChosenAlgorithm {
  int algo = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
  std::size_t workspace = 0;  // bytes
  float time_ms = 0;          // as cuDNN measured it
};

// allow_tensor_ops: whether a tensor-op math type may be chosen (false keeps
// fp32-strict FMA math; precision modes that allow TF32/bf16 pass true).
// Each searches on the first call for its (shape, workspace limit,
// deterministic, allow_tensor_ops) and returns the cached choice after; the
// output buffer (y, dx, dw) is overwritten by the timing runs.
const ChosenAlgorithm& forward_algorithm(const ConvDescriptors& d, const void* x, const void* w, void* y,
                                         bool allow_tensor_ops);
const ChosenAlgorithm& backward_data_algorithm(const ConvDescriptors& d, const void* w, const void* dy, void* dx,
                                               bool allow_tensor_ops);
const ChosenAlgorithm& backward_filter_algorithm(const ConvDescriptors& d, const void* x, const void* dy, void* dw,
                                                 bool allow_tensor_ops);

// Writes the chosen math type into the convolution descriptor, as cuDNN
// requires before computing with an algorithm found under another one.
void use_math_type(cudnnConvolutionDescriptor_t conv, const ChosenAlgorithm& chosen);

// The device's shared convolution workspace, at least bytes (nullptr for 0).
// One stream runs every op, so consecutive users of the buffer are ordered.
void* conv_workspace(int device, std::size_t bytes);

}  // namespace gcnn::cuda
