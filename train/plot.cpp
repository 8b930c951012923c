// Running the matplotlib figure script (see plot.h).
#include "train/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "kernels/error.h"

extern char** environ;

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

fs::path plot_script() {
  if (const char* env = std::getenv("GCNN_PLOT_SCRIPT"); env && *env) return env;
  return GCNN_PLOT_SCRIPT;  // the source tree's script, set by CMake
}

struct ProcessResult {
  int status = -1;     // exit status, -1 when it did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs argv[0] with argv (no shell) and collects its output.
ProcessResult run_process(const std::vector<std::string>& args) {
  int pipe_fds[2];
  GCNN_CHECK(::pipe(pipe_fds) == 0, "cannot create a pipe to run {}", args[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  ProcessResult r;
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    r.output = fmt::format("cannot run {}: {}", args[0], std::strerror(spawned));
    return r;
  }
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the script with args; returns the PNG paths it printed.
std::vector<fs::path> run_script(const std::vector<std::string>& args) {
  const std::string why = plotting_unavailable_reason();
  GCNN_INPUT_CHECK(why.empty(), "cannot draw figures: {}", why);
  std::vector<std::string> argv{kPython, plot_script().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = run_process(argv);
  std::string message = r.output;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  GCNN_INPUT_CHECK(r.status == 0, "{}", message.empty() ? "the figure script failed without a message" : message);
  std::vector<fs::path> files;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > 4 && line.ends_with(".png")) files.emplace_back(line);
  return files;
}

}  // namespace

std::string plotting_unavailable_reason() {
  const fs::path script = plot_script();
  if (!fs::is_regular_file(script)) return fmt::format("the figure script {} is missing", script.string());
  if (::access(kPython, X_OK) != 0) return fmt::format("{} is not installed", kPython);
  const ProcessResult r = run_process({kPython, "-c", "import matplotlib, numpy, PIL"});
  if (r.status != 0)
    return fmt::format("{} cannot import matplotlib, numpy and PIL (Debian: apt-get install python3-matplotlib "
                       "python3-numpy)",
                       kPython);
  return {};
}

std::vector<fs::path> plot_run(const fs::path& run_dir, const fs::path& out, bool curves_only) {
  std::vector<std::string> args{"--run", run_dir.string()};
  if (!out.empty()) args.insert(args.end(), {"--out", out.string()});
  if (curves_only) args.insert(args.end(), {"--only", "curves"});
  return run_script(args);
}

std::vector<fs::path> plot_predictions(const fs::path& csv, const fs::path& out) {
  std::vector<std::string> args{"--predictions", csv.string()};
  if (!out.empty()) args.insert(args.end(), {"--out", out.string()});
  return run_script(args);
}

}  // namespace gcnn::train
