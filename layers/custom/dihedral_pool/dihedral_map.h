// Pixel maps of the 8 dihedral transforms (see dihedral_pool_kernels.h), shared
// by the CPU code and the CUDA kernels (host and device functions).
#pragma once

#include <cstdint>

#include "kernels/host_device.h"

namespace gcnn::dihedral {

// The input pixel that transform t places at output pixel (i, j) of an s x s plane.
GCNN_HOST_DEVICE inline void transform_source(int t, std::int64_t s, std::int64_t i, std::int64_t j, std::int64_t& a,
                                              std::int64_t& b) {
  a = (t & 1) ? s - 1 - i : i;
  b = (t & 2) ? s - 1 - j : j;
  if (t & 4) {
    const std::int64_t swap = a;
    a = b;
    b = swap;
  }
}

// The output pixel where transform t places input pixel (a, b): the inverse map.
GCNN_HOST_DEVICE inline void transform_target(int t, std::int64_t s, std::int64_t a, std::int64_t b, std::int64_t& i,
                                              std::int64_t& j) {
  const std::int64_t p = (t & 4) ? b : a, q = (t & 4) ? a : b;
  i = (t & 1) ? s - 1 - p : p;
  j = (t & 2) ? s - 1 - q : q;
}

}  // namespace gcnn::dihedral
