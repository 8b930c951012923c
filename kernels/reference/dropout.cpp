// Reference dropout: keep element i when its uniform draw is >= p, scaled by
// 1 / (1 - p) (CPU tensors only).
#include "kernels/reference/dropout.h"

#include "kernels/ops/dropout.h"

namespace gcnn::reference {

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y) {
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const bool keep = p < 1.0f && ops::dropout_uniform(seed, static_cast<std::uint64_t>(i)) >= p;
    mask.data<float>()[i] = keep ? 1.0f / (1.0f - p) : 0.0f;
    y.data<float>()[i] = x.data<float>()[i] * mask.data<float>()[i];
  }
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  for (std::int64_t i = 0; i < dy.numel(); ++i) dx.data<float>()[i] = dy.data<float>()[i] * mask.data<float>()[i];
}

}  // namespace gcnn::reference
