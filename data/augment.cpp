// CPU augmentation: dihedral transforms, random warps, and their application.
#include "data/augment.h"

#include <cmath>

#include "data/random.h"
#include "kernels/cpu/augment.h"
#include "kernels/error.h"

namespace gcnn {

Image dihedral(const Image& image, int k) {
  GCNN_CHECK(k >= 0 && k < 8, "dihedral: transform {} not in 0..7", k);
  GCNN_CHECK(k % 2 == 0 || image.width == image.height, "dihedral: transform {} needs a square image, got {}x{}",
             k, image.width, image.height);
  const int w = image.width, h = image.height;
  Image out(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // Source pixel of the quarter turns (counter-clockwise: out(y, x) = in(x, W-1-y)) ...
      int sy = y, sx = x;
      switch (k & 3) {
        case 1: sy = x, sx = w - 1 - y; break;
        case 2: sy = h - 1 - y, sx = w - 1 - x; break;
        case 3: sy = w - 1 - x, sx = y; break;
        default: break;
      }
      // ... then of the mirror before them.
      if (k >= 4) sx = w - 1 - sx;
      for (int c = 0; c < 3; ++c) out.at(y, x, c) = image.at(sy, sx, c);
    }
  return out;
}

void dihedral_matrix(int k, float out[4]) {
  GCNN_CHECK(k >= 0 && k < 8, "dihedral: transform {} not in 0..7", k);
  // Source offset = F^f * R^r * output offset, where a counter-clockwise turn
  // reads (u, v) from (-v, u) and the mirror reads (-u, v); offsets are (u, v)
  // = (x - centre, y - centre).
  float a = 1, b = 0, c = 0, d = 1;  // accumulated matrix
  for (int r = 0; r < (k & 3); ++r) {
    // M <- R * M with R = [[0, -1], [1, 0]].
    float na = -c, nb = -d, nc = a, nd = b;
    a = na, b = nb, c = nc, d = nd;
  }
  if (k >= 4) a = -a, b = -b;  // M <- F * M with F = [[-1, 0], [0, 1]]
  out[0] = a, out[1] = b, out[2] = c, out[3] = d;
}

namespace {
// Builds the warp: source = c_in + shift + scale * L * (output - c_out).
Warp make_warp(const float linear[4], float scale, float shift_x, float shift_y, int in_size, int out_size) {
  const float c_in = (static_cast<float>(in_size) - 1) / 2, c_out = (static_cast<float>(out_size) - 1) / 2;
  Warp w;
  w.m[0] = scale * linear[0];
  w.m[1] = scale * linear[1];
  w.m[3] = scale * linear[2];
  w.m[4] = scale * linear[3];
  w.m[2] = c_in + shift_x - (w.m[0] + w.m[1]) * c_out;
  w.m[5] = c_in + shift_y - (w.m[3] + w.m[4]) * c_out;
  return w;
}
}  // namespace

Warp resize_warp(int in_size, int out_size) { return dihedral_warp(0, in_size, out_size); }

Warp dihedral_warp(int k, int in_size, int out_size) {
  float m[4];
  dihedral_matrix(k, m);
  return make_warp(m, static_cast<float>(in_size) / static_cast<float>(out_size), 0, 0, in_size, out_size);
}

Warp draw_warp(const AugmentOptions& options, std::uint64_t seed, std::uint64_t epoch, std::uint64_t index,
               int in_size, int out_size) {
  GCNN_CHECK(options.max_zoom >= 1, "augment: max_zoom {} must be at least 1", options.max_zoom);
  GCNN_CHECK(options.brightness >= 0 && options.brightness < 1, "augment: brightness {} must be in [0, 1)",
             options.brightness);
  Rng rng(mix_seed({seed, epoch, index, 0xA06}));
  float d[4];
  dihedral_matrix(options.dihedral ? static_cast<int>(rng.below(8)) : 0, d);
  const double angle = options.max_rotate_deg * (2 * rng.uniform() - 1) * 3.14159265358979323846 / 180;
  const float cs = static_cast<float>(std::cos(angle)), sn = static_cast<float>(std::sin(angle));
  // L = D * Rot(angle).
  const float linear[4] = {d[0] * cs + d[1] * sn, -d[0] * sn + d[1] * cs, d[2] * cs + d[3] * sn,
                           -d[2] * sn + d[3] * cs};
  const double zoom = 1 + (options.max_zoom - 1) * rng.uniform();
  // The zoomed window may move within the image; its centre is drawn from a
  // triangular distribution (mean of two uniforms), so central crops are likelier.
  const double room = (in_size - in_size / zoom) / 2;
  const double shift_x = room * (rng.uniform() + rng.uniform() - 1), shift_y = room * (rng.uniform() + rng.uniform() - 1);
  Warp w = make_warp(linear, static_cast<float>(in_size / zoom / out_size), static_cast<float>(shift_x),
                     static_cast<float>(shift_y), in_size, out_size);
  w.brightness = static_cast<float>(1 + options.brightness * (2 * rng.uniform() - 1));
  return w;
}

void warp_image(const std::uint8_t* src, int in_size, const Warp& warp, const Normalization& norm, float* dst,
                int out_size) {
  cpu::warp_image(src, in_size, warp, norm, dst, out_size);
}

Tensor dihedral_batch(const Tensor& images, int k) {
  GCNN_CHECK(k >= 0 && k < 8, "dihedral_batch: transform {} not in 0..7", k);
  GCNN_CHECK(images.ndim() == 4 && images.device().is_cpu(), "dihedral_batch: expected a CPU [B, C, H, W] tensor, got {}",
             images.describe());
  const std::int64_t b = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  GCNN_CHECK(k % 2 == 0 || h == w, "dihedral_batch: transform {} needs square images, got {}", k, images.describe());
  Tensor out = Tensor::empty(images.shape());
  const float* in = images.data<float>();
  float* o = out.data<float>();
  float m[4];
  dihedral_matrix(k, m);
  const float cx = (static_cast<float>(w) - 1) / 2, cy = (static_cast<float>(h) - 1) / 2;
  for (std::int64_t y = 0; y < h; ++y)
    for (std::int64_t x = 0; x < w; ++x) {
      const float u = static_cast<float>(x) - cx, v = static_cast<float>(y) - cy;
      const auto sx = static_cast<std::int64_t>(std::lround(cx + m[0] * u + m[1] * v));
      const auto sy = static_cast<std::int64_t>(std::lround(cy + m[2] * u + m[3] * v));
      for (std::int64_t p = 0; p < b * c; ++p) o[(p * h + y) * w + x] = in[(p * h + sy) * w + sx];
    }
  return out;
}

}  // namespace gcnn
