// Data augmentation on the CPU: the 8 dihedral transforms (galaxies have no
// preferred orientation), random zoom up to max_zoom with a centre-biased crop,
// a small random rotation with reflection padding and an optional brightness
// jitter, drawn deterministically from (seed, epoch, index) and applied as one
// affine warp (kernels/warp.h) that also converts to normalised float CHW. The
// CUDA path (kernels/cuda/augment.h) applies the same Warp on the device.
// Test-time augmentation uses the same dihedral group (dihedral_batch).
#pragma once

#include <cstdint>

#include "data/image.h"
#include "data/normalize.h"
#include "kernels/warp.h"
#include "kernels/tensor.h"

namespace gcnn {

struct AugmentOptions {
  bool dihedral = true;         // one of the 8 flips/rotations, uniformly
  float max_zoom = 1.1f;        // zoom factor ~ U(1, max_zoom) (fastai max_zoom); 1: off
  float max_rotate_deg = 10.0f;  // rotation ~ U(-max, max) degrees (fastai max_rotate); 0: off
  float brightness = 0.0f;      // factor ~ U(1 - b, 1 + b); 0 (default): off
};

// Dihedral transform k in 0..7: k & 3 quarter turns counter-clockwise, applied
// after a left-right mirror when k >= 4. k = 0 is the identity:
//   k=1: out(y, x) = in(x, W-1-y)     k=4: out(y, x) = in(y, W-1-x)
// Square images only for odd quarter turns.
Image dihedral(const Image& image, int k);

// The 2x2 matrix taking centred output offsets to centred source offsets for
// dihedral transform k (entries 0 or +-1), row-major {a, b, c, d}.
void dihedral_matrix(int k, float out[4]);

// The warp that only resizes in_size -> out_size (pixel centres aligned).
Warp resize_warp(int in_size, int out_size);
// The warp of dihedral transform k and nothing else.
Warp dihedral_warp(int k, int in_size, int out_size);
// A random augmentation for sample `index` of `epoch`, a pure function of its
// arguments.
Warp draw_warp(const AugmentOptions& options, std::uint64_t seed, std::uint64_t epoch, std::uint64_t index,
               int in_size, int out_size);

// Applies a warp: src in_size x in_size x 3 uint8 -> dst 3 x out_size x out_size
// float, normalised.
void warp_image(const std::uint8_t* src, int in_size, const Warp& warp, const Normalization& norm, float* dst,
                int out_size);

// Dihedral transform k of every image of a float [B, C, H, W] CPU tensor
// (H == W for odd quarter turns): the views of test-time augmentation.
Tensor dihedral_batch(const Tensor& images, int k);

}  // namespace gcnn
