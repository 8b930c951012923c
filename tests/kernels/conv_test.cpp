// conv2d on the CPU (oneDNN) against the reference, the reference's backward
// against central finite differences, and the shape checks of the public API.
#include <gtest/gtest.h>

#include "kernels/cpu/conv.h"
#include "kernels/error.h"
#include "kernels/ops/conv.h"
#include "kernels/reference/conv.h"
#include "tests/support/dense_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(Conv2d, OutputShape) {
  EXPECT_EQ(ops::conv2d_output_shape({32, 3, 128, 128}, {64, 3, 7, 7}, {2, 2, 3, 3}), (Shape{32, 64, 64, 64}));
  EXPECT_EQ(ops::conv2d_output_shape({32, 64, 32, 32}, {128, 64, 1, 1}, {2, 2, 0, 0}), (Shape{32, 128, 16, 16}));
  EXPECT_EQ(ops::conv2d_output_shape({1, 2, 10, 7}, {3, 2, 3, 3}, {3, 1, 0, 2}), (Shape{1, 3, 3, 9}));
  EXPECT_THROW(ops::conv2d_output_shape({1, 3, 8, 8}, {4, 2, 3, 3}, {}), Error);        // channel mismatch
  EXPECT_THROW(ops::conv2d_output_shape({1, 3, 2, 2}, {4, 3, 3, 3}, {}), Error);        // kernel too large
  EXPECT_THROW(ops::conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, {0, 1, 0, 0}), Error);  // zero stride
  EXPECT_THROW(ops::conv2d_output_shape({3, 8, 8}, {4, 3, 3, 3}, {}), Error);           // not 4-D
}

TEST(Conv2d, RejectsMismatchedTensors) {
  const Tensor x = random_tensor({1, 3, 5, 5}, 1), w = random_tensor({4, 3, 3, 3}, 2);
  Tensor y = Tensor::empty({1, 4, 3, 4});
  EXPECT_THROW(ops::conv2d_forward(x, w, Tensor(), y, {}), Error);
  Tensor y_ok = Tensor::empty({1, 4, 3, 3});
  EXPECT_THROW(ops::conv2d_forward(x, w, random_tensor({3}, 3), y_ok, {}), Error);  // bias of the wrong size
  Tensor dw = Tensor::empty({4, 3, 3, 3}), bad_dx = Tensor::empty({1, 3, 5, 4});
  EXPECT_THROW(ops::conv2d_backward(x, w, y_ok, &bad_dx, dw, nullptr, {}), Error);
}

TEST(Conv2d, CpuMatchesReferenceOnAwkwardShapes) {
  std::uint64_t seed = 100;
  for (const ConvCase& c : awkward_conv_cases()) expect_conv_matches_reference(c, Device::cpu(), seed += 10);
}

TEST(Conv2d, CpuIsStableAcrossRepeatedCallsAndFreshInputs) {
  // The second call on a shape reuses the cached primitives and staging buffers.
  const ConvCase c = awkward_conv_cases()[2];
  expect_conv_matches_reference(c, Device::cpu(), 7);
  expect_conv_matches_reference(c, Device::cpu(), 8);
}

TEST(Conv2d, CpuBackwardHalvesMatchReference) {
  // cpu::conv2d_backward_data/_weights (timed apart by the benchmarks) run
  // their own plan paths; each must agree with the reference on its own.
  std::uint64_t seed = 40;
  for (const ConvCase& c : awkward_conv_cases()) {
    SCOPED_TRACE(c.name);
    const Shape out = ops::conv2d_output_shape(c.x, c.w, c.params);
    const Tensor x = random_tensor(c.x, ++seed), w = random_tensor(c.w, ++seed), dy = random_tensor(out, ++seed);
    Tensor ref_dx = Tensor::empty(c.x), ref_dw = Tensor::empty(c.w), ref_db = Tensor::empty({c.w[0]});
    reference::conv2d_backward(x, w, dy, &ref_dx, ref_dw, &ref_db, c.params);
    Tensor dx = poisoned(c.x), dw = poisoned(c.w), db = poisoned({c.w[0]});
    cpu::conv2d_backward_data(w, dy, dx, c.params);
    cpu::conv2d_backward_weights(x, dy, dw, &db, c.params);
    EXPECT_LE(relative_error(dx, ref_dx), kDenseTolerance);
    EXPECT_LE(relative_error(dw, ref_dw), kDenseTolerance);
    EXPECT_LE(relative_error(db, ref_db), kDenseTolerance);
  }
}

TEST(Conv2d, CpuPlansShareStagingAcrossInterleavedShapes) {
  // Every plan stages its reordered operands in one arena; a call must not
  // depend on what another shape's call left there. Forward A, forward B,
  // backward A, backward B, each against the reference.
  const ConvCase a{"a", {4, 32, 16, 16}, {32, 32, 3, 3}, {1, 1, 1, 1}};
  const ConvCase b{"b", {3, 32, 9, 9}, {16, 32, 3, 3}, {2, 2, 1, 1}};
  struct Run {
    Tensor x, w, dy, y, dx, dw;
  };
  std::uint64_t seed = 60;
  auto start = [&](const ConvCase& c) {
    const Shape out = ops::conv2d_output_shape(c.x, c.w, c.params);
    Run r{random_tensor(c.x, ++seed), random_tensor(c.w, ++seed), random_tensor(out, ++seed), poisoned(out),
          poisoned(c.x), poisoned(c.w)};
    cpu::conv2d_forward(r.x, r.w, Tensor(), r.y, c.params);
    return r;
  };
  auto finish = [&](const ConvCase& c, Run& r) {
    SCOPED_TRACE(c.name);
    cpu::conv2d_backward(r.x, r.w, r.dy, &r.dx, r.dw, nullptr, c.params);
    Tensor ref_y = Tensor::empty(r.y.shape()), ref_dx = Tensor::empty(c.x), ref_dw = Tensor::empty(c.w);
    reference::conv2d_forward(r.x, r.w, Tensor(), ref_y, c.params);
    reference::conv2d_backward(r.x, r.w, r.dy, &ref_dx, ref_dw, nullptr, c.params);
    EXPECT_LE(relative_error(r.y, ref_y), kDenseTolerance);
    EXPECT_LE(relative_error(r.dx, ref_dx), kDenseTolerance);
    EXPECT_LE(relative_error(r.dw, ref_dw), kDenseTolerance);
  };
  Run run_a = start(a);
  Run run_b = start(b);
  finish(a, run_a);
  finish(b, run_b);
  // The arena holds the largest call's operands, not every shape's: the
  // awkward shapes, whose operands are a fraction of a's even with their
  // channels padded to a block of 16, leave it as it is.
  const std::size_t held = cpu::conv2d_staging_bytes();
  for (const ConvCase& c : awkward_conv_cases()) expect_conv_matches_reference(c, Device::cpu(), seed += 10);
  EXPECT_EQ(cpu::conv2d_staging_bytes(), held);
}

TEST(Conv2d, CpuEmptyBatch) { expect_empty_batch_gives_zero_gradients(Device::cpu()); }

// The reference backward against central finite differences of
// L = sum(y * g): dL/dx, dL/dw, dL/db must equal what backward returns for dy = g.
TEST(Conv2d, ReferenceBackwardMatchesFiniteDifferences) {
  const std::vector<ConvCase> cases = {
      {"stride2_pad1", {2, 3, 5, 5}, {4, 3, 3, 3}, {2, 2, 1, 1}},
      {"asymmetric", {1, 2, 4, 6}, {3, 2, 2, 3}, {1, 2, 0, 1}},
      {"projection", {2, 3, 4, 4}, {2, 3, 1, 1}, {2, 2, 0, 0}},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2), b = random_tensor({c.w[0]}, 3);
    const Shape out = ops::conv2d_output_shape(c.x, c.w, c.params);
    const Tensor g = random_tensor(out, 4);
    auto loss = [&] {
      Tensor y = Tensor::empty(out);
      reference::conv2d_forward(x, w, b, y, c.params);
      return weighted_sum(y, g);
    };
    Tensor dx = poisoned(c.x), dw = poisoned(c.w), db = poisoned({c.w[0]});
    reference::conv2d_backward(x, w, g, &dx, dw, &db, c.params);
    EXPECT_LE(relative_error(dx, finite_difference_gradient(loss, x)), 1e-3);
    EXPECT_LE(relative_error(dw, finite_difference_gradient(loss, w)), 1e-3);
    EXPECT_LE(relative_error(db, finite_difference_gradient(loss, b)), 1e-3);
  }
}

}  // namespace
}  // namespace gcnn::test
