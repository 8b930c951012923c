// Dense-op checks against the reference ops (see dense_op_checks.h).
#include "tests/support/dense_op_checks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kernels/ops/linear.h"
#include "kernels/reference/conv.h"
#include "kernels/reference/linear.h"
#include "tests/support/test_support.h"

namespace gcnn::test {

std::vector<ConvCase> awkward_conv_cases() {
  return {
      {"batch1_3x3_pad1", {1, 3, 7, 7}, {5, 3, 3, 3}, {1, 1, 1, 1}},
      {"spatial_1x1", {2, 4, 1, 1}, {3, 4, 1, 1}, {1, 1, 0, 0}},
      {"odd_channels_3x3_stride2_pad1", {2, 5, 9, 9}, {7, 5, 3, 3}, {2, 2, 1, 1}},
      {"stride2_pad1_even", {2, 6, 8, 8}, {4, 6, 3, 3}, {2, 2, 1, 1}},
      {"stem_7x7_stride2_pad3", {2, 3, 20, 20}, {8, 3, 7, 7}, {2, 2, 3, 3}},
      {"projection_1x1_stride2_even", {2, 6, 8, 8}, {10, 6, 1, 1}, {2, 2, 0, 0}},
      {"projection_1x1_stride2_odd", {3, 5, 7, 7}, {4, 5, 1, 1}, {2, 2, 0, 0}},
      {"resnet_3x3_pad1", {2, 16, 8, 8}, {16, 16, 3, 3}, {1, 1, 1, 1}},
      {"kernel_as_large_as_input", {2, 3, 4, 4}, {5, 3, 4, 4}, {1, 1, 0, 0}},
      {"non_square_kernel_and_stride", {2, 3, 6, 9}, {4, 3, 3, 2}, {1, 2, 1, 0}},
      {"asymmetric_stride_and_padding", {1, 2, 10, 7}, {3, 2, 3, 3}, {3, 1, 0, 2}},
      {"padding_wider_than_needed", {1, 3, 3, 3}, {2, 3, 1, 1}, {1, 1, 2, 2}},
  };
}

namespace {
std::vector<std::int64_t> conv_bias_shape(const ConvCase& c) { return {c.w[0]}; }
}  // namespace

void expect_conv_matches_reference(const ConvCase& c, Device device, std::uint64_t seed) {
  SCOPED_TRACE("conv case " + c.name + " on " + device.str());
  const Shape out = ops::conv2d_output_shape(c.x, c.w, c.params);
  const Tensor x = random_tensor(c.x, seed), w = random_tensor(c.w, seed + 1),
               b = random_tensor(conv_bias_shape(c), seed + 2), dy = random_tensor(out, seed + 3);
  const Tensor xd = x.to(device), wd = w.to(device), bd = b.to(device), dyd = dy.to(device);

  for (bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "forward with bias" : "forward without bias");
    Tensor ref = Tensor::empty(out);
    reference::conv2d_forward(x, w, with_bias ? b : Tensor(), ref, c.params);
    Tensor y = poisoned(out, device);
    ops::conv2d_forward(xd, wd, with_bias ? bd : Tensor(), y, c.params);
    EXPECT_LE(relative_error(y, ref), kDenseTolerance);
  }

  Tensor ref_dx = Tensor::empty(c.x), ref_dw = Tensor::empty(c.w), ref_db = Tensor::empty(conv_bias_shape(c));
  reference::conv2d_backward(x, w, dy, &ref_dx, ref_dw, &ref_db, c.params);
  {
    SCOPED_TRACE("backward dx, dw, db");
    Tensor dx = poisoned(c.x, device), dw = poisoned(c.w, device), db = poisoned(conv_bias_shape(c), device);
    ops::conv2d_backward(xd, wd, dyd, &dx, dw, &db, c.params);
    EXPECT_LE(relative_error(dx, ref_dx), kDenseTolerance);
    EXPECT_LE(relative_error(dw, ref_dw), kDenseTolerance);
    EXPECT_LE(relative_error(db, ref_db), kDenseTolerance);
  }
  {
    SCOPED_TRACE("backward dw only (first layer, no bias)");
    Tensor dw = poisoned(c.w, device);
    ops::conv2d_backward(xd, wd, dyd, nullptr, dw, nullptr, c.params);
    EXPECT_LE(relative_error(dw, ref_dw), kDenseTolerance);
  }
}

std::vector<LinearCase> awkward_linear_cases() {
  return {{1, 1, 1}, {1, 7, 3}, {5, 13, 17}, {3, 64, 10}, {32, 512, 1}, {32, 1024, 512}};
}

void expect_linear_matches_reference(const LinearCase& c, Device device, std::uint64_t seed) {
  SCOPED_TRACE(fmt::format("linear batch {} in {} out {} on {}", c.batch, c.in, c.out, device.str()));
  const Tensor x = random_tensor({c.batch, c.in}, seed), w = random_tensor({c.out, c.in}, seed + 1),
               b = random_tensor({c.out}, seed + 2), dy = random_tensor({c.batch, c.out}, seed + 3);
  const Tensor xd = x.to(device), wd = w.to(device), bd = b.to(device), dyd = dy.to(device);
  for (bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "forward with bias" : "forward without bias");
    Tensor ref = Tensor::empty({c.batch, c.out});
    reference::linear_forward(x, w, with_bias ? b : Tensor(), ref);
    Tensor y = poisoned({c.batch, c.out}, device);
    ops::linear_forward(xd, wd, with_bias ? bd : Tensor(), y);
    EXPECT_LE(relative_error(y, ref), kDenseTolerance);
  }
  Tensor ref_dx = Tensor::empty(x.shape()), ref_dw = Tensor::empty(w.shape()), ref_db = Tensor::empty({c.out});
  reference::linear_backward(x, w, dy, &ref_dx, ref_dw, &ref_db);
  {
    SCOPED_TRACE("backward dx, dw, db");
    Tensor dx = poisoned(x.shape(), device), dw = poisoned(w.shape(), device), db = poisoned({c.out}, device);
    ops::linear_backward(xd, wd, dyd, &dx, dw, &db);
    EXPECT_LE(relative_error(dx, ref_dx), kDenseTolerance);
    EXPECT_LE(relative_error(dw, ref_dw), kDenseTolerance);
    EXPECT_LE(relative_error(db, ref_db), kDenseTolerance);
  }
  {
    SCOPED_TRACE("backward dw only");
    Tensor dw = poisoned(w.shape(), device);
    ops::linear_backward(xd, wd, dyd, nullptr, dw, nullptr);
    EXPECT_LE(relative_error(dw, ref_dw), kDenseTolerance);
  }
}

void expect_empty_batch_gives_zero_gradients(Device device) {
  SCOPED_TRACE("empty batch on " + device.str());
  const ops::Conv2dParams p{2, 2, 1, 1};
  const Tensor x = Tensor::empty({0, 3, 8, 8}, device), w = random_tensor({4, 3, 3, 3}, 1, -1, 1, device);
  Tensor y = Tensor::empty({0, 4, 4, 4}, device), dy = Tensor::empty({0, 4, 4, 4}, device);
  ops::conv2d_forward(x, w, Tensor(), y, p);
  Tensor dx = Tensor::empty({0, 3, 8, 8}, device), dw = poisoned({4, 3, 3, 3}, device), db = poisoned({4}, device);
  ops::conv2d_backward(x, w, dy, &dx, dw, &db, p);
  EXPECT_EQ(dw.to_vector(), std::vector<float>(dw.numel(), 0.0f));
  EXPECT_EQ(db.to_vector(), std::vector<float>(4, 0.0f));

  const Tensor lx = Tensor::empty({0, 5}, device), lw = random_tensor({2, 5}, 2, -1, 1, device);
  Tensor ly = Tensor::empty({0, 2}, device), ldy = Tensor::empty({0, 2}, device);
  ops::linear_forward(lx, lw, Tensor(), ly);
  Tensor ldw = poisoned({2, 5}, device), ldb = poisoned({2}, device);
  ops::linear_backward(lx, lw, ldy, nullptr, ldw, &ldb);
  EXPECT_EQ(ldw.to_vector(), std::vector<float>(10, 0.0f));
  EXPECT_EQ(ldb.to_vector(), std::vector<float>(2, 0.0f));
}

}  // namespace gcnn::test
