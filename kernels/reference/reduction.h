// Reference reductions: plain loops with float64 accumulation, for tests only.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::reference {
void channel_sum(const Tensor& x, Tensor& out);
}  // namespace gcnn::reference
