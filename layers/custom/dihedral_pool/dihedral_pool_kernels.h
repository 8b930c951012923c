// The dihedral-invariant pooling's own kernels, for the CPU
// (dihedral_pool_cpu.cpp) and CUDA (dihedral_pool.cu). Transform t (0..7) of a
// square S x S plane reads, for output pixel (i, j), the input pixel
// (a, b) = (i, j) with a -> S-1-a if t & 1, b -> S-1-b if t & 2, then (a, b)
// swapped if t & 4: the 8 elements of the dihedral group D4 (rotations by
// multiples of 90 degrees and reflections), t = 0 the identity.
//   expand:      x [N, C, S, S] -> xs [8N, C, S, S], xs[t N + n] = transform t of x[n]
//   fold:        dxs [8N, C, S, S] -> dx [N, C, S, S], the adjoint of expand (sum of
//                the 8 inverse transforms)
//   mean:        h [8N, F] -> y [N, F], y[n] = mean over t of h[t N + n] (summed in
//                float64, so the result does not depend on the order of the 8 terms)
//   mean_grad:   dy [N, F] -> dh [8N, F], dh[t N + n] = dy[n] / 8
#pragma once

#include "kernels/tensor.h"

namespace gcnn::dihedral {

inline constexpr int kTransforms = 8;

namespace cpu {
void expand(const Tensor& x, Tensor& xs);
void fold(const Tensor& dxs, Tensor& dx);
void mean(const Tensor& h, Tensor& y);
void mean_grad(const Tensor& dy, Tensor& dh);
}  // namespace cpu

namespace cuda {
void expand(const Tensor& x, Tensor& xs);
void fold(const Tensor& dxs, Tensor& dx);
void mean(const Tensor& h, Tensor& y);
void mean_grad(const Tensor& dy, Tensor& dh);
}  // namespace cuda

// Shape checks and dispatch by device (dihedral_pool.cpp).
void expand(const Tensor& x, Tensor& xs);
void fold(const Tensor& dxs, Tensor& dx);
void mean(const Tensor& h, Tensor& y);
void mean_grad(const Tensor& dy, Tensor& dh);

}  // namespace gcnn::dihedral
