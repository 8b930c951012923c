// Every op of a ResNet-18/34 training step at 128 px, batch 32 (the cases of
// kernel_cases.h, shared with `gcnn bench kernels`) under Google Benchmark, on
// the CPU and, when a device is usable, on CUDA. Compute-bound ops show a
// GFLOP counter, memory-bound ones a GB counter of their minimum traffic;
// both are per second of wall time.
#include <benchmark/benchmark.h>

#include "benchmarks/kernel_cases.h"

namespace {

using gcnn::Device;

void run_case(benchmark::State& state, const gcnn::bench::KernelCase& kc, Device device) {
  const std::function<void()> run = kc.prepare(device);
  run();  // builds and caches plans outside the timed loop
  gcnn::bench::synchronize(device);
  for (auto _ : state) {
    run();
    gcnn::bench::synchronize(device);
  }
  if (kc.flops > 0)
    state.counters["GFLOP"] = benchmark::Counter(kc.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  else
    state.counters["GB"] = benchmark::Counter(kc.bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  std::vector<Device> devices{Device::cpu()};
  if (gcnn::cuda_unavailable_reason().empty()) devices.push_back(Device::cuda(0));
  for (const auto& kc : gcnn::bench::resnet_kernel_cases(32))
    for (Device device : devices)
      if (!(kc.cuda_only && device.is_cpu()))
        benchmark::RegisterBenchmark((device.str() + "/" + kc.name).c_str(),
                                     [kc, device](benchmark::State& st) { run_case(st, kc, device); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
