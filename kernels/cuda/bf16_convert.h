// FP32 <-> bf16 conversion of whole CUDA tensors (see bf16_convert.cu): how
// precision bf16 feeds cuDNN and cuBLAS bf16 operands from our FP32 tensors.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {

// A new bf16 tensor of src's shape on src's device: src (FP32) rounded to
// nearest even, as __float2bfloat16_rn.
Tensor to_bf16(const Tensor& src);
// dst (FP32, same numel and device) = src (bf16) widened exactly.
void bf16_to_float(const Tensor& src, Tensor& dst);

}  // namespace gcnn::cuda
