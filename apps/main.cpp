// gcnn: the command-line program. Parses the command line, then runs the chosen
// subcommand; errors are printed on one line and give a non-zero exit status.
#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "apps/command.h"
#include "kernels/build_info.h"
#include "kernels/communicator.h"
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

void require_one_process(const std::string& command) {
  const int ranks = launcher_world_size();
  if (ranks <= 1) return;
  if (launcher_rank() != 0) std::exit(1);
  throw InputError(fmt::format("gcnn {} runs in one process; launch without mpirun/srun (this is one of {} ranks; "
                               "only gcnn train trains data-parallel)",
                               command, ranks));
}

}  // namespace gcnn::app

namespace {

// libgomp reads OMP_WAIT_POLICY once, before main. Its default spins idle
// OpenMP threads, which on a 2-core machine steals the cores from the data
// loader's threads and made training several times slower (105 vs 769
// images/s on the 32 px demo). Unless the user chose a policy, restart the
// program once with the passive one.
void prefer_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the default policy.
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gcnn;
  prefer_passive_openmp_waits(argv);
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
