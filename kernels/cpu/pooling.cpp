// Pooling on the CPU: planes ([N * C] of them) in parallel (OpenMP). Max
// pooling works one output row at a time, tap by tap across the row
// (row_window_argmax); its backward zeroes a plane of dx and scatters dy to
// each window's first argmax, so no two threads ever write the same plane.
#include "kernels/cpu/pooling.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/lane_sum.h"
#include "kernels/error.h"

namespace gcnn::cpu {
namespace {

// Output row oy's windows are visited tap by tap, (ky, kx) in row-major
// order: for each tap, visit(lo, hi, at) covers the outputs ox in [lo, hi)
// whose tap falls inside the h x w plane, at plane offset at + ox * stride_w.
// The callers' loops over ox are simple enough for the compiler to vectorise.
template <class Visit>
void for_each_tap(std::int64_t h, std::int64_t w, std::int64_t oy, std::int64_t ow, const ops::Pool2dParams& p,
                  Visit visit) {
  for (int ky = 0; ky < p.kernel_h; ++ky) {
    const std::int64_t iy = oy * p.stride_h - p.pad_h + ky;
    if (iy < 0 || iy >= h) continue;
    for (int kx = 0; kx < p.kernel_w; ++kx) {
      // Outputs ox with 0 <= ox * stride - pad + kx < w.
      const std::int64_t shift = p.pad_w - kx;
      const std::int64_t lo = shift > 0 ? (shift + p.stride_w - 1) / p.stride_w : 0;
      const std::int64_t hi = std::min<std::int64_t>(ow, w - 1 + shift < 0 ? 0 : (w - 1 + shift) / p.stride_w + 1);
      visit(static_cast<std::int32_t>(lo), static_cast<std::int32_t>(hi), static_cast<std::int32_t>(iy * w - shift));
    }
  }
}

// best[ox] = the maximum of output row oy's window ox.
void row_window_max(const float* plane, std::int64_t h, std::int64_t w, std::int64_t oy, std::int64_t ow,
                    const ops::Pool2dParams& p, float* best) {
  std::fill(best, best + ow, -std::numeric_limits<float>::infinity());
  const std::int32_t stride = p.stride_w;
  for_each_tap(h, w, oy, ow, p, [=](std::int32_t lo, std::int32_t hi, std::int32_t at) {
    for (std::int32_t ox = lo; ox < hi; ++ox) {
      const float v = plane[at + ox * stride];
      best[ox] = v > best[ox] ? v : best[ox];
    }
  });
}

// where[ox] = the offset in the plane of the first maximum (row-major window
// order: a later tap wins only when strictly greater) of output row oy's window ox.
void row_window_argmax(const float* plane, std::int64_t h, std::int64_t w, std::int64_t oy, std::int64_t ow,
                       const ops::Pool2dParams& p, float* best, std::int32_t* where) {
  std::fill(best, best + ow, -std::numeric_limits<float>::infinity());
  std::fill(where, where + ow, -1);
  const std::int32_t stride = p.stride_w;
  for_each_tap(h, w, oy, ow, p, [=](std::int32_t lo, std::int32_t hi, std::int32_t at) {
    for (std::int32_t ox = lo; ox < hi; ++ox) {
      const std::int32_t offset = at + ox * stride;
      const float v = plane[offset], old_best = best[ox];
      const std::int32_t take = -static_cast<std::int32_t>(v > old_best);  // all ones or zero
      best[ox] = v > old_best ? v : old_best;
      where[ox] = (offset & take) | (where[ox] & ~take);
    }
  });
  // A window of nothing but -inf (or NaN) took no tap: its first tap is the argmax.
  for (std::int32_t ox = 0; ox < ow; ++ox)
    if (where[ox] < 0)
      for_each_tap(h, w, oy, ow, p, [&](std::int32_t lo, std::int32_t hi, std::int32_t at) {
        if (where[ox] < 0 && lo <= ox && ox < hi) where[ox] = at + ox * stride;
      });
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

// Offsets within a plane are 32-bit (they vectorise better).
void check_plane_size(const char* op, const Tensor& x) {
  GCNN_CHECK(x.dim(2) * (x.dim(3) + 1) < std::numeric_limits<std::int32_t>::max(),
             "{}: planes of {} exceed the 32-bit offsets of the CPU kernel", op, x.describe());
}

}  // namespace

void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = y.dim(2), ow = y.dim(3);
  check_plane_size("maxpool2d_forward", x);
  const float* in = x.data<float>();
  float* out = y.data<float>();
#pragma omp parallel for schedule(static) if (planes * oh * ow > 16384)
  for (std::int64_t bc = 0; bc < planes; ++bc)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      row_window_max(in + bc * h * w, h, w, oy, ow, p, out + (bc * oh + oy) * ow);
}

void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
  check_plane_size("maxpool2d_backward", x);
  const float* in = x.data<float>();
  const float* grad = dy.data<float>();
  float* gx = dx.data<float>();
#pragma omp parallel if (planes * oh * ow > 16384)
  {
    std::vector<float> best(static_cast<std::size_t>(ow));
    std::vector<std::int32_t> where(static_cast<std::size_t>(ow));
#pragma omp for schedule(static)
    for (std::int64_t bc = 0; bc < planes; ++bc) {
      float* gplane = gx + bc * h * w;
      std::fill(gplane, gplane + h * w, 0.0f);
      for (std::int64_t oy = 0; oy < oh; ++oy) {
        row_window_argmax(in + bc * h * w, h, w, oy, ow, p, best.data(), where.data());
        const float* g = grad + (bc * oh + oy) * ow;
        for (std::int64_t ox = 0; ox < ow; ++ox) gplane[where[ox]] += g[ox];
      }
    }
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
