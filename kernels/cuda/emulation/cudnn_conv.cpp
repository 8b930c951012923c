// Host stand-ins for cuDNN's legacy convolution API (see cudnn.h): descriptors
// that store and validate what is set, algorithm heuristics, workspace sizes,
// the algorithm search (cudnnFind*AlgorithmEx: plausible times, the
// workspace limit and determinism honoured), and the compute calls as float64
// loops with cuDNN's alpha/beta blending.
// They reject what the real library rejects (unset or mismatched descriptors,
// null or host pointers, a workspace smaller than the algorithm needs), so the
// backend's call sites really run under test. The workspace is overwritten
// with garbage on every call, as a real algorithm would scribble on it.
//
// Numbers as a GPU's: FP32 operands are truncated to TF32 unless the math type
// is CUDNN_FMA_MATH; bf16 operands are read as stored (exactly), products are
// accumulated in float64 (at least as accurate as the GPU's FP32 accumulator)
// and a bf16 output is rounded to nearest even, as __float2bfloat16_rn.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/bf16.h"
#include "kernels/cuda/emulation/control.h"
#include "kernels/cuda/emulation/cudnn.h"

struct cudnnTensorStruct {
  bool set = false;
  int n = 0, c = 0, h = 0, w = 0;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
};
struct cudnnFilterStruct {
  bool set = false;
  int k = 0, c = 0, r = 0, s = 0;
  cudnnDataType_t type = CUDNN_DATA_FLOAT;
};
struct cudnnConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

namespace {

std::atomic<std::uint64_t> g_searches{0};  // cudnnFind*AlgorithmEx calls

bool on_device(const void* p, std::size_t bytes) {
  if (!p) return false;
  const char* c = static_cast<const char*>(p);
  return gcnn::emu::is_device_pointer(c) && (bytes == 0 || gcnn::emu::is_device_pointer(c + bytes - 1));
}

std::size_t type_bytes(cudnnDataType_t type) { return type == CUDNN_DATA_BFLOAT16 ? 2 : sizeof(float); }
std::size_t tensor_elements(const cudnnTensorStruct& t) { return static_cast<std::size_t>(t.n) * t.c * t.h * t.w; }
std::size_t tensor_bytes(const cudnnTensorStruct& t) { return tensor_elements(t) * type_bytes(t.type); }
std::size_t filter_bytes(const cudnnFilterStruct& f) {
  return static_cast<std::size_t>(f.k) * f.c * f.r * f.s * type_bytes(f.type);
}

// The geometry of x * w -> y, checked for consistency (BAD_PARAM otherwise).
struct Geometry {
  int n, c, h, w, k, r, s, oh, ow, pad_h, pad_w, stride_h, stride_w;
};
cudnnStatus_t geometry(const cudnnTensorStruct* x, const cudnnFilterStruct* f, const cudnnConvolutionStruct* conv,
                       const cudnnTensorStruct* y, Geometry* g) {
  if (!x || !f || !conv || !y || !x->set || !f->set || !conv->set || !y->set) return CUDNN_STATUS_BAD_PARAM;
  if (x->c != f->c) return CUDNN_STATUS_BAD_PARAM;
  // The configurations the legacy API documents: FLOAT (all FP32) and PSEUDO_BFLOAT16 (all bf16).
  if (x->type != f->type || y->type != f->type) return CUDNN_STATUS_NOT_SUPPORTED;
  const int oh = (x->h + 2 * conv->pad_h - f->r), ow = (x->w + 2 * conv->pad_w - f->s);
  if (oh < 0 || ow < 0) return CUDNN_STATUS_BAD_PARAM;
  *g = {x->n, x->c, x->h, x->w, f->k, f->r, f->s, oh / conv->stride_h + 1, ow / conv->stride_w + 1,
        conv->pad_h, conv->pad_w, conv->stride_h, conv->stride_w};
  if (y->n != g->n || y->c != g->k || y->h != g->oh || y->w != g->ow) return CUDNN_STATUS_BAD_PARAM;
  return CUDNN_STATUS_SUCCESS;
}

// Bytes of workspace each emulated algorithm asks for (0: none). Unsupported
// algorithms return SIZE_MAX. Sizes mimic the real ones: an im2col buffer of
// one image for the GEMM-style algorithms, an index table for PRECOMP.
std::size_t im2col_bytes(const Geometry& g) {
  return static_cast<std::size_t>(g.c) * g.r * g.s * g.oh * g.ow * sizeof(float);
}
constexpr std::size_t kUnsupported = SIZE_MAX;
std::size_t fwd_workspace(const Geometry& g, cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return 0;
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
      return static_cast<std::size_t>(g.c) * g.r * g.s * sizeof(int) + 64;
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return im2col_bytes(g);
    default: return kUnsupported;
  }
}
std::size_t bwd_data_workspace(const Geometry& g, cudnnConvolutionBwdDataAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return 0;
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return im2col_bytes(g);
    default: return kUnsupported;
  }
}
std::size_t bwd_filter_workspace(const Geometry& g, cudnnConvolutionBwdFilterAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0: return 0;
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1: return im2col_bytes(g) + 128;
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3: return static_cast<std::size_t>(g.k) * sizeof(float);
    default: return kUnsupported;
  }
}

// Checks the workspace the caller passed against what algo needs, then scribbles on it.
cudnnStatus_t use_workspace(std::size_t needed, void* workspace, std::size_t size) {
  if (needed == kUnsupported) return CUDNN_STATUS_NOT_SUPPORTED;
  if (size < needed) return CUDNN_STATUS_BAD_PARAM;
  if (needed > 0 && !on_device(workspace, size)) return CUDNN_STATUS_BAD_PARAM;
  if (workspace && size > 0) std::memset(workspace, 0xff, size);
  return CUDNN_STATUS_SUCCESS;
}

// Element i of a tensor of the given type, as a float.
float load(const void* data, cudnnDataType_t type, std::size_t i) {
  if (type == CUDNN_DATA_BFLOAT16) return gcnn::bf16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
  return static_cast<const float*>(data)[i];
}

// out = alpha * result + beta * out; out is not read when beta is zero (cuDNN's
// rule). alpha and beta are floats (the FP32 compute type); a bf16 out is
// rounded from the FP32 value.
cudnnStatus_t blend(const std::vector<double>& result, const void* alpha, const void* beta, void* out,
                    cudnnDataType_t type) {
  if (!alpha || !beta) return CUDNN_STATUS_BAD_PARAM;
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  for (std::size_t i = 0; i < result.size(); ++i) {
    const float v = static_cast<float>(a * result[i] + (b == 0.0f ? 0.0 : static_cast<double>(b) * load(out, type, i)));
    if (type == CUDNN_DATA_BFLOAT16)
      static_cast<std::uint16_t*>(out)[i] = gcnn::float_to_bf16_bits(v);
    else
      static_cast<float*>(out)[i] = v;
  }
  return CUDNN_STATUS_SUCCESS;
}

// What the multiplier sees of an FP32 operand: under CUDNN_FMA_MATH the value
// itself; under the default or tensor-op math types, Ampere and later GPUs may
// run FP32 convolutions on TF32 tensor cores, so the emulation keeps only the
// 10 mantissa bits TF32 has (a backend that forgets to ask for FMA math then
// misses the 1e-4 accuracy bar in tests, as it could on a real GPU).
struct Operand {
  bool tf32;
  cudnnDataType_t type;
  double operator()(const void* data, std::size_t i) const {
    const float v = load(data, type, i);
    if (!tf32 || type != CUDNN_DATA_FLOAT) return v;
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits &= 0xffffe000u;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
};
Operand operand(const cudnnConvolutionStruct* conv, cudnnDataType_t type) {
  return {conv->math != CUDNN_FMA_MATH, type};
}

// Calls visit(x_index, w_index, y_index) for every multiply of the convolution.
template <class Visit>
void for_each_tap(const Geometry& g, Visit&& visit) {
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t k = 0; k < g.k; ++k)
      for (std::int64_t oh = 0; oh < g.oh; ++oh)
        for (std::int64_t ow = 0; ow < g.ow; ++ow) {
          const std::int64_t yi = ((n * g.k + k) * g.oh + oh) * g.ow + ow;
          for (std::int64_t c = 0; c < g.c; ++c)
            for (std::int64_t r = 0; r < g.r; ++r) {
              const std::int64_t ih = oh * g.stride_h - g.pad_h + r;
              if (ih < 0 || ih >= g.h) continue;
              for (std::int64_t s = 0; s < g.s; ++s) {
                const std::int64_t iw = ow * g.stride_w - g.pad_w + s;
                if (iw < 0 || iw >= g.w) continue;
                visit(((n * g.c + c) * g.h + ih) * g.w + iw, ((k * g.c + c) * g.r + r) * g.s + s, yi);
              }
            }
        }
}

// Candidate lists in the order the emulated heuristics rank them: a tensor-op
// (TF32) variant first and an unsupported algorithm next, so the backend's
// filtering of the results is exercised, then the plain FP32 algorithms.
template <class Perf, class Algo>
cudnnStatus_t rank(const cudnnConvolutionStruct* conv, std::initializer_list<Algo> algos,
                   std::size_t (*ws)(const Geometry&, Algo), const Geometry& g, int requested, int* returned,
                   Perf* results) {
  if (!returned || !results || requested < 1) return CUDNN_STATUS_BAD_PARAM;
  std::vector<Perf> all;
  auto add = [&](Algo algo, cudnnMathType_t math) {
    const std::size_t bytes = ws(g, algo);
    Perf p{};
    p.algo = algo;
    p.status = bytes == kUnsupported ? CUDNN_STATUS_NOT_SUPPORTED : CUDNN_STATUS_SUCCESS;
    p.time = -1.0f;
    p.memory = bytes == kUnsupported ? 0 : bytes;
    p.determinism = CUDNN_DETERMINISTIC;
    p.mathType = math;
    all.push_back(p);
  };
  auto first = *algos.begin();
  add(first, CUDNN_TENSOR_OP_MATH);
  for (Algo a : algos) add(a, conv->math == CUDNN_FMA_MATH ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH);
  *returned = 0;
  for (const Perf& p : all) {
    if (*returned == requested) break;
    results[(*returned)++] = p;
  }
  return CUDNN_STATUS_SUCCESS;
}

// An emulated algorithm for the search: its speed relative to the others and
// whether cuDNN documents it as deterministic (the algorithms that accumulate
// with atomics are not).
template <class Algo>
struct Timed {
  Algo algo;
  double speed;
  bool deterministic;
};

// cudnnFind*AlgorithmEx: each algorithm "runs" on the workspace given
// (CUDNN_STATUS_ALLOC_FAILED where it needs more) and gets a time from the
// convolution's FLOPs at 10 TFLOP/s times its speed (tensor-op variants, where
// the descriptor's math type allows them, 4x faster); sorted fastest first,
// failures last. The timing runs leave garbage (NaN) in the output.
template <class Perf, class Algo>
cudnnStatus_t find(cudnnHandle_t handle, const cudnnConvolutionStruct* conv, std::initializer_list<Timed<Algo>> algos,
                   std::size_t (*ws)(const Geometry&, Algo), const Geometry& g, void* out, std::size_t out_bytes,
                   void* workspace, std::size_t workspace_bytes, int requested, int* returned, Perf* results) {
  if (!handle || !returned || !results || requested < 1 || !on_device(out, out_bytes)) return CUDNN_STATUS_BAD_PARAM;
  if (workspace_bytes > 0 && !on_device(workspace, workspace_bytes)) return CUDNN_STATUS_BAD_PARAM;
  gcnn::emu::run_pending_of(handle);
  const double flops = 2.0 * g.n * g.k * g.oh * g.ow * g.c * g.r * g.s;
  std::vector<Perf> all;
  for (const Timed<Algo>& a : algos) {
    const std::size_t bytes = ws(g, a.algo);
    for (bool tensor_ops : {false, true}) {
      if (tensor_ops && conv->math == CUDNN_FMA_MATH) continue;
      Perf p{};
      p.algo = a.algo;
      p.memory = bytes;
      p.status = bytes <= workspace_bytes ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
      p.time = p.status == CUDNN_STATUS_SUCCESS ? static_cast<float>(flops / (1e10 * a.speed * (tensor_ops ? 4 : 1)))
                                                : -1.0f;
      p.determinism = a.deterministic ? CUDNN_DETERMINISTIC : CUDNN_NON_DETERMINISTIC;
      p.mathType = tensor_ops ? CUDNN_TENSOR_OP_MATH : conv->math;
      all.push_back(p);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Perf& a, const Perf& b) {
    if ((a.status == CUDNN_STATUS_SUCCESS) != (b.status == CUDNN_STATUS_SUCCESS)) return a.status == CUDNN_STATUS_SUCCESS;
    return a.time < b.time;
  });
  *returned = 0;
  for (const Perf& p : all) {
    if (*returned == requested) break;
    results[(*returned)++] = p;
  }
  if (workspace_bytes > 0) std::memset(workspace, 0xff, workspace_bytes);
  float* o = static_cast<float*>(out);
  for (std::size_t i = 0; i < out_bytes / sizeof(float); ++i) o[i] = std::numeric_limits<float>::quiet_NaN();
  ++g_searches;
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

std::uint64_t gcnn::emu::algorithm_searches() { return g_searches; }

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* desc) {
  if (!desc) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnTensorStruct{};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n, int c, int h, int w) {
  if (!desc || n <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || (dataType != CUDNN_DATA_FLOAT && dataType != CUDNN_DATA_BFLOAT16))
    return CUDNN_STATUS_NOT_SUPPORTED;
  *desc = {true, n, c, h, w, dataType};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* desc) {
  if (!desc) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnFilterStruct{};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w) {
  if (!desc || k <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
  if (format != CUDNN_TENSOR_NCHW || (dataType != CUDNN_DATA_FLOAT && dataType != CUDNN_DATA_BFLOAT16))
    return CUDNN_STATUS_NOT_SUPPORTED;
  *desc = {true, k, c, h, w, dataType};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* desc) {
  if (!desc) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnConvolutionStruct{};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType) {
  if (!desc || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dilation_h <= 0 || dilation_w <= 0)
    return CUDNN_STATUS_BAD_PARAM;
  // The emulation computes cross-correlation without dilation in float only.
  if (dilation_h != 1 || dilation_w != 1 || mode != CUDNN_CROSS_CORRELATION || computeType != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;
  desc->set = true;
  desc->pad_h = pad_h;
  desc->pad_w = pad_w;
  desc->stride_h = u;
  desc->stride_w = v;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t mathType) {
  if (!desc) return CUDNN_STATUS_BAD_PARAM;
  desc->math = mathType;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t convDesc,
                                                    const cudnnTensorDescriptor_t inputTensorDesc,
                                                    const cudnnFilterDescriptor_t filterDesc, int* n, int* c,
                                                    int* h, int* w) {
  if (!convDesc || !inputTensorDesc || !filterDesc || !convDesc->set || !inputTensorDesc->set || !filterDesc->set ||
      !n || !c || !h || !w || inputTensorDesc->c != filterDesc->c)
    return CUDNN_STATUS_BAD_PARAM;
  const int oh = inputTensorDesc->h + 2 * convDesc->pad_h - filterDesc->r;
  const int ow = inputTensorDesc->w + 2 * convDesc->pad_w - filterDesc->s;
  if (oh < 0 || ow < 0) return CUDNN_STATUS_BAD_PARAM;
  *n = inputTensorDesc->n;
  *c = filterDesc->k;
  *h = oh / convDesc->stride_h + 1;
  *w = ow / convDesc->stride_w + 1;
  return CUDNN_STATUS_SUCCESS;
}

// ---- forward --------------------------------------------------------------------
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t handle, const cudnnTensorDescriptor_t srcDesc,
                                                     const cudnnFilterDescriptor_t filterDesc,
                                                     const cudnnConvolutionDescriptor_t convDesc,
                                                     const cudnnTensorDescriptor_t destDesc,
                                                     const int requestedAlgoCount, int* returnedAlgoCount,
                                                     cudnnConvolutionFwdAlgoPerf_t* perfResults) {
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(srcDesc, filterDesc, convDesc, destDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  return rank<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      convDesc,
      {CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,
       CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM},
      fwd_workspace, g, requestedAlgoCount, returnedAlgoCount, perfResults);
}
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                      const cudnnFilterDescriptor_t wDesc,
                                                      const cudnnConvolutionDescriptor_t convDesc,
                                                      const cudnnTensorDescriptor_t yDesc,
                                                      cudnnConvolutionFwdAlgo_t algo, std::size_t* sizeInBytes) {
  Geometry g;
  if (!handle || !sizeInBytes) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(xDesc, wDesc, convDesc, yDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  const std::size_t bytes = fwd_workspace(g, algo);
  if (bytes == kUnsupported) return CUDNN_STATUS_NOT_SUPPORTED;
  *sizeInBytes = bytes;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t xDesc,
                                      const void* x, const cudnnFilterDescriptor_t wDesc, const void* w,
                                      const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionFwdAlgo_t algo,
                                      void* workSpace, std::size_t workSpaceSizeInBytes, const void* beta,
                                      const cudnnTensorDescriptor_t yDesc, void* y) {
  gcnn::emu::run_pending_of(handle);
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(xDesc, wDesc, convDesc, yDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(x, tensor_bytes(*xDesc)) || !on_device(w, filter_bytes(*wDesc)) || !on_device(y, tensor_bytes(*yDesc)))
    return CUDNN_STATUS_BAD_PARAM;
  if (auto st = use_workspace(fwd_workspace(g, algo), workSpace, workSpaceSizeInBytes); st != CUDNN_STATUS_SUCCESS)
    return st;
  const Operand op = operand(convDesc, xDesc->type);
  std::vector<double> out(tensor_elements(*yDesc), 0.0);
  for_each_tap(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { out[yi] += op(x, xi) * op(w, wi); });
  return blend(out, alpha, beta, y, yDesc->type);
}

// ---- backward data ----------------------------------------------------------------
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t handle,
                                                          const cudnnFilterDescriptor_t filterDesc,
                                                          const cudnnTensorDescriptor_t diffDesc,
                                                          const cudnnConvolutionDescriptor_t convDesc,
                                                          const cudnnTensorDescriptor_t gradDesc,
                                                          const int requestedAlgoCount, int* returnedAlgoCount,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* perfResults) {
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(gradDesc, filterDesc, convDesc, diffDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  return rank<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      convDesc,
      {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0},
      bwd_data_workspace, g, requestedAlgoCount, returnedAlgoCount, perfResults);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc,
                                                           const cudnnTensorDescriptor_t dyDesc,
                                                           const cudnnConvolutionDescriptor_t convDesc,
                                                           const cudnnTensorDescriptor_t dxDesc,
                                                           cudnnConvolutionBwdDataAlgo_t algo,
                                                           std::size_t* sizeInBytes) {
  Geometry g;
  if (!handle || !sizeInBytes) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(dxDesc, wDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  const std::size_t bytes = bwd_data_workspace(g, algo);
  if (bytes == kUnsupported) return CUDNN_STATUS_NOT_SUPPORTED;
  *sizeInBytes = bytes;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                           const cudnnFilterDescriptor_t wDesc, const void* w,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                           std::size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) {
  gcnn::emu::run_pending_of(handle);
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(dxDesc, wDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(dx, tensor_bytes(*dxDesc)) || !on_device(w, filter_bytes(*wDesc)) ||
      !on_device(dy, tensor_bytes(*dyDesc)))
    return CUDNN_STATUS_BAD_PARAM;
  if (auto st = use_workspace(bwd_data_workspace(g, algo), workSpace, workSpaceSizeInBytes);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  const Operand op = operand(convDesc, dxDesc->type);
  std::vector<double> out(tensor_elements(*dxDesc), 0.0);
  for_each_tap(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { out[xi] += op(dy, yi) * op(w, wi); });
  return blend(out, alpha, beta, dx, dxDesc->type);
}

// ---- backward filter and bias -----------------------------------------------------
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t handle,
                                                            const cudnnTensorDescriptor_t srcDesc,
                                                            const cudnnTensorDescriptor_t diffDesc,
                                                            const cudnnConvolutionDescriptor_t convDesc,
                                                            const cudnnFilterDescriptor_t gradDesc,
                                                            const int requestedAlgoCount, int* returnedAlgoCount,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* perfResults) {
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(srcDesc, gradDesc, convDesc, diffDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  return rank<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      convDesc,
      {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD,
       CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0},
      bwd_filter_workspace, g, requestedAlgoCount, returnedAlgoCount, perfResults);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t handle,
                                                             const cudnnTensorDescriptor_t xDesc,
                                                             const cudnnTensorDescriptor_t dyDesc,
                                                             const cudnnConvolutionDescriptor_t convDesc,
                                                             const cudnnFilterDescriptor_t gradDesc,
                                                             cudnnConvolutionBwdFilterAlgo_t algo,
                                                             std::size_t* sizeInBytes) {
  Geometry g;
  if (!handle || !sizeInBytes) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(xDesc, gradDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  const std::size_t bytes = bwd_filter_workspace(g, algo);
  if (bytes == kUnsupported) return CUDNN_STATUS_NOT_SUPPORTED;
  *sizeInBytes = bytes;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void* x,
                                             const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                             std::size_t workSpaceSizeInBytes, const void* beta,
                                             const cudnnFilterDescriptor_t dwDesc, void* dw) {
  gcnn::emu::run_pending_of(handle);
  Geometry g;
  if (!handle) return CUDNN_STATUS_BAD_PARAM;
  if (auto st = geometry(xDesc, dwDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(x, tensor_bytes(*xDesc)) || !on_device(dw, filter_bytes(*dwDesc)) ||
      !on_device(dy, tensor_bytes(*dyDesc)))
    return CUDNN_STATUS_BAD_PARAM;
  if (auto st = use_workspace(bwd_filter_workspace(g, algo), workSpace, workSpaceSizeInBytes);
      st != CUDNN_STATUS_SUCCESS)
    return st;
  const Operand op = operand(convDesc, xDesc->type);
  std::vector<double> out(filter_bytes(*dwDesc) / type_bytes(dwDesc->type), 0.0);
  for_each_tap(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { out[wi] += op(dy, yi) * op(x, xi); });
  return blend(out, alpha, beta, dw, dwDesc->type);
}
cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t handle, const void* alpha,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy, const void* beta,
                                           const cudnnTensorDescriptor_t dbDesc, void* db) {
  gcnn::emu::run_pending_of(handle);
  if (!handle || !dyDesc || !dbDesc || !dyDesc->set || !dbDesc->set) return CUDNN_STATUS_BAD_PARAM;
  if (dbDesc->n != 1 || dbDesc->c != dyDesc->c || dbDesc->h != 1 || dbDesc->w != 1) return CUDNN_STATUS_BAD_PARAM;
  if (dyDesc->type != CUDNN_DATA_FLOAT || dbDesc->type != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;  // emulated in FP32 only
  if (!on_device(dy, tensor_bytes(*dyDesc)) || !on_device(db, tensor_bytes(*dbDesc))) return CUDNN_STATUS_BAD_PARAM;
  const float* DY = static_cast<const float*>(dy);
  const std::int64_t plane = static_cast<std::int64_t>(dyDesc->h) * dyDesc->w;
  std::vector<double> out(static_cast<std::size_t>(dyDesc->c), 0.0);
  for (std::int64_t n = 0; n < dyDesc->n; ++n)
    for (std::int64_t c = 0; c < dyDesc->c; ++c)
      for (std::int64_t i = 0; i < plane; ++i) out[c] += DY[(n * dyDesc->c + c) * plane + i];
  return blend(out, alpha, beta, db, CUDNN_DATA_FLOAT);
}

cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t aDesc,
                             const void* A, const void* beta, const cudnnTensorDescriptor_t cDesc, void* C) {
  gcnn::emu::run_pending_of(handle);
  if (!handle || !aDesc || !cDesc || !aDesc->set || !cDesc->set || !alpha || !beta) return CUDNN_STATUS_BAD_PARAM;
  // Each dimension of A must be 1 (broadcast) or equal to C's.
  const int ad[4] = {aDesc->n, aDesc->c, aDesc->h, aDesc->w}, cd[4] = {cDesc->n, cDesc->c, cDesc->h, cDesc->w};
  for (int i = 0; i < 4; ++i)
    if (ad[i] != 1 && ad[i] != cd[i]) return CUDNN_STATUS_BAD_PARAM;
  if (aDesc->type != CUDNN_DATA_FLOAT || cDesc->type != CUDNN_DATA_FLOAT)
    return CUDNN_STATUS_NOT_SUPPORTED;  // emulated in FP32 only
  if (!on_device(A, tensor_bytes(*aDesc)) || !on_device(C, tensor_bytes(*cDesc))) return CUDNN_STATUS_BAD_PARAM;
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  const float* src = static_cast<const float*>(A);
  float* dst = static_cast<float*>(C);
  std::int64_t i = 0;
  for (int n = 0; n < cd[0]; ++n)
    for (int c = 0; c < cd[1]; ++c)
      for (int h = 0; h < cd[2]; ++h)
        for (int w = 0; w < cd[3]; ++w, ++i) {
          const std::int64_t an = ad[0] == 1 ? 0 : n, ac = ad[1] == 1 ? 0 : c, ah = ad[2] == 1 ? 0 : h,
                             aw = ad[3] == 1 ? 0 : w;
          const double value = static_cast<double>(a) * src[((an * ad[1] + ac) * ad[2] + ah) * ad[3] + aw];
          dst[i] = static_cast<float>(value + (b == 0.0f ? 0.0 : static_cast<double>(b) * dst[i]));
        }
  return CUDNN_STATUS_SUCCESS;
}

// ---- algorithm search ----------------------------------------------------------------
cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
                                                     const void* x, const cudnnFilterDescriptor_t wDesc, const void* w,
                                                     const cudnnConvolutionDescriptor_t convDesc,
                                                     const cudnnTensorDescriptor_t yDesc, void* y,
                                                     const int requestedAlgoCount, int* returnedAlgoCount,
                                                     cudnnConvolutionFwdAlgoPerf_t* perfResults, void* workSpace,
                                                     std::size_t workSpaceSizeInBytes) {
  Geometry g;
  if (auto st = geometry(xDesc, wDesc, convDesc, yDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(x, tensor_bytes(*xDesc)) || !on_device(w, filter_bytes(*wDesc))) return CUDNN_STATUS_BAD_PARAM;
  return find<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
      handle, convDesc,
      {{CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 1.0, true},
       {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, 2.0, true},
       {CUDNN_CONVOLUTION_FWD_ALGO_GEMM, 3.0, true}},
      fwd_workspace, g, y, tensor_bytes(*yDesc), workSpace, workSpaceSizeInBytes, requestedAlgoCount,
      returnedAlgoCount, perfResults);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const void* w, const cudnnTensorDescriptor_t dyDesc,
    const void* dy, const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc, void* dx,
    const int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults,
    void* workSpace, std::size_t workSpaceSizeInBytes) {
  Geometry g;
  if (auto st = geometry(dxDesc, wDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(w, filter_bytes(*wDesc)) || !on_device(dy, tensor_bytes(*dyDesc))) return CUDNN_STATUS_BAD_PARAM;
  return find<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
      handle, convDesc, {{CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, 3.0, false}, {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, 2.0, true}},
      bwd_data_workspace, g, dx, tensor_bytes(*dxDesc), workSpace, workSpaceSizeInBytes, requestedAlgoCount,
      returnedAlgoCount, perfResults);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void* x, const cudnnTensorDescriptor_t dyDesc,
    const void* y, const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t dwDesc, void* dw,
    const int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t* perfResults,
    void* workSpace, std::size_t workSpaceSizeInBytes) {
  Geometry g;
  if (auto st = geometry(xDesc, dwDesc, convDesc, dyDesc, &g); st != CUDNN_STATUS_SUCCESS) return st;
  if (!on_device(x, tensor_bytes(*xDesc)) || !on_device(y, tensor_bytes(*dyDesc))) return CUDNN_STATUS_BAD_PARAM;
  return find<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
      handle, convDesc,
      {{CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, 2.5, false},
       {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, 2.0, true},
       {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3, 3.0, false}},
      bwd_filter_workspace, g, dw, filter_bytes(*dwDesc), workSpace, workSpaceSizeInBytes, requestedAlgoCount,
      returnedAlgoCount, perfResults);
}
