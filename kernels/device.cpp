// Device parsing and listing.
#include "kernels/device.h"

#include <omp.h>

#include <fstream>
#include <charconv>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"

namespace gcnn {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

std::string cuda_unavailable_reason() {
  std::string why;
  return cuda::device_count(&why) > 0 ? std::string() : why;
}

namespace {
// The N of "cuda:N" (0 for "cuda"); -1 when spec is not one of those.
int cuda_index(std::string_view spec) {
  if (spec == "cuda") return 0;
  if (!spec.starts_with("cuda:")) return -1;
  const std::string_view digits = spec.substr(5);
  int index = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() && digits[0] != '-' ? index
                                                                                                        : -1;
}
}  // namespace

bool is_device_spec(std::string_view spec) { return spec == "cpu" || spec == "auto" || cuda_index(spec) >= 0; }

Device parse_device(std::string_view spec) {
  if (spec == "cpu") return Device::cpu();
  if (spec == "auto") {
    std::string why;
    return cuda::device_count(&why) > 0 ? Device::cuda(0) : Device::cpu();
  }
  if (spec == "cuda" || spec.starts_with("cuda:")) {
    const int index = cuda_index(spec);
    GCNN_INPUT_CHECK(index >= 0, "bad device '{}': expected auto, cpu, cuda or cuda:N", spec);
    std::string why;
    int count = cuda::device_count(&why);
    GCNN_INPUT_CHECK(count > 0, "device '{}' requested but no CUDA device is usable: {}", spec, why);
    GCNN_INPUT_CHECK(index < count, "device '{}' requested but only {} CUDA device(s) exist", spec, count);
    return Device::cuda(index);
  }
  GCNN_INPUT_FAIL("bad device '{}': expected auto, cpu, cuda or cuda:N", spec);
}

namespace {
std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}
}  // namespace

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  out.push_back({Device::cpu(), cpu_model_name(), fmt::format("{} OpenMP threads", omp_get_max_threads())});
  std::string why;
  int count = cuda::device_count(&why);
  for (int i = 0; i < count; ++i) {
    auto p = cuda::device_properties(i);
    out.push_back({Device::cuda(i), p.name,
                   fmt::format("{:.1f} GiB, {} SMs, compute capability {}.{}",
                               static_cast<double>(p.total_memory) / (1 << 30), p.multiprocessors,
                               p.major, p.minor)});
  }
  return out;
}

}  // namespace gcnn
