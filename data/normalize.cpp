// Channel statistics: computation over a split, YAML text round trip.
#include "data/normalize.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "data/csv.h"
#include "kernels/error.h"

namespace gcnn {

Normalization ChannelStats::normalization() const {
  Normalization n;
  for (int c = 0; c < 3; ++c) {
    n.mean[c] = mean[static_cast<std::size_t>(c)];
    n.inv_std[c] = 1.0f / std[static_cast<std::size_t>(c)];
  }
  return n;
}

std::string ChannelStats::to_yaml() const {
  return fmt::format(
      "# gcnn channel statistics: RGB pixel values / 255 of the training split\n"
      "mean: [{:.9g}, {:.9g}, {:.9g}]\nstd: [{:.9g}, {:.9g}, {:.9g}]\ncount: {}\n",
      mean[0], mean[1], mean[2], std[0], std[1], std[2], count);
}

ChannelStats ChannelStats::from_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    GCNN_FAIL("{}: invalid YAML for channel statistics: {}", source, e.what());
  }
  ChannelStats stats;
  auto read3 = [&](const char* key, std::array<float, 3>& out) {
    const YAML::Node node = root[key];
    GCNN_CHECK(node && node.IsSequence() && node.size() == 3, "{}: '{}' must be a list of 3 numbers", source, key);
    for (std::size_t c = 0; c < 3; ++c) {
      try {
        out[c] = node[c].as<float>();
      } catch (const YAML::Exception&) {
        GCNN_FAIL("{}: '{}[{}]' is not a number", source, key, c);
      }
      GCNN_CHECK(std::isfinite(out[c]), "{}: '{}[{}]' is not finite", source, key, c);
    }
  };
  GCNN_CHECK(root.IsMap(), "{}: channel statistics must be a YAML map with mean and std", source);
  read3("mean", stats.mean);
  read3("std", stats.std);
  for (std::size_t c = 0; c < 3; ++c) GCNN_CHECK(stats.std[c] > 0, "{}: std[{}] = {} must be positive", source, c, stats.std[c]);
  if (root["count"]) {
    try {
      stats.count = root["count"].as<std::uint64_t>();
    } catch (const YAML::Exception&) {
      GCNN_FAIL("{}: 'count' is not a whole number", source);
    }
  }
  return stats;
}

void ChannelStats::save(const std::filesystem::path& path) const { write_file_atomic(path, to_yaml()); }

ChannelStats ChannelStats::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  GCNN_CHECK(in.good(), "{}: cannot open channel statistics", path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return from_yaml(ss.str(), path.string());
}

ChannelStats compute_channel_stats(const ImageDataset& images, const std::vector<std::size_t>& indices) {
  GCNN_CHECK(!indices.empty(), "compute_channel_stats: no images in the training split");
  double sum[3] = {0, 0, 0}, sum_sq[3] = {0, 0, 0};
  std::vector<std::uint8_t> buffer(images.image_bytes());
  for (std::size_t i : indices) {
    const std::uint8_t* px = images.cached(i);
    if (!px) {
      images.get(i, buffer.data());
      px = buffer.data();
    }
    std::uint64_t hist[3][256] = {};
    for (std::size_t p = 0; p < images.image_bytes(); p += 3)
      for (int c = 0; c < 3; ++c) ++hist[c][px[p + static_cast<std::size_t>(c)]];
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v) {
        sum[c] += static_cast<double>(hist[c][v]) * v;
        sum_sq[c] += static_cast<double>(hist[c][v]) * v * v;
      }
  }
  ChannelStats stats;
  stats.count = static_cast<std::uint64_t>(indices.size()) * (images.image_bytes() / 3);
  const double n = static_cast<double>(stats.count);
  for (std::size_t c = 0; c < 3; ++c) {
    double mean = sum[c] / n / 255.0;
    double var = std::max(0.0, sum_sq[c] / n / (255.0 * 255.0) - mean * mean);
    stats.mean[c] = static_cast<float>(mean);
    stats.std[c] = static_cast<float>(std::max(std::sqrt(var), 1e-6));
  }
  return stats;
}

}  // namespace gcnn
