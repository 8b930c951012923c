// Batched augmentation warp as an op: uint8 source images and one Warp each
// (kernels/warp.h) -> normalised float [B, 3, S, S], on the CPU or on CUDA.
// Tensor has no uint8 dtype, so the source pixels travel as raw bytes in the
// storage of an f32 tensor (pack_bytes); they are read as uint8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/tensor.h"
#include "kernels/warp.h"

namespace gcnn {

// A tensor on `device` whose storage holds the n bytes (f32, ceil(n / 4) elements).
Tensor pack_bytes(const std::uint8_t* bytes, std::size_t n, Device device = Device::cpu());
// [B, kWarpFloats] tensor of warps.
Tensor pack_warps(const std::vector<Warp>& warps, Device device = Device::cpu());

namespace ops {
// pixels: B images of in_size x in_size x 3 bytes (pack_bytes); warps: [B, 7];
// out: [B, 3, S, S]. All on one device.
void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out);
}  // namespace ops

}  // namespace gcnn
