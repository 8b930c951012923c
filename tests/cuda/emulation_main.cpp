// Entry point of the emulation tests: makes the emulated CUDA device visible,
// so Device::cuda(0) tensors and ops run through the CUDA backend on the host.
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  gcnn::emu::set_device_count(1);
  return RUN_ALL_TESTS();
}
