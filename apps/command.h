// Subcommand registry of the gcnn program: each apps/cmd_*.cpp file registers
// one subcommand with GCNN_COMMAND, so adding a command touches no other file.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace gcnn::app {

// Called with the subcommand's CLI11 App: declare options there and return the
// function that runs the command (its return value is the exit status).
using CommandSetup = std::function<std::function<int()>(CLI::App& command)>;

struct CommandEntry {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

// Adds the --device option (auto|cpu|cuda|cuda:N) with default "auto".
void add_device_option(CLI::App& command, std::string& spec);

// For commands that run in one process only: started as one of several ranks
// of an mpirun/srun job, rank 0 throws "gcnn <command> runs in one process;
// launch without mpirun" and every other rank exits with status 1 unheard, so
// the job fails with one message.
void require_one_process(const std::string& command);

}  // namespace gcnn::app

#define GCNN_COMMAND_CONCAT_(a, b) a##b
#define GCNN_COMMAND_CONCAT(a, b) GCNN_COMMAND_CONCAT_(a, b)
#define GCNN_COMMAND(name, description, setup) \
  static ::gcnn::app::CommandRegistration GCNN_COMMAND_CONCAT(gcnn_command_, __LINE__)(name, description, setup)
