// What `gcnn bench kernels`, `bench train` and `bench infer` share: timing
// spreads, the description of the device a result was measured on (so results
// of different machines can be compared), the device's peak FLOP/s and memory
// bandwidth (from its properties where the API gives them, measured otherwise,
// and said which), peak memory, and writing a JSON report atomically.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "kernels/device.h"

namespace gcnn::app {

// Median and spread of repeated timings, in seconds.
struct Spread {
  double median = 0, p10 = 0, p90 = 0, min = 0, max = 0;
  int count = 0;
};
Spread spread_of(std::vector<double> seconds);
nlohmann::json spread_json_ms(const Spread& s);

// Times run() (followed by sync()) at least min_runs times and until
// min_seconds have passed, at most max_runs times; seconds per run.
std::vector<double> time_runs(const std::function<void()>& run, const std::function<void()>& sync, int min_runs,
                              double min_seconds, int max_runs);

// The ISA oneDNN dispatches to on this CPU, in oneDNN's own words (as its
// verbose mode prints it, oneDNN 2.6), e.g. "Intel AVX-512 with Intel DL Boost
// and bfloat16 support and Intel AMX with bfloat16 and 8-bit integer support".
std::string onednn_isa();

// Name, cores or SMs, clocks, library versions and ISA of the device.
nlohmann::json device_json(Device device);
// One line for the top of a report.
std::string device_line(Device device);

// fp32 peaks the fractions are taken against, each with where it came from.
struct DevicePeaks {
  double flops = 0;             // fp32 FLOP/s
  std::string flops_source;     // "measured: ..." or "device properties: ..."
  double bytes_per_second = 0;  // DRAM bandwidth
  std::string bandwidth_source;
  nlohmann::json measurements;  // every measured rate, also where properties gave the peak
};
DevicePeaks device_peaks(Device device);
nlohmann::json peaks_json(const DevicePeaks& p);

// The host's 1-minute load average (getloadavg): a result measured on a busy
// machine says so in its report.
double host_load_average();

// Peak resident set size of this process so far (getrusage), in bytes.
std::size_t peak_host_rss_bytes();

// Writes the report with write_file_atomic (no partial file on failure).
void write_json_report(const std::filesystem::path& path, const nlohmann::json& report);

}  // namespace gcnn::app
