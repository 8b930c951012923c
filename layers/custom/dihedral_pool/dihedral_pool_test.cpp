// Dihedral-invariant pooling: its kernels on the CPU and the emulated CUDA
// device (expand gives the 8 rotations/reflections built by hand, fold is the
// adjoint of expand, the mean and its gradient), and models built with it are
// invariant: the output is the same for all 8 transforms of an input, with
// torchvision's parameter names kept. Its gradients: check_layer_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "layers/custom/dihedral_pool/dihedral_pool.h"
#include "layers/custom/dihedral_pool/dihedral_pool_kernels.h"
#include "layers/models.h"
#include "layers/pooling.h"
#include "layers/registry.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

using test::poisoned;
using test::random_tensor;
using test::relative_error;

// Rotation by 90 degrees counter-clockwise and transposition of an s x s plane.
std::vector<float> rotate(const std::vector<float>& p, int s) {
  std::vector<float> out(p.size());
  for (int i = 0; i < s; ++i)
    for (int j = 0; j < s; ++j) out[i * s + j] = p[j * s + (s - 1 - i)];
  return out;
}
std::vector<float> transpose(const std::vector<float>& p, int s) {
  std::vector<float> out(p.size());
  for (int i = 0; i < s; ++i)
    for (int j = 0; j < s; ++j) out[i * s + j] = p[j * s + i];
  return out;
}

TEST(DihedralKernels, ExpandGivesTheEightRotationsAndReflections) {
  const int s = 4;
  std::vector<float> plane(s * s);
  for (int i = 0; i < s * s; ++i) plane[i] = static_cast<float>(i);
  std::set<std::vector<float>> expected;
  std::vector<float> r = plane;
  for (int k = 0; k < 4; ++k, r = rotate(r, s)) {
    expected.insert(r);
    expected.insert(transpose(r, s));
  }
  ASSERT_EQ(expected.size(), 8u);
  for (Device device : {Device::cpu(), Device::cuda(0)}) {
    Tensor x = Tensor::from_vector({1, 1, s, s}, plane, device);
    Tensor xs = poisoned({8, 1, s, s}, device);
    dihedral::expand(x, xs);
    const auto v = xs.to_vector();
    std::set<std::vector<float>> got;
    for (int t = 0; t < 8; ++t) got.insert(std::vector<float>(v.begin() + t * s * s, v.begin() + (t + 1) * s * s));
    EXPECT_EQ(got, expected) << device.str();
    EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + s * s), plane) << "transform 0 is the identity";
  }
}

TEST(DihedralKernels, FoldIsTheAdjointOfExpandAndTheMeanMatchesAReference) {
  for (Device device : {Device::cpu(), Device::cuda(0)}) {
    std::uint64_t seed = 20;
    for (const Shape& s : std::vector<Shape>{{1, 1, 1, 1}, {2, 3, 5, 5}, {3, 2, 8, 8}}) {
      Shape big = s;
      big[0] *= 8;
      Tensor x = random_tensor(s, ++seed, -1, 1, device), y = random_tensor(big, ++seed, -1, 1, device);
      Tensor xs = poisoned(big, device), fy = poisoned(s, device);
      dihedral::expand(x, xs);
      dihedral::fold(y, fy);
      // <expand(x), y> == <x, fold(y)>
      EXPECT_NEAR(test::weighted_sum(xs, y), test::weighted_sum(x, fy), 1e-4) << device.str() << shape_str(s);

      const Shape features{s[0], s[1] * 3};
      Shape rows = features;
      rows[0] *= 8;
      Tensor h = random_tensor(rows, ++seed, -1, 1, device), m = poisoned(features, device);
      Tensor dy = random_tensor(features, ++seed, -1, 1, device), dh = poisoned(rows, device);
      dihedral::mean(h, m);
      dihedral::mean_grad(dy, dh);
      const auto hv = h.to_vector(), dyv = dy.to_vector();
      const auto n = static_cast<std::size_t>(shape_numel(features));
      std::vector<float> m_ref(n), dh_ref(8 * n);
      for (std::size_t k = 0; k < n; ++k) {
        double sum = 0;
        for (std::size_t t = 0; t < 8; ++t) {
          sum += hv[t * n + k];
          dh_ref[t * n + k] = dyv[k] / 8.0f;
        }
        m_ref[k] = static_cast<float>(sum / 8);
      }
      EXPECT_EQ(relative_error(m, Tensor::from_vector(features, m_ref)), 0.0) << device.str();
      EXPECT_EQ(relative_error(dh, Tensor::from_vector(rows, dh_ref)), 0.0) << device.str();
    }
  }
}

// The 8 transforms of x, each as its own [N, C, S, S] batch (via hand-built rotations).
std::vector<Tensor> all_transforms(const Tensor& x) {
  const int n = static_cast<int>(x.dim(0)), c = static_cast<int>(x.dim(1)), s = static_cast<int>(x.dim(2));
  const auto v = x.to_vector();
  std::vector<std::vector<float>> out(8, std::vector<float>(v.size()));
  for (int p = 0; p < n * c; ++p) {
    std::vector<float> r(v.begin() + p * s * s, v.begin() + (p + 1) * s * s);
    for (int k = 0; k < 4; ++k, r = rotate(r, s)) {
      std::copy(r.begin(), r.end(), out[2 * k].begin() + p * s * s);
      const auto t = transpose(r, s);
      std::copy(t.begin(), t.end(), out[2 * k + 1].begin() + p * s * s);
    }
  }
  std::vector<Tensor> tensors;
  for (auto& o : out) tensors.push_back(Tensor::from_vector(x.shape(), o));
  return tensors;
}

TEST(DihedralPool, ResNetOutputIsTheSameForAllEightTransformsAndNamesAreKept) {
  for (const std::string head : {"fastai", "linear"}) {
    ResNetOptions o;
    o.width = 4;
    o.se_ratio = 2;
    o.head.kind = head;
    o.head.hidden = 6;
    o.dihedral_pool = true;
    auto net = make_resnet(o, 3);
    EXPECT_EQ(net->type(), "dihedral_pool");
    ResNetOptions plain = o;
    plain.dihedral_pool = false;
    auto reference = make_resnet(plain, 3);
    std::set<std::string> names, reference_names;
    for (const auto& [name, t] : state_dict(*net)) names.insert(name);
    for (const auto& [name, t] : state_dict(*reference)) reference_names.insert(name);
    EXPECT_EQ(names, reference_names) << head;

    Tensor x = random_tensor({2, 3, 32, 32}, 7);
    const auto transforms = all_transforms(x);
    // Evaluation first (training forwards move the BN running statistics): the
    // 8 transformed images are the same images in another batch order.
    const std::vector<float> eval = net->forward(x, false).to_vector();
    for (int t = 1; t < 8; ++t) {
      const auto yt = net->forward(transforms[t], false).to_vector();
      for (std::size_t i = 0; i < eval.size(); ++i)
        EXPECT_NEAR(yt[i], eval[i], 1e-6 * (1 + std::abs(eval[i]))) << head << " transform " << t;
    }
    // Training: batch statistics over the 8N images, summed in another order.
    const Tensor train = net->forward(x, true);
    for (int t = 1; t < 8; ++t)
      EXPECT_LT(relative_error(net->forward(transforms[t], true), train), 1e-4) << head << " transform " << t;
    // A model without the pooling is not invariant, so the comparison above can fail.
    const auto plain_y = reference->forward(x, false).to_vector(), plain_t = reference->forward(transforms[2], false).to_vector();
    EXPECT_GT(std::abs(plain_y[0] - plain_t[0]) + std::abs(plain_y[1] - plain_t[1]), 1e-6) << head;
  }
}

TEST(DihedralPool, RefusesNonSquareInputsAndBodiesThatDoNotPool) {
  DihedralPool pool;
  pool.add(std::make_unique<GlobalAvgPool>());
  pool.set_body_size(1);
  EXPECT_THROW(pool.output_shape({2, 3, 4, 5}), Error);
  EXPECT_EQ(pool.output_shape({2, 3, 4, 4}), (Shape{2, 3}));
  YAML::Node node = YAML::Load("layers:\n  - {type: dihedral_pool, body: [{type: conv2d, out: 2}]}\n");
  Options root(node, "d.yaml");
  auto items = root.list("layers");
  try {
    make_layer_list(items, {1, 3, 8, 8});
    FAIL() << "a body without pooling must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d.yaml:2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gcnn
