// Shape checks and device dispatch of the augmentation warp.
#include "kernels/ops/augment.h"

#include <cstring>

#include "kernels/cpu/augment.h"
#include "kernels/cuda/augment.h"
#include "kernels/dispatch.h"

namespace gcnn {

Tensor pack_bytes(const std::uint8_t* bytes, std::size_t n, Device device) {
  Tensor host = Tensor::zeros({static_cast<std::int64_t>((n + 3) / 4)});
  if (n) std::memcpy(host.raw_data(), bytes, n);
  return device.is_cpu() ? host : host.to(device);
}

Tensor pack_warps(const std::vector<Warp>& warps, Device device) {
  std::vector<float> v;
  v.reserve(warps.size() * kWarpFloats);
  for (const Warp& w : warps) {
    v.insert(v.end(), w.m, w.m + 6);
    v.push_back(w.brightness);
  }
  return Tensor::from_vector({static_cast<std::int64_t>(warps.size()), kWarpFloats}, v, device);
}

namespace ops {

void augment_images(const Tensor& pixels, int in_size, const Tensor& warps, const Normalization& norm, Tensor& out) {
  GCNN_CHECK(out.ndim() == 4 && out.dim(1) == 3 && out.dim(2) == out.dim(3),
             "augment_images: out must be [B, 3, S, S], got {}", out.describe());
  check_shape("augment_images", "warps", warps, {out.dim(0), kWarpFloats});
  const std::size_t need = static_cast<std::size_t>(out.dim(0)) * in_size * in_size * 3;
  GCNN_CHECK(in_size > 0 && pixels.nbytes() >= need, "augment_images: {} images of {}x{}x3 bytes need {} bytes, "
             "pixels holds {} ({})", out.dim(0), in_size, in_size, need, pixels.nbytes(), pixels.describe());
  dispatch("augment_images", {&pixels, &warps, &out}, [&] { cpu::augment_images(pixels, in_size, warps, norm, out); },
           [&] { cuda::augment_images(pixels, in_size, warps, norm, out); });
}

}  // namespace ops
}  // namespace gcnn
