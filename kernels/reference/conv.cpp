// Reference 2-D convolution: the defining sums written as plain loops over
// every output (forward) or every input/weight element (backward), accumulated
// in float64. Slow and obviously correct; tests compare the fast ops to it.
#include "kernels/reference/conv.h"

#include <cstdint>
#include <vector>

#include "kernels/error.h"

namespace gcnn::reference {
namespace {

struct ConvGeometry {
  std::int64_t n, c, h, w, k, r, s, oh, ow;
};

ConvGeometry geometry(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  ConvGeometry g{x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3), 0, 0};
  g.oh = (g.h + 2 * p.pad_h - g.r) / p.stride_h + 1;
  g.ow = (g.w + 2 * p.pad_w - g.s) / p.stride_w + 1;
  return g;
}

// Input row/column read by output position o and kernel offset f, or -1 when it falls in the padding.
inline std::int64_t input_index(std::int64_t o, std::int64_t f, int stride, int pad, std::int64_t size) {
  const std::int64_t i = o * stride - pad + f;
  return i >= 0 && i < size ? i : -1;
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p) {
  const ConvGeometry g = geometry(x, w, p);
  check_shape("reference::conv2d_forward", "y", y, {g.n, g.k, g.oh, g.ow});
  const float* X = x.data<float>();
  const float* W = w.data<float>();
  const float* B = bias.defined() ? bias.data<float>() : nullptr;
  float* Y = y.data<float>();
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t k = 0; k < g.k; ++k)
      for (std::int64_t oh = 0; oh < g.oh; ++oh)
        for (std::int64_t ow = 0; ow < g.ow; ++ow) {
          double sum = B ? B[k] : 0.0;
          for (std::int64_t c = 0; c < g.c; ++c)
            for (std::int64_t r = 0; r < g.r; ++r) {
              const std::int64_t ih = input_index(oh, r, p.stride_h, p.pad_h, g.h);
              if (ih < 0) continue;
              for (std::int64_t s = 0; s < g.s; ++s) {
                const std::int64_t iw = input_index(ow, s, p.stride_w, p.pad_w, g.w);
                if (iw < 0) continue;
                sum += static_cast<double>(X[((n * g.c + c) * g.h + ih) * g.w + iw]) *
                       static_cast<double>(W[((k * g.c + c) * g.r + r) * g.s + s]);
              }
            }
          Y[((n * g.k + k) * g.oh + oh) * g.ow + ow] = static_cast<float>(sum);
        }
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p) {
  const ConvGeometry g = geometry(x, w, p);
  check_shape("reference::conv2d_backward", "dy", dy, {g.n, g.k, g.oh, g.ow});
  const float* X = x.data<float>();
  const float* W = w.data<float>();
  const float* DY = dy.data<float>();
  std::vector<double> gx(dx ? static_cast<std::size_t>(x.numel()) : 0, 0.0);
  std::vector<double> gw(static_cast<std::size_t>(w.numel()), 0.0);
  std::vector<double> gb(static_cast<std::size_t>(g.k), 0.0);
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t k = 0; k < g.k; ++k)
      for (std::int64_t oh = 0; oh < g.oh; ++oh)
        for (std::int64_t ow = 0; ow < g.ow; ++ow) {
          const double grad = DY[((n * g.k + k) * g.oh + oh) * g.ow + ow];
          gb[k] += grad;
          for (std::int64_t c = 0; c < g.c; ++c)
            for (std::int64_t r = 0; r < g.r; ++r) {
              const std::int64_t ih = input_index(oh, r, p.stride_h, p.pad_h, g.h);
              if (ih < 0) continue;
              for (std::int64_t s = 0; s < g.s; ++s) {
                const std::int64_t iw = input_index(ow, s, p.stride_w, p.pad_w, g.w);
                if (iw < 0) continue;
                const std::int64_t xi = ((n * g.c + c) * g.h + ih) * g.w + iw;
                const std::int64_t wi = ((k * g.c + c) * g.r + r) * g.s + s;
                gw[wi] += grad * X[xi];
                if (dx) gx[xi] += grad * W[wi];
              }
            }
        }
  if (dx) {
    float* DX = dx->data<float>();
    for (std::size_t i = 0; i < gx.size(); ++i) DX[i] = static_cast<float>(gx[i]);
  }
  float* DW = dw.data<float>();
  for (std::size_t i = 0; i < gw.size(); ++i) DW[i] = static_cast<float>(gw[i]);
  if (db) {
    float* DB = db->data<float>();
    for (std::size_t i = 0; i < gb.size(); ++i) DB[i] = static_cast<float>(gb[i]);
  }
}

}  // namespace gcnn::reference
