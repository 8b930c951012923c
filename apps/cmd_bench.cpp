// gcnn bench: runs one registered benchmark subcommand (see apps/bench.h).
#include <algorithm>
#include <memory>

#include "apps/bench.h"

namespace gcnn::app {

std::vector<CommandEntry>& bench_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}

}  // namespace gcnn::app

namespace {

using BenchRuns = std::vector<std::pair<CLI::App*, std::function<int()>>>;

GCNN_COMMAND("bench", "Measure throughput (subcommands: data, ...)", [](CLI::App& cmd) {
  cmd.require_subcommand(1);
  auto& registry = gcnn::app::bench_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  auto runs = std::make_shared<BenchRuns>();
  for (auto& entry : registry) {
    CLI::App* sub = cmd.add_subcommand(entry.name, entry.description);
    runs->emplace_back(sub, entry.setup(*sub));
  }
  return [runs] {
    for (auto& [sub, run] : *runs)
      if (sub->parsed()) return run();
    return 1;
  };
});

}  // namespace
