// Peak single-precision GEMM of this machine: large square C = A B through
// OpenBLAS sgemm and through oneDNN's matmul primitive. The GFLOP counter is
// shown per second (2 n^3 per product over wall time); the conv and linear
// rates of bench_conv.cpp are read against the best of these.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/tensor.h"

namespace {

void set_gflops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP"] =
      benchmark::Counter(flops_per_iteration / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_sgemm_openblas(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const gcnn::Tensor a = gcnn::Tensor::full({n, n}, 0.5f), b = gcnn::Tensor::full({n, n}, 0.25f);
  gcnn::Tensor c = gcnn::Tensor::empty({n, n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n,
                0.0f, c.data<float>(), n);
    benchmark::DoNotOptimize(c.data<float>());
  }
  set_gflops(state, 2.0 * n * n * n);
}
BENCHMARK(BM_sgemm_openblas)->Arg(1024)->Arg(2048)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_sgemm_onednn_matmul(benchmark::State& state) {
  const dnnl::memory::dim n = state.range(0);
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc md({n, n}, dt::f32, tag::ab);
  const gcnn::Tensor a = gcnn::Tensor::full({n, n}, 0.5f), b = gcnn::Tensor::full({n, n}, 0.25f);
  gcnn::Tensor c = gcnn::Tensor::empty({n, n});
  dnnl::memory am(md, engine, a.data<float>()), bm(md, engine, b.data<float>()), cm(md, engine, c.data<float>());
  dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), engine));
  for (auto _ : state) {
    matmul.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
    benchmark::DoNotOptimize(c.data<float>());
  }
  set_gflops(state, 2.0 * static_cast<double>(n) * n * n);
}
BENCHMARK(BM_sgemm_onednn_matmul)->Arg(1024)->Arg(2048)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
