// gcnn: the command-line program. Parses the command line, then runs the chosen
// subcommand; errors are printed on one line and give a non-zero exit status.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "apps/command.h"
#include "kernels/build_info.h"
#include "kernels/error.h"

namespace gcnn::app {

std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

void add_device_option(CLI::App& command, std::string& spec) {
  spec = "auto";
  command.add_option("--device", spec, "Device: auto, cpu, cuda or cuda:N")->capture_default_str();
}

}  // namespace gcnn::app

int main(int argc, char** argv) {
  using namespace gcnn;
  CLI::App cli{"galaxy-cnns: residual networks that read galaxy images", "gcnn"};
  cli.require_subcommand(0, 1);
  bool show_version = false;
  cli.add_flag("--version", show_version, "Print version, git commit and whether CUDA was compiled in");

  auto& registry = app::command_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::function<int()> to_run;
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  for (auto& entry : registry) {
    CLI::App* sub = cli.add_subcommand(entry.name, entry.description);
    commands.emplace_back(sub, entry.setup(*sub));
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  try {
    if (show_version) {
      fmt::print("{}\n", build_info::describe());
      return 0;
    }
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) return run();
    }
    fmt::print("{}", cli.help());
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "gcnn: error: {}\n", e.what());
    return 1;
  }
}
