// Runs an emulated-CUDA check under every order of threads between barriers
// (forward, reverse, shuffled), so a kernel that relies on one order fails.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "kernels/cuda/emulation/control.h"

namespace gcnn::test {

inline void for_each_thread_order(const std::function<void()>& check) {
  const emu::Schedule saved = emu::schedule();
  for (emu::Schedule order : {emu::Schedule::Forward, emu::Schedule::Reverse, emu::Schedule::Shuffled}) {
    SCOPED_TRACE(order == emu::Schedule::Forward ? "forward thread order"
                 : order == emu::Schedule::Reverse ? "reverse thread order"
                                                   : "shuffled thread order");
    emu::set_schedule(order);
    check();
  }
  emu::set_schedule(saved);
}

}  // namespace gcnn::test
