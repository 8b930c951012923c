// Devices: the CPU and CUDA:N, parsing of --device specs (auto|cpu|cuda|cuda:N)
// and the report behind `gcnn devices`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gcnn {

struct Device {
  enum class Kind : std::uint8_t { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  static Device cpu() { return {Kind::CPU, 0}; }
  static Device cuda(int index = 0) { return {Kind::CUDA, index}; }
  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  std::string str() const;
  friend bool operator==(const Device&, const Device&) = default;
};

// Resolves a device spec. "auto" picks cuda:0 when a CUDA device is usable and
// the CPU otherwise; "cuda"/"cuda:N" must name a usable device or it throws with
// the reason (not compiled in, no device, index out of range).
Device parse_device(std::string_view spec);
// True when spec is written as auto, cpu, cuda or cuda:N (its syntax only,
// whatever devices this machine has).
bool is_device_spec(std::string_view spec);

struct DeviceInfo {
  Device device;
  std::string name;
  std::string detail;  // cores and ISA for the CPU; memory, SM count, capability for CUDA
};

// Every usable device, the CPU first.
std::vector<DeviceInfo> list_devices();

// One line saying why no CUDA device is used, or "" when one is available.
std::string cuda_unavailable_reason();

}  // namespace gcnn
