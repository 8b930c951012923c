// Progress display for long downloads: on a terminal one line redrawn in place
// (bar, done/failed/remaining, rate, ETA); elsewhere (logs, pipes) a plain
// line every few seconds, so log files stay readable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace gcnn::sdss {

struct ProgressCounts {
  std::size_t total = 0;      // items in this run (skipped ones excluded)
  std::size_t done = 0;       // finished successfully
  std::size_t failed = 0;     // finished with a permanent failure
  std::size_t retrying = 0;   // waiting for a retry
};

// "1h02m", "3m05s", "12s"; "?" for a negative or non-finite value.
std::string format_duration(double seconds);

// One status line, without line end; rate in items/s (negative: unknown).
std::string format_progress_line(const ProgressCounts& counts, double rate_per_s, bool with_bar);

class ProgressBar {
 public:
  // interactive: redraw one line with '\r'; otherwise print a line at most every
  // plain_interval_s seconds. out may be nullptr (silent).
  ProgressBar(std::FILE* out, bool interactive, double plain_interval_s = 5.0);
  // Shows counts if enough time passed since the last line (or force).
  void update(const ProgressCounts& counts, bool force = false);
  // Final line (and the line end on a terminal).
  void finish(const ProgressCounts& counts);

 private:
  using Clock = std::chrono::steady_clock;
  double rate(const ProgressCounts& counts) const;

  std::FILE* out_;
  bool interactive_;
  double interval_s_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_print_{};
  bool printed_ = false;
};

}  // namespace gcnn::sdss
