// Reduced-precision checks of the dense ops (see precision_checks.h).
//
// The bound. An input rounded for the precision carries a relative error of
// at most d: d = 2^-8 for bf16 (8-bit significand, round to nearest even) and
// d = 2^-10 for tf32 (11-bit significand, truncated as tensor cores read it).
// A product of two rounded inputs is then off by at most (2d + d^2) of its
// magnitude, and is exact in FP32 (two 8- or 11-bit significands). Summing K
// products in FP32, in any order, adds at most gamma_K = K u / (1 - K u),
// u = 2^-24, of sum |products|, and the reference's own rounding to float at
// most u. So |out - ref| <= e * sum|x w| with e = 2d + d^2 + gamma_K + u, and
// an output stored in bf16 adds d (1 + e). sum|x w| is the reference op on
// the absolute values of the inputs; K is the longest reduction of the three
// directions (C R S forward, K R S backward data, N OH OW backward weights).
#include "tests/support/precision_checks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops/linear.h"
#include "kernels/reference/conv.h"
#include "kernels/reference/linear.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

Tensor absolute(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  for (float& e : v) e = std::abs(e);
  return Tensor::from_vector(t.shape(), v);
}

// Every element of out within bound * magnitude of ref; names the first that is not.
void expect_within(const char* what, const Tensor& out, const Tensor& ref, const Tensor& magnitude, double bound) {
  const std::vector<float> o = out.to_vector(), r = ref.to_vector(), m = magnitude.to_vector();
  ASSERT_EQ(o.size(), r.size());
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    const double allowed = bound * m[i] + 1e-30;
    if (!(std::abs(static_cast<double>(o[i]) - r[i]) <= allowed) && bad++ == 0) first = i;
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << o.size() << " elements outside the bound " << bound
                     << " x sum|terms|; first at " << first << ": " << o[first] << " vs reference " << r[first]
                     << " (sum|terms| " << m[first] << ")";
}

}  // namespace

const std::vector<Bf16Case>& bf16_conversion_cases() {
  static const std::vector<Bf16Case> cases = {
      {0x3f800000u, 0x3f80, "1.0, exact"},
      {0x3f808000u, 0x3f80, "tie with even kept bit: down"},
      {0x3f818000u, 0x3f82, "tie with odd kept bit: up to even"},
      {0x3f808001u, 0x3f81, "just above a tie: up"},
      {0x3f807fffu, 0x3f80, "just below a tie: down"},
      {0xbf818000u, 0xbf82, "negative tie with odd kept bit"},
      {0x3fff8000u, 0x4000, "tie carrying into the exponent"},
      {0x7f7fffffu, 0x7f80, "largest float rounds to infinity"},
      {0x7f7f7fffu, 0x7f7f, "just below the tie under infinity"},
      {0x00000001u, 0x0000, "smallest subnormal: to +0"},
      {0x00008000u, 0x0000, "subnormal tie with even kept bit"},
      {0x00018000u, 0x0002, "subnormal tie with odd kept bit"},
      {0x0000c000u, 0x0001, "subnormal above a tie"},
      {0x007fffffu, 0x0080, "largest subnormal rounds to the smallest normal"},
      {0x80008001u, 0x8001, "negative subnormal above a tie"},
      {0x80000000u, 0x8000, "-0"},
      {0x7f800000u, 0x7f80, "+inf"},
      {0xff800000u, 0xff80, "-inf"},
      {0x7fc00000u, 0x7fff, "quiet NaN: canonical NaN"},
      {0x7f800001u, 0x7fff, "signalling NaN with a low payload: NaN, not inf"},
      {0xffc00001u, 0x7fff, "negative NaN: canonical NaN"},
  };
  return cases;
}

std::vector<std::string> bf16_conversion_mismatches(std::uint16_t (*convert)(float)) {
  std::vector<std::string> out;
  for (const Bf16Case& c : bf16_conversion_cases()) {
    float v;
    std::memcpy(&v, &c.float_bits, sizeof v);
    const std::uint16_t got = convert(v);
    if (got != c.bf16_bits)
      out.push_back(fmt::format("{:#010x} ({}): got {:#06x}, expected {:#06x}", c.float_bits, c.what, got,
                                c.bf16_bits));
  }
  return out;
}

double precision_error_bound(Precision precision, std::int64_t terms, bool rounded_output) {
  const double u = std::ldexp(1.0, -24);
  const double d = precision == Precision::bf16 ? std::ldexp(1.0, -8)
                   : precision == Precision::tf32 ? std::ldexp(1.0, -10)
                                                  : 0.0;
  const double gamma = static_cast<double>(terms) * u / (1.0 - static_cast<double>(terms) * u);
  const double e = 2 * d + d * d + gamma + u;
  return rounded_output ? e + d * (1 + e) : e;
}

void expect_conv_within_precision_bound(const ConvCase& c, Precision precision, Device device, bool rounded_output,
                                        std::uint64_t seed) {
  SCOPED_TRACE(fmt::format("conv case {} in {} on {}", c.name, precision_name(precision), device.str()));
  ops::Conv2dParams p = c.params;
  const Shape out = ops::conv2d_output_shape(c.x, c.w, p);
  const Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1), b = random_tensor({c.w[0]}, seed + 2),
               dy = random_tensor(out, seed + 3);
  const std::int64_t terms = std::max({c.w[1] * c.w[2] * c.w[3], c.w[0] * c.w[2] * c.w[3], out[0] * out[2] * out[3]});
  const double bound = precision_error_bound(precision, terms, rounded_output);

  Tensor ref = Tensor::empty(out), magnitude = Tensor::empty(out);
  reference::conv2d_forward(x, w, b, ref, p);
  reference::conv2d_forward(absolute(x), absolute(w), absolute(b), magnitude, p);
  Tensor ref_dx = Tensor::empty(c.x), ref_dw = Tensor::empty(c.w), ref_db = Tensor::empty({c.w[0]});
  Tensor mag_dx = Tensor::empty(c.x), mag_dw = Tensor::empty(c.w), mag_db = Tensor::empty({c.w[0]});
  reference::conv2d_backward(x, w, dy, &ref_dx, ref_dw, &ref_db, p);
  reference::conv2d_backward(absolute(x), absolute(w), absolute(dy), &mag_dx, mag_dw, &mag_db, p);

  p.precision = precision;
  const Tensor xd = x.to(device), wd = w.to(device), bd = b.to(device), dyd = dy.to(device);
  Tensor y = poisoned(out, device);
  ops::conv2d_forward(xd, wd, bd, y, p);
  expect_within("forward", y, ref, magnitude, bound);
  EXPECT_GT(relative_error(y, ref), 1e-6) << "forward is as exact as FP32: the reduced precision did not run";
  Tensor dx = poisoned(c.x, device), dw = poisoned(c.w, device), db = poisoned({c.w[0]}, device);
  ops::conv2d_backward(xd, wd, dyd, &dx, dw, &db, p);
  expect_within("backward data", dx, ref_dx, mag_dx, bound);
  expect_within("backward weights", dw, ref_dw, mag_dw, bound);
  expect_within("bias gradient", db, ref_db, mag_db, bound);
}

void expect_linear_within_precision_bound(const LinearCase& c, Precision precision, Device device,
                                          std::uint64_t seed) {
  SCOPED_TRACE(fmt::format("linear batch {} in {} out {} in {} on {}", c.batch, c.in, c.out,
                           precision_name(precision), device.str()));
  const Tensor x = random_tensor({c.batch, c.in}, seed), w = random_tensor({c.out, c.in}, seed + 1),
               b = random_tensor({c.out}, seed + 2), dy = random_tensor({c.batch, c.out}, seed + 3);
  const double bound = precision_error_bound(precision, std::max({c.in, c.out, c.batch}), false);
  Tensor ref = Tensor::empty({c.batch, c.out}), magnitude = Tensor::empty({c.batch, c.out});
  reference::linear_forward(x, w, b, ref);
  reference::linear_forward(absolute(x), absolute(w), absolute(b), magnitude);
  Tensor ref_dx = Tensor::empty(x.shape()), ref_dw = Tensor::empty(w.shape()), ref_db = Tensor::empty({c.out});
  Tensor mag_dx = Tensor::empty(x.shape()), mag_dw = Tensor::empty(w.shape()), mag_db = Tensor::empty({c.out});
  reference::linear_backward(x, w, dy, &ref_dx, ref_dw, &ref_db);
  reference::linear_backward(absolute(x), absolute(w), absolute(dy), &mag_dx, mag_dw, &mag_db);

  const Tensor xd = x.to(device), wd = w.to(device), bd = b.to(device), dyd = dy.to(device);
  Tensor y = poisoned({c.batch, c.out}, device);
  ops::linear_forward(xd, wd, bd, y, precision);
  expect_within("forward", y, ref, magnitude, bound);
  EXPECT_GT(relative_error(y, ref), 1e-6) << "forward is as exact as FP32: the reduced precision did not run";
  Tensor dx = poisoned(x.shape(), device), dw = poisoned(w.shape(), device), db = poisoned({c.out}, device);
  ops::linear_backward(xd, wd, dyd, &dx, dw, &db, precision);
  expect_within("backward data", dx, ref_dx, mag_dx, bound);
  expect_within("backward weights", dw, ref_dw, mag_dw, bound);
  expect_within("bias gradient", db, ref_db, mag_db, bound);
}

}  // namespace gcnn::test
