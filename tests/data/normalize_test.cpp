// Channel statistics by hand and their YAML round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "data/normalize.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

TEST(ChannelStats, MeanAndStdOverTheChosenImagesOnly) {
  // Two 1x1 images... of 2x2 pixels: image 0 R = {0, 255, 0, 255}, G = 51, B = {0,0,0,102};
  // image 1 all 255 (left out of the split); image 2 R = {255 x4}, G = 51, B = 0.
  std::vector<std::uint8_t> px;
  auto push = [&](int r, int g, int b) {
    px.push_back(static_cast<std::uint8_t>(r));
    px.push_back(static_cast<std::uint8_t>(g));
    px.push_back(static_cast<std::uint8_t>(b));
  };
  push(0, 51, 0), push(255, 51, 0), push(0, 51, 0), push(255, 51, 102);
  for (int i = 0; i < 4; ++i) push(255, 255, 255);
  for (int i = 0; i < 4; ++i) push(255, 51, 0);
  ImageDataset images = ImageDataset::from_pixels(2, px);
  ChannelStats s = compute_channel_stats(images, {0, 2});
  // R over 8 pixels: six of 1.0, two of 0 -> mean 0.75, var 0.75 - 0.5625 = 0.1875.
  EXPECT_NEAR(s.mean[0], 0.75, 1e-6);
  EXPECT_NEAR(s.std[0], std::sqrt(0.1875), 1e-6);
  EXPECT_NEAR(s.mean[1], 0.2, 1e-6);
  EXPECT_NEAR(s.std[1], 1e-6, 1e-7);  // constant channel: floored, never zero
  // B: one pixel of 0.4 among 8 -> mean 0.05, var 0.16/8 - 0.0025 = 0.0175.
  EXPECT_NEAR(s.mean[2], 0.05, 1e-6);
  EXPECT_NEAR(s.std[2], std::sqrt(0.0175), 1e-6);
  EXPECT_EQ(s.count, 8u);
  EXPECT_THROW(compute_channel_stats(images, {}), Error);
}

TEST(ChannelStats, YamlRoundTripIsExact) {
  ChannelStats s;
  s.mean = {0.0412345678f, 0.1f, 1.0f / 3};
  s.std = {0.085f, 0.0734f, 2.5e-3f};
  s.count = 123456789;
  ChannelStats back = ChannelStats::from_yaml(s.to_yaml(), "mem");
  EXPECT_EQ(back.mean, s.mean);
  EXPECT_EQ(back.std, s.std);
  EXPECT_EQ(back.count, s.count);
}

TEST(ChannelStats, BadYamlNamesTheSourceAndKey) {
  auto message = [](const std::string& text) {
    try {
      ChannelStats::from_yaml(text, "run/stats.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("mean: [1, 2]\nstd: [1, 1, 1]\n").find("run/stats.yaml: 'mean' must be a list of 3"),
            std::string::npos);
  EXPECT_NE(message("mean: [1, 2, 3]\nstd: [1, 0, 1]\n").find("std[1]"), std::string::npos);
  EXPECT_NE(message("mean: [1, x, 3]\nstd: [1, 1, 1]\n").find("'mean[1]' is not a number"), std::string::npos);
  EXPECT_NE(message("[1, 2").find("run/stats.yaml"), std::string::npos);
}

}  // namespace
}  // namespace gcnn
