// The tiny synthetic experiment that the training-command tests run (a plain
// CNN on 16 px synthetic galaxies, one epoch on one CPU thread), and a fresh
// per-test folder to run it in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace gcnn::test {

// The experiment YAML, named name, on `galaxies` synthetic galaxies drawn with
// data_seed.
std::string tiny_experiment(const std::string& name, int galaxies, std::uint64_t data_seed);

// <temp>/gcnn_<name>, emptied and created, holding the experiment as tiny.yaml.
std::filesystem::path fresh_experiment_dir(const std::string& name, const std::string& experiment_yaml);

}  // namespace gcnn::test
