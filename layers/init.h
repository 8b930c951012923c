// Parameter initialisers with our own deterministic random stream (the same
// numbers on every platform): Kaiming normal, uniform, constants.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"

namespace gcnn {

// Normal(0, std) values drawn from seed (Box-Muller over splitmix64).
void init_normal(Tensor& t, double std, std::uint64_t seed);
// Uniform(-bound, bound).
void init_uniform(Tensor& t, double bound, std::uint64_t seed);
// Kaiming (He) normal for ReLU networks: std = sqrt(2 / fan).
void init_kaiming_normal(Tensor& t, double fan, std::uint64_t seed);

}  // namespace gcnn
