// Reference pooling: every window scanned in full, sums in double (CPU
// tensors only). Concat pooling is written out separately from its parts.
#include "kernels/reference/pooling.h"

#include <cstddef>

namespace gcnn::reference {
namespace {

// Index in x of the first maximum of output (b, c, oy, ox)'s window.
std::int64_t window_argmax(const Tensor& x, std::int64_t bc, std::int64_t oy, std::int64_t ox,
                           const ops::Pool2dParams& p) {
  const std::int64_t h = x.dim(2), w = x.dim(3);
  std::int64_t best = -1;
  for (int ky = 0; ky < p.kernel_h; ++ky)
    for (int kx = 0; kx < p.kernel_w; ++kx) {
      const std::int64_t iy = oy * p.stride_h - p.pad_h + ky, ix = ox * p.stride_w - p.pad_w + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const std::int64_t i = (bc * h + iy) * w + ix;
      if (best < 0 || x.data<float>()[i] > x.data<float>()[best]) best = i;
    }
  return best;
}

std::int64_t plane_argmax(const float* plane, std::int64_t size) {
  std::int64_t best = 0;
  for (std::int64_t i = 1; i < size; ++i)
    if (plane[i] > plane[best]) best = i;
  return best;
}

double plane_mean(const float* plane, std::int64_t size) {
  double s = 0.0;
  for (std::int64_t i = 0; i < size; ++i) s += plane[i];
  return s / static_cast<double>(size);
}

}  // namespace

void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), oh = y.dim(2), ow = y.dim(3);
  for (std::int64_t bc = 0; bc < planes; ++bc)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        y.data<float>()[(bc * oh + oy) * ow + ox] = x.data<float>()[window_argmax(x, bc, oy, ox, p)];
}

void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), oh = dy.dim(2), ow = dy.dim(3);
  dx.zero();
  for (std::int64_t bc = 0; bc < planes; ++bc)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        dx.data<float>()[window_argmax(x, bc, oy, ox, p)] += dy.data<float>()[(bc * oh + oy) * ow + ox];
}

void global_avgpool_forward(const Tensor& x, Tensor& y) {
  const std::int64_t planes = x.dim(0) * x.dim(1), size = x.dim(2) * x.dim(3);
  for (std::int64_t bc = 0; bc < planes; ++bc)
    y.data<float>()[bc] = static_cast<float>(plane_mean(x.data<float>() + bc * size, size));
}

void global_avgpool_backward(const Tensor& dy, Tensor& dx) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), size = dx.dim(2) * dx.dim(3);
  for (std::int64_t bc = 0; bc < planes; ++bc)
    for (std::int64_t i = 0; i < size; ++i)
      dx.data<float>()[bc * size + i] = static_cast<float>(dy.data<float>()[bc] / static_cast<double>(size));
}

void global_maxpool_forward(const Tensor& x, Tensor& y) {
  const std::int64_t planes = x.dim(0) * x.dim(1), size = x.dim(2) * x.dim(3);
  for (std::int64_t bc = 0; bc < planes; ++bc) {
    const float* plane = x.data<float>() + bc * size;
    y.data<float>()[bc] = plane[plane_argmax(plane, size)];
  }
}

void global_maxpool_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const std::int64_t planes = x.dim(0) * x.dim(1), size = x.dim(2) * x.dim(3);
  dx.zero();
  for (std::int64_t bc = 0; bc < planes; ++bc)
    dx.data<float>()[bc * size + plane_argmax(x.data<float>() + bc * size, size)] = dy.data<float>()[bc];
}

void concat_pool_forward(const Tensor& x, Tensor& y) {
  const std::int64_t n = x.dim(0), c = x.dim(1), size = x.dim(2) * x.dim(3);
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float* plane = x.data<float>() + (b * c + ch) * size;
      y.data<float>()[b * 2 * c + ch] = plane[plane_argmax(plane, size)];
      y.data<float>()[b * 2 * c + c + ch] = static_cast<float>(plane_mean(plane, size));
    }
}

void concat_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const std::int64_t n = x.dim(0), c = x.dim(1), size = x.dim(2) * x.dim(3);
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const std::int64_t bc = b * c + ch;
      const double avg_grad = dy.data<float>()[b * 2 * c + c + ch] / static_cast<double>(size);
      const std::int64_t best = plane_argmax(x.data<float>() + bc * size, size);
      for (std::int64_t i = 0; i < size; ++i)
        dx.data<float>()[bc * size + i] =
            static_cast<float>(avg_grad + (i == best ? dy.data<float>()[b * 2 * c + ch] : 0.0));
    }
}

}  // namespace gcnn::reference
