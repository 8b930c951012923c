// gcnn bench kernels: times every op of a ResNet-18/34 training step at 128 px
// (benchmarks/kernel_cases.h) on one device, forward and backward, and prints
// per op the median time and its spread, the achieved TFLOP/s (compute-bound
// ops) or GB/s (memory-bound ops) and the fraction of the device's fp32 or
// DRAM peak; --json writes the same with the device's description.
#include <fmt/core.h>

#include <regex>

#include "apps/bench.h"
#include "apps/bench_report.h"
#include "benchmarks/kernel_cases.h"
#include "kernels/error.h"

namespace {

struct BenchKernelsArgs {
  std::string device;
  std::string filter;
  std::string json;
  std::string precision = "fp32";
  int batch = 0;  // 0: 32 on the CPU, 128 on CUDA
  double min_seconds = 0.3;
  int min_runs = 5;
};

int run_bench_kernels(const BenchKernelsArgs& args) {
  using gcnn::app::spread_of;
  const gcnn::Device device = gcnn::parse_device(args.device);
  const int batch = args.batch > 0 ? args.batch : device.is_cpu() ? 32 : 128;
  const gcnn::Precision precision = gcnn::resolve_precision(args.precision, device);
  GCNN_INPUT_CHECK(batch <= 4096, "bench kernels: --batch {}: must be in [1, 4096]", batch);
  GCNN_INPUT_CHECK(args.min_runs >= 1 && args.min_runs <= 10000, "bench kernels: --min-runs {}: must be in [1, 10000]",
                   args.min_runs);
  GCNN_INPUT_CHECK(args.min_seconds >= 0 && args.min_seconds <= 60,
                   "bench kernels: --min-seconds {}: must be in [0, 60]", args.min_seconds);
  std::regex filter;
  try {
    filter = std::regex(args.filter.empty() ? std::string(".") : args.filter);
  } catch (const std::regex_error& e) {
    GCNN_INPUT_FAIL("bench kernels: --filter '{}': not a regular expression ({})", args.filter, e.what());
  }
  std::vector<gcnn::bench::KernelCase> cases;
  for (auto& kc : gcnn::bench::resnet_kernel_cases(batch, precision))
    if (std::regex_search(kc.name, filter) && !(kc.cuda_only && device.is_cpu())) cases.push_back(std::move(kc));
  GCNN_INPUT_CHECK(!cases.empty(), "bench kernels: --filter '{}' matches no op (names look like conv_fwd/l1_3x3_64x32)",
                   args.filter);

  const double load = gcnn::app::host_load_average();
  fmt::print("{}; host load average {:.2f}\n", gcnn::app::device_line(device), load);
  const gcnn::app::DevicePeaks peaks = gcnn::app::device_peaks(device);
  fmt::print("fp32 peak {:.3f} TFLOP/s ({})\nDRAM peak {:.1f} GB/s ({})\n", peaks.flops * 1e-12, peaks.flops_source,
             peaks.bytes_per_second * 1e-9, peaks.bandwidth_source);
  fmt::print("ResNet-18/34 step ops at 128 px, batch {}, {} convolutions and GEMMs; times over >= {} runs and >= {} "
             "s per op\n(% peak of a memory-bound op above 100: its operands stay in cache between runs; % of the "
             "fp32 peak for bf16 ops)\n",
             batch, gcnn::precision_name(precision), args.min_runs, args.min_seconds);
  fmt::print("{:<40} {:>10} {:>19} {:>14} {:>7}\n", "op", "median ms", "p10-p90 ms", "rate", "% peak");

  nlohmann::json rows = nlohmann::json::array();
  for (const auto& kc : cases) {
    const std::function<void()> run = kc.prepare(device);
    const auto sync = [device] { gcnn::bench::synchronize(device); };
    run();  // plans, caches and first-touch outside the timing
    sync();
    const gcnn::app::Spread s = spread_of(gcnn::app::time_runs(run, sync, args.min_runs, args.min_seconds, 100000));
    const bool compute = kc.flops > 0;
    const double rate = (compute ? kc.flops : kc.bytes) / s.median;
    const double fraction = rate / (compute ? peaks.flops : peaks.bytes_per_second);
    fmt::print("{:<40} {:>10.3f} {:>9.3f}-{:<9.3f} {:>9.3f} {} {:>6.1f}%\n", kc.name, s.median * 1e3, s.p10 * 1e3,
               s.p90 * 1e3, compute ? rate * 1e-12 : rate * 1e-9, compute ? "TF/s" : "GB/s", 100 * fraction);
    nlohmann::json row = {{"name", kc.name},   {"op", kc.op},       {"shape", kc.shape},
                          {"bound", compute ? "compute" : "memory"}, {"flops", kc.flops}, {"bytes", kc.bytes},
                          {"fraction_of_peak", fraction}};
    row.update(gcnn::app::spread_json_ms(s));
    if (compute) row["tflops"] = rate * 1e-12;
    else row["gbps"] = rate * 1e-9;
    rows.push_back(std::move(row));
  }
  if (!args.json.empty()) {
    nlohmann::json report = {{"schema", "gcnn-bench-kernels/1"},
                             {"device", gcnn::app::device_json(device)},
                             {"peaks", gcnn::app::peaks_json(peaks)},
                             {"image_size", 128},
                             {"batch", batch},
                             {"precision", gcnn::precision_name(precision)},
                             {"filter", args.filter},
                             {"host_load_average_at_start", load},
                             {"ops", rows}};
    gcnn::app::write_json_report(args.json, report);
    fmt::print("wrote {}\n", args.json);
  }
  return 0;
}

GCNN_BENCH("kernels", "Time every op of a ResNet-18/34 training step against the device's peak", [](CLI::App& cmd) {
  auto args = std::make_shared<BenchKernelsArgs>();
  gcnn::app::add_device_option(cmd, args->device);
  cmd.add_option("--filter", args->filter, "Regular expression: only ops whose name matches (e.g. '^conv_fwd')");
  cmd.add_option("--precision", args->precision, "Convolution and GEMM arithmetic: fp32, tf32 (CUDA), bf16 or auto")
      ->capture_default_str();
  cmd.add_option("--json", args->json, "Also write the results and the device's description to this JSON file");
  cmd.add_option("--batch", args->batch, "Batch size (default 32 on the CPU, 128 on CUDA)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--min-seconds", args->min_seconds, "Time each op for at least this long")->capture_default_str();
  cmd.add_option("--min-runs", args->min_runs, "Time each op at least this many times")->capture_default_str();
  return [args] { return run_bench_kernels(*args); };
});

}  // namespace
