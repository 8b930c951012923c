// Reductions (public API, any device).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// out[c] = sum over n and all spatial positions of x[n, c, ...]; x is
// [N, C, ...] (2 to 5 dims), out is [C]. The batch-norm statistics and the
// gradients of gamma, beta and conv bias are this reduction.
void channel_sum(const Tensor& x, Tensor& out);

}  // namespace gcnn::ops
