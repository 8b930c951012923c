// The tiny synthetic experiment of the training-command tests.
#include "tests/support/tiny_experiment.h"

#include <fmt/format.h>

#include <fstream>

namespace gcnn::test {

std::string tiny_experiment(const std::string& name, int galaxies, std::uint64_t data_seed) {
  return fmt::format(R"(name: {}
device: cpu
data:
  synthetic: {{n: {}, size: 16, seed: {}}}
  image_size: 16
  batch_size: 8
  workers: 1
model:
  preset: plain_cnn
  channels: [4, 8]
  head: {{kind: linear}}
loss: mse
phases:
  - {{epochs: 1, lr: 0.02}}
)",
                     name, galaxies, data_seed);
}

std::filesystem::path fresh_experiment_dir(const std::string& name, const std::string& experiment_yaml) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("gcnn_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tiny.yaml") << experiment_yaml;
  return dir;
}

}  // namespace gcnn::test
