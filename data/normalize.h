// Per-channel normalisation statistics: mean and standard deviation of the
// pixel values (scaled to [0, 1]) of the training split only, saved with runs
// and checkpoints as a small YAML text and applied unchanged at predict time:
//
//   # gcnn channel statistics: RGB pixel values / 255 of the training split
//   mean: [0.0412, 0.0391, 0.0337]
//   std: [0.0851, 0.0734, 0.0662]
//   count: 6553600          (pixels per channel; informational)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/image.h"
#include "kernels/warp.h"

namespace gcnn {

struct ChannelStats {
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};
  std::array<float, 3> std{1.0f, 1.0f, 1.0f};
  std::uint64_t count = 0;

  Normalization normalization() const;  // the form the warp kernels take
  std::string to_yaml() const;
  // Parses to_yaml's text (extra keys ignored); source names it in errors.
  static ChannelStats from_yaml(const std::string& text, const std::string& source);
  void save(const std::filesystem::path& path) const;
  static ChannelStats load(const std::filesystem::path& path);
};

// Mean and population standard deviation of each channel over the given images
// (all their pixels), accumulated in double. Throws if indices is empty.
ChannelStats compute_channel_stats(const ImageDataset& images, const std::vector<std::size_t>& indices);

}  // namespace gcnn
