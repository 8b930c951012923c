// Augmentation: each dihedral transform by hand, the warp form of the same
// transforms, reflection padding, zoom/rotation determinism and bounds, and the
// test-time dihedral views of a batch.
#include <gtest/gtest.h>

#include <cmath>

#include "data/augment.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

Image numbered3x3() {
  Image img(3, 3);
  for (int i = 0; i < 9; ++i) {
    img.pixels[static_cast<std::size_t>(i) * 3 + 0] = static_cast<std::uint8_t>(i + 1);
    img.pixels[static_cast<std::size_t>(i) * 3 + 1] = static_cast<std::uint8_t>(10 * (i + 1));
    img.pixels[static_cast<std::size_t>(i) * 3 + 2] = static_cast<std::uint8_t>(200 - i);
  }
  return img;
}

std::vector<int> channel0(const Image& img) {
  std::vector<int> v;
  for (std::size_t i = 0; i < img.pixels.size(); i += 3) v.push_back(img.pixels[i]);
  return v;
}

// The image   1 2 3   under each transform, written out by hand.
//             4 5 6
//             7 8 9
const std::vector<int> kExpected[8] = {
    {1, 2, 3, 4, 5, 6, 7, 8, 9},  // identity
    {3, 6, 9, 2, 5, 8, 1, 4, 7},  // quarter turn counter-clockwise
    {9, 8, 7, 6, 5, 4, 3, 2, 1},  // half turn
    {7, 4, 1, 8, 5, 2, 9, 6, 3},  // quarter turn clockwise
    {3, 2, 1, 6, 5, 4, 9, 8, 7},  // left-right mirror
    {1, 4, 7, 2, 5, 8, 3, 6, 9},  // mirror then ccw turn: transpose
    {7, 8, 9, 4, 5, 6, 1, 2, 3},  // mirror then half turn: up-down flip
    {9, 6, 3, 8, 5, 2, 7, 4, 1},  // mirror then cw turn: anti-transpose
};

TEST(Dihedral, EachTransformMatchesHandWrittenResult) {
  Image img = numbered3x3();
  for (int k = 0; k < 8; ++k) {
    Image out = dihedral(img, k);
    EXPECT_EQ(channel0(out), kExpected[k]) << "k=" << k;
    // Channels move together.
    for (int p = 0; p < 9; ++p) {
      int src = out.pixels[static_cast<std::size_t>(p) * 3] - 1;
      EXPECT_EQ(out.pixels[static_cast<std::size_t>(p) * 3 + 2], 200 - src);
    }
  }
}

TEST(Dihedral, NonSquareMirrorsAndRejectsQuarterTurns) {
  Image img(3, 1);
  for (int x = 0; x < 3; ++x) img.at(0, x, 0) = static_cast<std::uint8_t>(x);
  EXPECT_EQ(channel0(dihedral(img, 4)), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(channel0(dihedral(img, 2)), (std::vector<int>{2, 1, 0}));
  EXPECT_THROW(dihedral(img, 1), Error);
  EXPECT_THROW(dihedral(img, 8), Error);
}

TEST(Warp, DihedralWarpsReproduceTheTransformsExactly) {
  Image img = numbered3x3();
  for (int k = 0; k < 8; ++k) {
    std::vector<float> out(27);
    warp_image(img.pixels.data(), 3, dihedral_warp(k, 3, 3), Normalization{}, out.data(), 3);
    Image expected = dihedral(img, k);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 9; ++p)
        EXPECT_FLOAT_EQ(out[static_cast<std::size_t>(c * 9 + p)],
                        expected.pixels[static_cast<std::size_t>(p) * 3 + static_cast<std::size_t>(c)] / 255.0f)
            << "k=" << k << " c=" << c << " p=" << p;
  }
}

TEST(Warp, NormalisesPerChannel) {
  Image img = numbered3x3();
  ChannelStats stats;
  stats.mean = {0.01f, 0.1f, 0.5f};
  stats.std = {0.5f, 0.25f, 2.0f};
  std::vector<float> out(27);
  warp_image(img.pixels.data(), 3, resize_warp(3, 3), stats.normalization(), out.data(), 3);
  EXPECT_NEAR(out[4], (5 / 255.0f - 0.01f) / 0.5f, 1e-6);
  EXPECT_NEAR(out[9 + 4], (50 / 255.0f - 0.1f) / 0.25f, 1e-6);
  EXPECT_NEAR(out[18 + 4], (196 / 255.0f - 0.5f) / 2.0f, 1e-6);
}

TEST(Warp, ReflectionPaddingMirrorsAboutTheEdges) {
  EXPECT_FLOAT_EQ(reflect_coordinate(2.0f, 4), 2.0f);
  EXPECT_FLOAT_EQ(reflect_coordinate(-1.0f, 4), 0.0f);  // edge at -0.5
  EXPECT_FLOAT_EQ(reflect_coordinate(-2.0f, 4), 1.0f);
  EXPECT_FLOAT_EQ(reflect_coordinate(4.0f, 4), 3.0f);  // edge at 3.5
  EXPECT_FLOAT_EQ(reflect_coordinate(5.25f, 4), 1.75f);
  EXPECT_FLOAT_EQ(reflect_coordinate(-0.25f, 4), 0.0f);  // inside the half pixel: clamped
}

TEST(Warp, ResizeWarpAlignsPixelCentres) {
  // 2 -> 4: output centres map to -0.25, 0.25, 0.75, 1.25 -> values 0, 25, 75, 100 (reflect/clamp at ends).
  Image img(2, 2);
  for (int y = 0; y < 2; ++y) {
    img.at(y, 0, 0) = 0;
    img.at(y, 1, 0) = 100;
  }
  std::vector<float> out(48);
  warp_image(img.pixels.data(), 2, resize_warp(2, 4), Normalization{}, out.data(), 4);
  EXPECT_NEAR(out[0] * 255, 0, 1e-4);
  EXPECT_NEAR(out[1] * 255, 25, 1e-4);
  EXPECT_NEAR(out[2] * 255, 75, 1e-4);
  EXPECT_NEAR(out[3] * 255, 100, 1e-4);
}

TEST(Augment, DrawIsAFunctionOfSeedEpochAndIndex) {
  AugmentOptions opts;
  opts.brightness = 0.2f;
  auto same = [](const Warp& a, const Warp& b) {
    for (int i = 0; i < 6; ++i)
      if (a.m[i] != b.m[i]) return false;
    return a.brightness == b.brightness;
  };
  EXPECT_TRUE(same(draw_warp(opts, 1, 2, 3, 128, 128), draw_warp(opts, 1, 2, 3, 128, 128)));
  EXPECT_FALSE(same(draw_warp(opts, 1, 2, 3, 128, 128), draw_warp(opts, 1, 2, 4, 128, 128)));
  EXPECT_FALSE(same(draw_warp(opts, 1, 2, 3, 128, 128), draw_warp(opts, 1, 3, 3, 128, 128)));
  EXPECT_FALSE(same(draw_warp(opts, 1, 2, 3, 128, 128), draw_warp(opts, 2, 2, 3, 128, 128)));
}

TEST(Augment, ZoomRotationAndShiftStayWithinTheirBounds) {
  AugmentOptions opts;  // fastai defaults: max_zoom 1.1, max_rotate 10 degrees
  int dihedral_seen[8] = {};
  for (std::uint64_t i = 0; i < 2000; ++i) {
    Warp w = draw_warp(opts, 9, 0, i, 128, 128);
    // Linear part = scale * (dihedral * rotation): its determinant is +-scale^2.
    double det = static_cast<double>(w.m[0]) * w.m[4] - static_cast<double>(w.m[1]) * w.m[3];
    double scale = std::sqrt(std::abs(det));
    ASSERT_GE(scale, 1 / 1.1 - 1e-5);
    ASSERT_LE(scale, 1 + 1e-5);
    // The rotation angle: the matrix columns are at most 10 degrees off the axes.
    double off_axis = std::min(std::abs(w.m[0]), std::abs(w.m[1])) / scale;
    ASSERT_LE(off_axis, std::sin(10.0 * 3.14159265358979 / 180) + 1e-5);
    // The crop centre (source of the output centre) stays where the zoomed window fits.
    double cx = w.m[0] * 63.5 + w.m[1] * 63.5 + w.m[2];
    ASSERT_LE(std::abs(cx - 63.5), (128 - 128 * scale) / 2 + 1e-3);
    EXPECT_EQ(w.brightness, 1.0f);
    int k = (w.m[0] * w.m[4] - w.m[1] * w.m[3] < 0 ? 4 : 0);  // mirrored?
    ++dihedral_seen[k];
  }
  EXPECT_GT(dihedral_seen[0], 800);  // about half mirrored, half not
  EXPECT_GT(dihedral_seen[4], 800);
}

TEST(Augment, OffMeansIdentity) {
  AugmentOptions opts;
  opts.dihedral = false;
  opts.max_zoom = 1;
  opts.max_rotate_deg = 0;
  Warp w = draw_warp(opts, 1, 1, 1, 16, 16), id = resize_warp(16, 16);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(w.m[i], id.m[i], 1e-6);
}

TEST(Tta, DihedralBatchMatchesImageTransforms) {
  Image img = numbered3x3();
  std::vector<float> values(2 * 27);
  for (int b = 0; b < 2; ++b)
    warp_image(img.pixels.data(), 3, resize_warp(3, 3), Normalization{}, values.data() + b * 27, 3);
  Tensor batch = Tensor::from_vector({2, 3, 3, 3}, values);
  for (int k = 0; k < 8; ++k) {
    std::vector<float> got = dihedral_batch(batch, k).to_vector();
    Image expected = dihedral(img, k);
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 9; ++p)
          EXPECT_FLOAT_EQ(got[static_cast<std::size_t>(b * 27 + c * 9 + p)],
                          expected.pixels[static_cast<std::size_t>(p * 3 + c)] / 255.0f);
  }
}

}  // namespace
}  // namespace gcnn
