// Progress line formatting and the terminal / log-file progress display.
#include "data/sdss/progress.h"

#include <fmt/format.h>

#include <cmath>

namespace gcnn::sdss {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<long long>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string format_progress_line(const ProgressCounts& c, double rate_per_s, bool with_bar) {
  std::size_t finished = c.done + c.failed;
  std::size_t remaining = c.total > finished ? c.total - finished : 0;
  std::string bar;
  if (with_bar) {
    constexpr int width = 24;
    int filled = c.total ? static_cast<int>(width * finished / c.total) : width;
    bar = fmt::format("[{}{}] ", std::string(filled, '#'), std::string(width - filled, '.'));
  }
  std::string rate = rate_per_s >= 0 ? fmt::format("{:.1f}/s", rate_per_s) : "?/s";
  double eta = rate_per_s > 0 ? remaining / rate_per_s : (remaining == 0 ? 0.0 : -1.0);
  std::string retry = c.retrying ? fmt::format(", {} retrying", c.retrying) : "";
  return fmt::format("{}{}/{} done, {} failed, {} remaining{}, {}, ETA {}", bar, c.done, c.total, c.failed,
                     remaining, retry, rate, format_duration(eta));
}

ProgressBar::ProgressBar(std::FILE* out, bool interactive, double plain_interval_s)
    : out_(out), interactive_(interactive), interval_s_(interactive ? 0.2 : plain_interval_s) {}

double ProgressBar::rate(const ProgressCounts& counts) const {
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  std::size_t finished = counts.done + counts.failed;
  if (elapsed < 0.5 || finished == 0) return -1.0;
  return finished / elapsed;
}

void ProgressBar::update(const ProgressCounts& counts, bool force) {
  if (!out_) return;
  auto now = Clock::now();
  if (!force && printed_ && std::chrono::duration<double>(now - last_print_).count() < interval_s_) return;
  last_print_ = now;
  printed_ = true;
  std::string line = format_progress_line(counts, rate(counts), interactive_);
  if (interactive_) {
    fmt::print(out_, "\r{}\x1b[K", line);
  } else {
    fmt::print(out_, "{}\n", line);
  }
  std::fflush(out_);
}

void ProgressBar::finish(const ProgressCounts& counts) {
  if (!out_) return;
  update(counts, true);
  if (interactive_) fmt::print(out_, "\n");
  std::fflush(out_);
}

}  // namespace gcnn::sdss
