// Per-channel sum on the CPU: channels in parallel, each plane summed with
// lane_sum (eight float lanes folded into a double per plane).
#include "kernels/cpu/reduction.h"

#include <cstdint>

#include "kernels/cpu/lane_sum.h"

namespace gcnn::cpu {

void channel_sum(const Tensor& x, Tensor& out) {
  const std::int64_t n = x.dim(0), c = x.dim(1);
  const std::int64_t plane = c == 0 || n == 0 ? 0 : x.numel() / (n * c);
  const float* in = x.data<float>();
  float* o = out.data<float>();
#pragma omp parallel for schedule(static) if (n * c * plane > 65536)
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double total = 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      const float* p = in + (b * c + ch) * plane;
      total += lane_sum(plane, [p](std::int64_t i) { return p[i]; });
    }
    o[ch] = static_cast<float>(total);
  }
}

}  // namespace gcnn::cpu
