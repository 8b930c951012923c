// Timing spreads, device descriptions, device peaks and JSON reports for the
// `gcnn bench` subcommands (see bench_report.h).
#include "apps/bench_report.h"

#include <cblas.h>
#include <omp.h>
#include <sys/resource.h>

#include <fmt/core.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "data/csv.h"
#include "kernels/build_info.h"
#include "kernels/cpu/isa.h"
#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "kernels/ops/linear.h"
#include "kernels/tensor.h"

namespace gcnn::app {
namespace {

using Clock = std::chrono::steady_clock;

double percentile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - static_cast<double>(lo));
}

// fp32 lanes per SM by compute capability (CUDA C Programming Guide, "Arithmetic
// Instructions" throughput table); 0 for an architecture this table predates.
int fp32_lanes_per_sm(int major, int minor) {
  if (major == 7) return 64;
  if (major == 8) return minor == 0 ? 64 : 128;
  if (major == 9 || major == 10 || major == 12) return 128;
  return 0;
}

std::string cpu_model() { return list_devices().front().name; }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
}

// Median rate of a large C = A B through oneDNN's matmul primitive (the library the convolutions use).
double onednn_sgemm_flops(std::int64_t n) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc md({n, n}, dt::f32, tag::ab);
  const Tensor a = Tensor::full({n, n}, 0.5f), b = Tensor::full({n, n}, 0.25f);
  Tensor c = Tensor::empty({n, n});
  dnnl::memory am(md, engine, a.data<float>()), bm(md, engine, b.data<float>()),
      cm(md, engine, c.data<float>());
  dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), engine));
  auto run = [&] { matmul.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}}); };
  run();
  const Spread s = spread_of(time_runs(run, [&] { stream.wait(); }, 3, 0.5, 20));
  return 2.0 * static_cast<double>(n) * n * n / s.median;
}

// Median rate of y = x w^T through ops::linear_forward (OpenBLAS sgemm on the CPU, cuBLAS on CUDA).
double linear_sgemm_flops(Device device, std::int64_t n) {
  const Tensor x = Tensor::full({n, n}, 0.5f, device), w = Tensor::full({n, n}, 0.25f, device);
  Tensor y = Tensor::empty({n, n}, device);
  auto run = [&] { ops::linear_forward(x, w, Tensor(), y); };
  auto sync = [&] {
    if (device.is_cuda()) cuda::synchronize(device.index);
  };
  run();
  sync();
  const Spread s = spread_of(time_runs(run, sync, 3, 0.5, 50));
  return 2.0 * static_cast<double>(n) * n * n / s.median;
}

// Median bandwidth of copying a 256 MiB buffer (read + write counted), split over the OpenMP threads.
double host_copy_bandwidth() {
  const std::size_t bytes = std::size_t{256} << 20;
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  auto run = [&] {
#pragma omp parallel
    {
      const std::size_t threads = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t chunk = (bytes + threads - 1) / threads, begin = std::min(bytes, t * chunk);
      std::memcpy(dst.data() + begin, src.data() + begin, std::min(bytes, begin + chunk) - begin);
    }
  };
  run();
  return 2.0 * static_cast<double>(bytes) / spread_of(time_runs(run, [] {}, 5, 0.5, 50)).median;
}

// Median bandwidth of a 1 GiB device-to-device copy (read + write counted).
double device_copy_bandwidth(int device) {
  const std::size_t bytes = std::size_t{1} << 30;
  Tensor a = Tensor::zeros({static_cast<std::int64_t>(bytes / 4)}, Device::cuda(device));
  Tensor b = Tensor::empty(a.shape(), Device::cuda(device));
  auto run = [&] { cuda::copy(device, b.data<float>(), a.data<float>(), bytes, cuda::CopyKind::DeviceToDevice); };
  run();
  return 2.0 * static_cast<double>(bytes) / spread_of(time_runs(run, [] {}, 5, 0.5, 50)).median;
}

}  // namespace

Spread spread_of(std::vector<double> seconds) {
  GCNN_CHECK(!seconds.empty(), "spread_of: no timings");
  std::sort(seconds.begin(), seconds.end());
  return {percentile(seconds, 0.5), percentile(seconds, 0.1), percentile(seconds, 0.9), seconds.front(),
          seconds.back(), static_cast<int>(seconds.size())};
}

nlohmann::json spread_json_ms(const Spread& s) {
  return {{"median_ms", s.median * 1e3}, {"p10_ms", s.p10 * 1e3}, {"p90_ms", s.p90 * 1e3},
          {"min_ms", s.min * 1e3},       {"max_ms", s.max * 1e3}, {"runs", s.count}};
}

std::vector<double> time_runs(const std::function<void()>& run, const std::function<void()>& sync, int min_runs,
                              double min_seconds, int max_runs) {
  std::vector<double> out;
  const auto start = Clock::now();
  while (static_cast<int>(out.size()) < max_runs &&
         (static_cast<int>(out.size()) < min_runs ||
          std::chrono::duration<double>(Clock::now() - start).count() < min_seconds)) {
    const auto t0 = Clock::now();
    run();
    sync();
    out.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return out;
}

nlohmann::json device_json(Device device) {
  if (device.is_cpu())
    return {{"kind", "cpu"},
            {"name", cpu_model()},
            {"hardware_threads", std::thread::hardware_concurrency()},
            {"omp_threads", omp_get_max_threads()},
            {"onednn_isa", cpu::onednn_isa()},
            {"onednn_version", onednn_version()},
            {"openblas_config", openblas_get_config()},
            {"build", build_info::describe()}};
  const cuda::DeviceProperties p = cuda::device_properties(device.index);
  return {{"kind", "cuda"},
          {"index", device.index},
          {"name", p.name},
          {"compute_capability", fmt::format("{}.{}", p.major, p.minor)},
          {"multiprocessors", p.multiprocessors},
          {"sm_clock_mhz", p.clock_khz / 1000.0},
          {"memory_clock_mhz", p.memory_clock_khz / 1000.0},
          {"memory_bus_bits", p.memory_bus_bits},
          {"memory_gib", static_cast<double>(p.total_memory) / (1 << 30)},
          {"driver_version", fmt::format("{}.{}", p.driver_version / 1000, p.driver_version % 1000 / 10)},
          {"runtime_version", fmt::format("{}.{}", p.runtime_version / 1000, p.runtime_version % 1000 / 10)},
          {"cudnn_version", fmt::format("{}.{}.{}", p.cudnn_version / 10000, p.cudnn_version % 10000 / 100,
                                        p.cudnn_version % 100)},
          {"build", build_info::describe()}};
}

std::string device_line(Device device) {
  const nlohmann::json d = device_json(device);
  if (device.is_cpu())
    return fmt::format("cpu: {}, {} hardware threads, {} OpenMP threads, oneDNN {} ISA \"{}\"",
                       d["name"].get<std::string>(), d["hardware_threads"].get<unsigned>(), d["omp_threads"].get<int>(),
                       d["onednn_version"].get<std::string>(), d["onednn_isa"].get<std::string>());
  return fmt::format("{}: {}, {} SMs at {:.0f} MHz, compute capability {}, driver {}, runtime {}, cuDNN {}",
                     device.str(), d["name"].get<std::string>(), d["multiprocessors"].get<int>(),
                     d["sm_clock_mhz"].get<double>(), d["compute_capability"].get<std::string>(),
                     d["driver_version"].get<std::string>(), d["runtime_version"].get<std::string>(),
                     d["cudnn_version"].get<std::string>());
}

DevicePeaks device_peaks(Device device) {
  DevicePeaks peaks;
  if (device.is_cpu()) {
    const double onednn = onednn_sgemm_flops(2048), openblas = linear_sgemm_flops(device, 2048);
    const double copy = host_copy_bandwidth();
    peaks.measurements = {{"onednn_matmul_2048_gflops", onednn * 1e-9},
                          {"openblas_sgemm_2048_gflops", openblas * 1e-9},
                          {"memcpy_256MiB_gbps", copy * 1e-9}};
    peaks.flops = std::max(onednn, openblas);
    peaks.flops_source = fmt::format("measured: best of oneDNN matmul ({:.1f} GFLOP/s) and OpenBLAS sgemm "
                                     "({:.1f} GFLOP/s), 2048x2048x2048",
                                     onednn * 1e-9, openblas * 1e-9);
    peaks.bytes_per_second = copy;
    peaks.bandwidth_source = "measured: 256 MiB memcpy over the OpenMP threads, read + write counted";
    return peaks;
  }
  const cuda::DeviceProperties p = cuda::device_properties(device.index);
  const double gemm = linear_sgemm_flops(device, 8192), copy = device_copy_bandwidth(device.index);
  peaks.measurements = {{"cublas_sgemm_8192_gflops", gemm * 1e-9}, {"device_copy_1GiB_gbps", copy * 1e-9}};
  const int lanes = fp32_lanes_per_sm(p.major, p.minor);
  if (lanes > 0 && p.clock_khz > 0) {
    peaks.flops = 2.0 * lanes * p.multiprocessors * p.clock_khz * 1e3;
    peaks.flops_source = fmt::format("device properties: {} SMs x {} fp32 lanes x 2 x {:.0f} MHz", p.multiprocessors,
                                     lanes, p.clock_khz / 1000.0);
  } else {
    peaks.flops = gemm;
    peaks.flops_source = "measured: cuBLAS sgemm 8192 (no fp32 lane count known for this architecture)";
  }
  if (p.memory_clock_khz > 0 && p.memory_bus_bits > 0) {
    // Double data rate: two transfers per memory clock.
    peaks.bytes_per_second = 2.0 * p.memory_clock_khz * 1e3 * p.memory_bus_bits / 8.0;
    peaks.bandwidth_source = fmt::format("device properties: 2 x {:.0f} MHz x {}-bit bus",
                                         p.memory_clock_khz / 1000.0, p.memory_bus_bits);
  } else {
    peaks.bytes_per_second = copy;
    peaks.bandwidth_source = "measured: 1 GiB device-to-device copy, read + write counted";
  }
  return peaks;
}

nlohmann::json peaks_json(const DevicePeaks& p) {
  return {{"fp32_tflops", p.flops * 1e-12},
          {"fp32_source", p.flops_source},
          {"dram_gbps", p.bytes_per_second * 1e-9},
          {"dram_source", p.bandwidth_source},
          {"measured", p.measurements}};
}

double host_load_average() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

std::size_t peak_host_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

void write_json_report(const std::filesystem::path& path, const nlohmann::json& report) {
  write_file_atomic(path, report.dump(2) + "\n");
}

}  // namespace gcnn::app
