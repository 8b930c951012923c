// Pooling on the CPU: planes ([N * C] of them) in parallel (OpenMP). Max
// pooling clips each window to the image instead of testing every tap; its
// backward zeroes a plane of dx and scatters dy to each window's first argmax,
// so no two threads ever write the same plane.
#include "kernels/cpu/pooling.h"

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/lane_sum.h"

namespace gcnn::cpu {
namespace {

// The window of output (oy, ox) clipped to an h x w plane: rows [y0, y1), cols [x0, x1).
struct Window {
  std::int64_t y0, y1, x0, x1;
};
Window clip_window(std::int64_t oy, std::int64_t ox, std::int64_t h, std::int64_t w, const ops::Pool2dParams& p) {
  const std::int64_t ty = oy * p.stride_h - p.pad_h, tx = ox * p.stride_w - p.pad_w;
  return {std::max<std::int64_t>(ty, 0), std::min<std::int64_t>(ty + p.kernel_h, h), std::max<std::int64_t>(tx, 0),
          std::min<std::int64_t>(tx + p.kernel_w, w)};
}

// Offset in the plane of the window's first maximum (row-major order).
std::int64_t window_argmax(const float* plane, std::int64_t w, const Window& win) {
  std::int64_t best = win.y0 * w + win.x0;
  float best_value = plane[best];
  for (std::int64_t iy = win.y0; iy < win.y1; ++iy)
    for (std::int64_t ix = win.x0; ix < win.x1; ++ix)
      if (plane[iy * w + ix] > best_value) {
        best_value = plane[iy * w + ix];
        best = iy * w + ix;
      }
  return best;
}

// Offset of the first maximum of a plane.
std::int64_t plane_argmax(const float* plane, std::int64_t size) {
  std::int64_t best = 0;
  for (std::int64_t i = 1; i < size; ++i)
    if (plane[i] > plane[best]) best = i;
  return best;
}

// Where plane bc's pooled values live in y: [N, C] for one statistic, [N, 2C]
// (max then average) for both.
struct PooledLayout {
  std::int64_t c;
  bool both;
  std::int64_t max_index(std::int64_t bc) const { return both ? (bc / c) * 2 * c + bc % c : bc; }
  std::int64_t avg_index(std::int64_t bc) const { return both ? (bc / c) * 2 * c + c + bc % c : bc; }
};

}  // namespace

void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
  const float* in = x.data<float>();
  float* out = y.data<float>();
#pragma omp parallel for schedule(static) if (planes * oh * ow > 16384)
  for (std::int64_t bc = 0; bc < planes; ++bc) {
    const float* plane = in + bc * h * w;
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        out[(bc * oh + oy) * ow + ox] = plane[window_argmax(plane, w, clip_window(oy, ox, h, w, p))];
  }
}

void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
  const float* in = x.data<float>();
  const float* grad = dy.data<float>();
  float* gx = dx.data<float>();
#pragma omp parallel for schedule(static) if (planes * oh * ow > 16384)
  for (std::int64_t bc = 0; bc < planes; ++bc) {
    const float* plane = in + bc * h * w;
    float* gplane = gx + bc * h * w;
    std::fill(gplane, gplane + h * w, 0.0f);
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        gplane[window_argmax(plane, w, clip_window(oy, ox, h, w, p))] += grad[(bc * oh + oy) * ow + ox];
  }
}

void global_pool_forward(const Tensor& x, Tensor& y, bool with_max, bool with_avg) {
  const std::int64_t planes = x.dim(0) * x.dim(1), size = x.dim(2) * x.dim(3);
  const PooledLayout layout{x.dim(1), with_max && with_avg};
  const float* in = x.data<float>();
  float* out = y.data<float>();
#pragma omp parallel for schedule(static) if (planes * size > 32768)
  for (std::int64_t bc = 0; bc < planes; ++bc) {
    const float* plane = in + bc * size;
    if (with_max) out[layout.max_index(bc)] = plane[plane_argmax(plane, size)];
    if (with_avg)
      out[layout.avg_index(bc)] =
          static_cast<float>(lane_sum(size, [plane](std::int64_t i) { return plane[i]; }) / static_cast<double>(size));
  }
}

void global_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx, bool with_max, bool with_avg) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), size = dx.dim(2) * dx.dim(3);
  const PooledLayout layout{dx.dim(1), with_max && with_avg};
  const float* grad = dy.data<float>();
  float* gx = dx.data<float>();
#pragma omp parallel for schedule(static) if (planes * size > 32768)
  for (std::int64_t bc = 0; bc < planes; ++bc) {
    float* gplane = gx + bc * size;
    const float spread = with_avg ? grad[layout.avg_index(bc)] / static_cast<float>(size) : 0.0f;
    std::fill(gplane, gplane + size, spread);
    if (with_max) gplane[plane_argmax(x.data<float>() + bc * size, size)] += grad[layout.max_index(bc)];
  }
}

}  // namespace gcnn::cpu
