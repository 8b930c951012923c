// bfloat16 <-> float conversions on the host and in kernels, bit-exact with
// CUDA's __float2bfloat16_rn / __bfloat162float: round to nearest, ties to
// even; infinities and zeros keep their sign; every NaN becomes the canonical
// quiet NaN 0x7fff (as cuda_bf16.hpp's conversion returns); float subnormals
// round like any other value (bf16 has the same exponent range).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/host_device.h"

namespace gcnn {

GCNN_HOST_DEVICE inline std::uint32_t float_bits(float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

GCNN_HOST_DEVICE inline std::uint16_t float_to_bf16_bits(float v) {
  const std::uint32_t bits = float_bits(v);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return 0x7fff;  // NaN
  // Adding 0x7fff plus the lowest kept bit rounds to nearest, ties to even;
  // a carry into the exponent is right (it rounds up to the next binade or to inf).
  const std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

GCNN_HOST_DEVICE inline float bf16_bits_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// v rounded to the nearest bf16 value, as a float.
GCNN_HOST_DEVICE inline float round_to_bf16(float v) { return bf16_bits_to_float(float_to_bf16_bits(v)); }

}  // namespace gcnn
