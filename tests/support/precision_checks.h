// Checks of the reduced precisions (tf32, bf16) of conv2d and linear on any
// device against the float64 reference ops, shared by the CPU and emulated-CUDA
// tests. Each output element must lie within the bound its precision allows
// (precision_checks.cpp derives it), and the outputs must differ from FP32
// (the reduced precision really ran).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/precision.h"
#include "tests/support/dense_op_checks.h"

namespace gcnn::test {

// Bound on |out - ref| relative to sum |terms| (the reference op on |inputs|)
// for a reduction of `terms` products whose inputs were rounded for precision;
// rounded_output: the result was stored in bf16 and widened again.
double precision_error_bound(Precision precision, std::int64_t terms, bool rounded_output);

// conv2d forward (with bias), backward (dx, dw, db) in precision on device.
// rounded_output: the device stores conv outputs in bf16 (cuDNN's bf16 configuration).
void expect_conv_within_precision_bound(const ConvCase& c, Precision precision, Device device, bool rounded_output,
                                        std::uint64_t seed);
// linear forward (with bias) and backward in precision on device (FP32 outputs).
void expect_linear_within_precision_bound(const LinearCase& c, Precision precision, Device device,
                                          std::uint64_t seed);

// Hand-computed float -> bf16 bit patterns: ties to even (both ways), just
// above and below a tie, carries into the exponent and to infinity, float
// subnormals, signed zeros, infinities, quiet and signalling NaNs of both signs.
struct Bf16Case {
  std::uint32_t float_bits;
  std::uint16_t bf16_bits;
  const char* what;
};
const std::vector<Bf16Case>& bf16_conversion_cases();
// The cases convert gets wrong, one line each (empty: all right).
std::vector<std::string> bf16_conversion_mismatches(std::uint16_t (*convert)(float));

}  // namespace gcnn::test
