// count_flops against hand-computed counts: a small net with a strided
// residual block and a projection shortcut, and torchvision's ResNet-18.
#include <gtest/gtest.h>

#include "layers/activations.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/flops.h"
#include "layers/linear.h"
#include "layers/models.h"
#include "layers/pooling.h"
#include "layers/residual_blocks.h"

namespace gcnn {
namespace {

TEST(CountFlops, SmallResidualNetByHand) {
  Sequential net;
  net.add(std::make_unique<Conv2d>(3, 4, 3, 1, 1, false));  // [2,3,8,8] -> [2,4,8,8]
  net.add(std::make_unique<BatchNorm>(4));
  net.add(std::make_unique<ReLU>());
  net.add(std::make_unique<BasicBlock>(4, 8, 2));  // -> [2,8,4,4], with a 1x1/2 projection
  net.add(std::make_unique<GlobalAvgPool>());      // -> [2,8]
  net.add(std::make_unique<Linear>(8, 3));         // -> [2,3]
  net.needs_input_grad = false;

  // Multiply-adds: outputs x (C R S) per output.
  const double stem = 2 * 4 * 8 * 8 * (3 * 3 * 3);     // 13824
  const double block_conv1 = 2 * 8 * 4 * 4 * (4 * 9);  // 9216
  const double block_conv2 = 2 * 8 * 4 * 4 * (8 * 9);  // 18432
  const double shortcut = 2 * 8 * 4 * 4 * 4;           // 1024
  const double fc = 2 * 8 * 3;                         // 48
  const double all = stem + block_conv1 + block_conv2 + shortcut + fc;

  const NetworkFlops f = count_flops(net, {2, 3, 8, 8});
  EXPECT_DOUBLE_EQ(f.forward, 2 * all);
  EXPECT_DOUBLE_EQ(f.backward_weights, 2 * all);
  EXPECT_DOUBLE_EQ(f.backward_data, 2 * (all - stem));  // the first layer computes no dx
  EXPECT_DOUBLE_EQ(f.train_step(), 2 * (3 * all - stem));
  EXPECT_TRUE(f.uncounted.empty());

  net.needs_input_grad = true;
  EXPECT_DOUBLE_EQ(count_flops(net, {2, 3, 8, 8}).backward_data, 2 * all);
}

TEST(CountFlops, ResNet18MatchesTorchvisionsPublishedCount) {
  ResNetOptions o;
  o.depth = 18;
  o.head.kind = "linear";
  o.head.n_targets = 1000;
  auto net = make_resnet(o, 1);
  // Summed by hand over the 20 convolutions and the fc at 224 px:
  // 1,813,561,344 + 512,000 multiply-adds (torchvision lists "1.81 GFLOPS",
  // counting multiply-adds).
  const NetworkFlops f = count_flops(*net, {1, 3, 224, 224});
  EXPECT_DOUBLE_EQ(f.forward, 2.0 * 1'814'073'344);
  // A batch scales every count.
  EXPECT_DOUBLE_EQ(count_flops(*net, {32, 3, 224, 224}).forward, 32 * 2.0 * 1'814'073'344);
}

TEST(CountFlops, ListsParameterisedLayersItCannotCount) {
  // A layer type with parameters the counter has no formula for.
  class Scale : public Layer {
   public:
    Scale() { add_parameter("weight", Tensor::full({1}, 2.0f), false); }
    std::string type() const override { return "scale"; }
    Shape output_shape(const Shape& in) const override { return in; }
    Tensor forward(const Tensor& x, bool) override { return x; }
    Tensor backward(const Tensor& dy) override { return dy; }
  };
  Sequential net;
  net.add(std::make_unique<Scale>());
  net.add(std::make_unique<Linear>(5, 2));
  const NetworkFlops f = count_flops(net, {4, 5});
  EXPECT_DOUBLE_EQ(f.forward, 2.0 * 4 * 5 * 2);
  ASSERT_EQ(f.uncounted.size(), 1u);
  EXPECT_EQ(f.uncounted[0], "scale");
}

}  // namespace
}  // namespace gcnn
