// The squeeze-and-excitation block's own kernels, for the CPU
// (se_block_cpu.cpp) and CUDA (se_block.cu), on x [N, C, H, W] and the gate
// logits z [N, C] (the output of the block's second FC layer):
//   scale_forward:  y = x * sigmoid(z)                    (per channel)
//   gate_grad:      dz = sigmoid'(z) * sum_hw dy * x
//   input_grad:     dx = dy * sigmoid(z) + dpooled / (H W) (the scale path plus
//                   the global-average-pool path of the squeeze)
#pragma once

#include "kernels/tensor.h"

namespace gcnn::se_block {

namespace cpu {
void scale_forward(const Tensor& x, const Tensor& z, Tensor& y);
void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz);
void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx);
}  // namespace cpu

namespace cuda {
void scale_forward(const Tensor& x, const Tensor& z, Tensor& y);
void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz);
void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx);
}  // namespace cuda

// Shape checks and dispatch by device (se_block.cpp).
void scale_forward(const Tensor& x, const Tensor& z, Tensor& y);
void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz);
void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx);

}  // namespace gcnn::se_block
