// Per-channel sum on the CPU: channels in parallel, each plane summed with
// eight float lanes (vectorisable) folded into a double per plane.
#include "kernels/cpu/reduction.h"

#include <cstdint>

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
      float lanes[8] = {};
      std::int64_t i = 0;
      for (; i + 8 <= plane; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += p[i + l];
      double s = 0.0;
      for (; i < plane; ++i) s += p[i];
      for (float l : lanes) s += l;
      total += s;
    }
    o[ch] = static_cast<float>(total);
  }
}

}  // namespace gcnn::cpu
