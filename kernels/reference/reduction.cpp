// Reference per-channel sum, accumulated in double (CPU tensors only).
#include "kernels/reference/reduction.h"

namespace gcnn::reference {

void channel_sum(const Tensor& x, Tensor& out) {
  const std::int64_t n = x.dim(0), c = x.dim(1);
  const std::int64_t plane = n * c == 0 ? 0 : x.numel() / (n * c);
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double s = 0.0;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t p = 0; p < plane; ++p) s += x.data<float>()[(b * c + ch) * plane + p];
    out.data<float>()[ch] = static_cast<float>(s);
  }
}

}  // namespace gcnn::reference
