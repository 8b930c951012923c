// Device specs: parsing, errors, and the CPU fallback of "auto".
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"
#include "kernels/device.h"
#include "kernels/error.h"

namespace gcnn {
namespace {

TEST(Device, ParsesCpuAndNames) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(Device::cuda(3).str(), "cuda:3");
  EXPECT_EQ(Device::cpu().str(), "cpu");
}

TEST(Device, RejectsMalformedSpecs) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CPU", ""}) {
    try {
      parse_device(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bad device"), std::string::npos) << e.what();
    }
  }
}

TEST(Device, AutoFallsBackToCpuWithAReasonWhenNoCudaDevice) {
  // This program runs the CPU suite: the emulated device is hidden here.
  ASSERT_EQ(emu::device_count(), 0);
  EXPECT_EQ(parse_device("auto"), Device::cpu());
  EXPECT_FALSE(cuda_unavailable_reason().empty());
  try {
    parse_device("cuda:0");
    ADD_FAILURE() << "cuda:0 accepted without a device";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device is usable"), std::string::npos) << e.what();
  }
  auto devices = list_devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_TRUE(devices[0].device.is_cpu());
}

}  // namespace
}  // namespace gcnn
