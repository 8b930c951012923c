// Registry of `gcnn bench` subcommands: each apps/cmd_bench_*.cpp registers one
// (gcnn bench data, later gcnn bench ops, ...) with GCNN_BENCH, like GCNN_COMMAND.
#pragma once

#include "apps/command.h"

namespace gcnn::app {

std::vector<CommandEntry>& bench_registry();

struct BenchRegistration {
  BenchRegistration(std::string name, std::string description, CommandSetup setup) {
    bench_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace gcnn::app

#define GCNN_BENCH(name, description, setup) \
  static ::gcnn::app::BenchRegistration GCNN_COMMAND_CONCAT(gcnn_bench_, __LINE__)(name, description, setup)
