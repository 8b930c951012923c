// Precision modes on the CPU: the bf16 conversion against hand-computed bit
// patterns (and a truncating conversion caught by the same check), resolving
// the `precision` key per device, and oneDNN's bf16 convolutions and the bf16
// linear layer against the float64 reference within the bound of
// tests/support/precision_checks.cpp. The bf16 op tests skip, naming the ISA,
// on a CPU without AVX-512 BF16 or AMX.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/bf16.h"
#include "kernels/cpu/isa.h"
#include "kernels/error.h"
#include "kernels/ops/conv.h"
#include "kernels/ops/linear.h"
#include "tests/support/precision_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(Bf16Conversion, MatchesHandComputedBitPatterns) {
  const std::vector<std::string> wrong = bf16_conversion_mismatches(float_to_bf16_bits);
  EXPECT_TRUE(wrong.empty()) << fmt::format("{}", fmt::join(wrong, "\n"));
}

// The check above must catch the classic mistake of truncating (and turning
// a signalling NaN with a low payload into infinity).
std::uint16_t truncating_conversion(float v) { return static_cast<std::uint16_t>(float_bits(v) >> 16); }
TEST(Bf16Conversion, CheckCatchesTruncation) {
  const std::vector<std::string> wrong = bf16_conversion_mismatches(truncating_conversion);
  EXPECT_GE(wrong.size(), 6u);
}

TEST(Bf16Conversion, WideningIsExact) {
  EXPECT_EQ(bf16_bits_to_float(0x3f80), 1.0f);
  EXPECT_EQ(float_bits(bf16_bits_to_float(0x0001)), 0x00010000u);  // a float subnormal
  EXPECT_EQ(float_bits(bf16_bits_to_float(0xff80)), 0xff800000u);
  EXPECT_TRUE(std::isnan(bf16_bits_to_float(0x7fff)));
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {  // every bf16 value converts back to itself
    const auto bits = static_cast<std::uint16_t>(b);
    if ((bits & 0x7fff) > 0x7f80) continue;  // NaNs become the canonical one
    ASSERT_EQ(float_to_bf16_bits(bf16_bits_to_float(bits)), bits) << b;
  }
}

TEST(PrecisionKey, ResolvesPerDevice) {
  EXPECT_EQ(resolve_precision("auto", Device::cpu()), Precision::fp32);
  EXPECT_EQ(resolve_precision("fp32", Device::cpu()), Precision::fp32);
  EXPECT_THROW(
      {
        try {
          resolve_precision("tf32", Device::cpu());
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("tf32 is a CUDA tensor-core mode"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  EXPECT_THROW(resolve_precision("fp16", Device::cpu()), InputError);
  if (cpu::onednn_has_bf16()) {
    EXPECT_EQ(resolve_precision("bf16", Device::cpu()), Precision::bf16);
  } else {
    try {
      resolve_precision("bf16", Device::cpu());
      ADD_FAILURE() << "bf16 accepted on a CPU without bf16 arithmetic";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(cpu::onednn_isa()), std::string::npos) << e.what();
    }
  }
}

TEST(CpuPrecision, Tf32IsRejectedByTheCpuOps) {
  ops::Conv2dParams p;
  p.precision = Precision::tf32;
  const Tensor x = random_tensor({1, 2, 4, 4}, 1), w = random_tensor({3, 2, 3, 3}, 2);
  Tensor y = Tensor::empty({1, 3, 2, 2});
  EXPECT_THROW(ops::conv2d_forward(x, w, Tensor(), y, p), Error);
  Tensor ly = Tensor::empty({1, 3});
  EXPECT_THROW(ops::linear_forward(random_tensor({1, 4}, 3), random_tensor({3, 4}, 4), Tensor(), ly, Precision::tf32),
               Error);
}

#define SKIP_WITHOUT_CPU_BF16()                                                                      \
  if (!cpu::onednn_has_bf16())                                                                       \
  GTEST_SKIP() << "the CPU has no bf16 arithmetic (oneDNN ISA \"" << cpu::onednn_isa()              \
               << "\"); the emulated CUDA bf16 tests still run"

TEST(CpuBf16, ConvWithinTheBf16BoundOnAwkwardShapes) {
  SKIP_WITHOUT_CPU_BF16();
  std::uint64_t seed = 900;
  for (const ConvCase& c : awkward_conv_cases())
    expect_conv_within_precision_bound(c, Precision::bf16, Device::cpu(), false, seed += 10);
}

TEST(CpuBf16, LinearWithinTheBf16BoundOnAwkwardShapes) {
  SKIP_WITHOUT_CPU_BF16();
  std::uint64_t seed = 950;
  for (const LinearCase& c : awkward_linear_cases())
    expect_linear_within_precision_bound(c, Precision::bf16, Device::cpu(), seed += 10);
}

// The bound is tight enough to matter: bf16 results are outside the FP32 bar.
TEST(CpuBf16, ConvIsOutsideTheFp32Bar) {
  SKIP_WITHOUT_CPU_BF16();
  const ConvCase c = awkward_conv_cases()[7];  // resnet_3x3_pad1
  ops::Conv2dParams p = c.params;
  p.precision = Precision::bf16;
  const Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2);
  const Shape out = ops::conv2d_output_shape(c.x, c.w, p);
  Tensor fp32 = Tensor::empty(out), bf16 = Tensor::empty(out);
  ops::conv2d_forward(x, w, Tensor(), fp32, c.params);
  ops::conv2d_forward(x, w, Tensor(), bf16, p);
  EXPECT_GT(relative_error(bf16, fp32), kDenseTolerance);
}

}  // namespace
}  // namespace gcnn::test
