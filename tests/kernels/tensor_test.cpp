// Tensor semantics: allocation, views sharing storage, copies, and the errors
// that name shapes and devices.
#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/tensor.h"

namespace gcnn {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Tensor, ShapeAndNumel) {
  Tensor t = Tensor::zeros({2, 3, 4, 5, 6});
  EXPECT_EQ(t.ndim(), 5);
  EXPECT_EQ(t.numel(), 720);
  EXPECT_EQ(t.nbytes(), 720u * 4);
  EXPECT_EQ(t.dim(-1), 6);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(t.describe(), "f32[2, 3, 4, 5, 6] on cpu");
  EXPECT_NE(error_of([&] { t.dim(5); }).find("[2, 3, 4, 5, 6]"), std::string::npos);
}

TEST(Tensor, ReshapeIsAViewAndInfersOneDimension) {
  Tensor t = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_TRUE(r.shares_storage_with(t));
  r.data<float>()[5] = 60.0f;
  EXPECT_EQ(t.to_vector()[5], 60.0f);
  std::string msg = error_of([&] { t.reshape({4, 2}); });
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 2]"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { t.reshape({-1, -1}); }), "");
}

TEST(Tensor, SliceAlongBatchIsAViewWithOffset) {
  std::vector<float> v(4 * 3);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Tensor t = Tensor::from_vector({4, 3}, v);
  Tensor s = t.slice(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 3}));
  EXPECT_EQ(s.to_vector(), (std::vector<float>{3, 4, 5, 6, 7, 8}));
  s.fill(-1.0f);
  EXPECT_EQ(t.to_vector()[2], 2.0f);
  EXPECT_EQ(t.to_vector()[3], -1.0f);
  EXPECT_EQ(t.to_vector()[9], 9.0f);
  EXPECT_EQ(t.slice(4, 4).numel(), 0);
  std::string msg = error_of([&] { t.slice(2, 5); });
  EXPECT_NE(msg.find("[2, 5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
}

TEST(Tensor, CloneAndCopyAreDeep) {
  Tensor t = Tensor::full({3}, 2.0f);
  Tensor c = t.clone();
  EXPECT_FALSE(c.shares_storage_with(t));
  c.fill(5.0f);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{2, 2, 2}));
  Tensor d = Tensor::zeros({1, 3});
  d.copy_from(t);
  EXPECT_EQ(d.to_vector(), (std::vector<float>{2, 2, 2}));
  std::string msg = error_of([&] { d.copy_from(Tensor::zeros({4})); });
  EXPECT_NE(msg.find("f32[1, 3] on cpu"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f32[4] on cpu"), std::string::npos) << msg;
}

TEST(Tensor, MisuseNamesTheProblem) {
  EXPECT_NE(error_of([] { Tensor::from_vector({2, 2}, {1, 2, 3}); }).find("[2, 2]"), std::string::npos);
  EXPECT_NE(error_of([] { Tensor::empty({1, 2, 3, 4, 5, 6, 7, 8, 9}); }).find("9 dims"), std::string::npos);
  EXPECT_NE(error_of([] { Tensor::empty({2, -3}); }).find("negative"), std::string::npos);
  Tensor undefined;
  EXPECT_FALSE(undefined.defined());
  EXPECT_NE(error_of([&] { undefined.data<float>(); }), "");
  Tensor t = Tensor::zeros({2});
  EXPECT_NE(error_of([&] { t.data<double>(); }).find("f32[2]"), std::string::npos);
  check_same_shape("op", t, Tensor::zeros({2}));
  std::string msg = error_of([&] { check_same_shape("my_op", t, Tensor::zeros({3})); });
  EXPECT_NE(msg.find("my_op"), std::string::npos);
  EXPECT_NE(msg.find("[2] vs [3]"), std::string::npos) << msg;
}

TEST(Tensor, DataIsAlignedForVectorLoads) {
  Tensor t = Tensor::empty({17});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data<float>()) % 64, 0u);
}

}  // namespace
}  // namespace gcnn
