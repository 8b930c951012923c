// 2-D convolution on CUDA through cuDNN's legacy convolution API (still
// shipped in cuDNN 9, where it is marked deprecated in favour of the graph
// API; its deprecation attributes only apply when CUDNN_WARN_DEPRECATED is
// defined, which we do not do, so the build stays warning-free).
//
// Per shape (device, input, weight, stride, padding) a plan holds the
// descriptors and the algorithm chosen once for each direction: the first
// result of the cudnnGet*Algorithm_v7 heuristics (documented to be ordered by
// expected performance) whose status is CUDNN_STATUS_SUCCESS and whose math
// type is not a tensor-op one. The convolution descriptor asks for
// CUDNN_FMA_MATH, documented as restricting cuDNN to FMA (non-tensor-core)
// kernels: CUDNN_DEFAULT_MATH would let Ampere/Hopper run FP32 convolutions
// in TF32, too coarse for the 1e-4 accuracy bar. Workspaces come from the
// caching allocator as Tensors of the size cudnnGet*WorkspaceSize reports for
// the chosen algorithm (the compute calls require at least that many bytes).
// Every compute call uses beta = 0, which cuDNN documents as "the output is
// not read", so outputs are overwritten.
//
// Precision (kernels/precision.h) sets the descriptors' types and math type:
//   fp32: FP32 tensors, CUDNN_FMA_MATH, tensor-op algorithms filtered out;
//   tf32: FP32 tensors, CUDNN_DEFAULT_MATH, which cuDNN documents as letting
//         Ampere and later GPUs run FP32 convolutions on TF32 tensor cores
//         (PyTorch's choice for allow_tf32), tensor-op algorithms allowed;
//   bf16: cuDNN's PSEUDO_BFLOAT16 configuration of the legacy API (input,
//         filter and output descriptors CUDNN_DATA_BFLOAT16, convolution
//         compute type CUDNN_DATA_FLOAT: bf16 products, FP32 accumulation) in
//         all three directions, with CUDNN_TENSOR_OP_MATH. Our FP32 operands
//         are converted to bf16 scratch tensors first (kernels/cuda/
//         bf16_convert.cu) and the bf16 result widened into the FP32 output,
//         so y, dx and dw carry bf16's rounding (as frameworks' autocast
//         outputs do); the bias and its gradient stay FP32 (cudnnAddTensor and
//         cudnnConvolutionBackwardBias on the FP32 tensors).
#include "kernels/cuda/common.cuh"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "kernels/cuda/bf16_convert.h"
#include "kernels/cuda/conv.h"

namespace gcnn::cuda {
namespace {

// RAII owners of the three descriptor kinds. CUDNN_TENSOR_NCHW is documented
// (cudnn_graph.h) as row major with wStride = 1, hStride = w: our contiguous
// [N, C, H, W] tensors. For a filter the same flag means [K, C, R, S] in that
// order, our weight layout.
class TensorDescriptor {
 public:
  TensorDescriptor() { GCNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_)); }
  ~TensorDescriptor() { cudnnDestroyTensorDescriptor(desc_); }
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  void set(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, cudnnDataType_t type = CUDNN_DATA_FLOAT) {
    GCNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, type, static_cast<int>(n),
                                                static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)));
  }
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

class FilterDescriptor {
 public:
  FilterDescriptor() { GCNN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_)); }
  ~FilterDescriptor() { cudnnDestroyFilterDescriptor(desc_); }
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  void set(std::int64_t k, std::int64_t c, std::int64_t r, std::int64_t s, cudnnDataType_t type) {
    GCNN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc_, type, CUDNN_TENSOR_NCHW, static_cast<int>(k),
                                                static_cast<int>(c), static_cast<int>(r), static_cast<int>(s)));
  }
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvolutionDescriptor {
 public:
  ConvolutionDescriptor() { GCNN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_)); }
  ~ConvolutionDescriptor() { cudnnDestroyConvolutionDescriptor(desc_); }
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  void set(const ops::Conv2dParams& p) {
    // Cross-correlation (no kernel flip), as deep learning frameworks define
    // convolution; FP32 compute type in every precision.
    GCNN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(desc_, p.pad_h, p.pad_w, p.stride_h, p.stride_w, 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    const cudnnMathType_t math = p.precision == Precision::fp32   ? CUDNN_FMA_MATH
                                 : p.precision == Precision::tf32 ? CUDNN_DEFAULT_MATH
                                                                  : CUDNN_TENSOR_OP_MATH;
    GCNN_CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, math));
  }
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

// The first usable candidate of a cudnnGet*Algorithm_v7 result list (tensor-op
// candidates only when the precision allows them).
template <class Perf>
const Perf* first_usable(const Perf* results, int count, Precision precision) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = results[i];
    const bool tensor_op = p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (p.status == CUDNN_STATUS_SUCCESS && (precision != Precision::fp32 || !tensor_op)) return &p;
  }
  return nullptr;
}

struct ConvPlan {
  TensorDescriptor x, y, bias;  // x and y of the precision's data type, bias FP32
  TensorDescriptor y_float;     // y's shape in FP32: the bias add and the bias gradient
  FilterDescriptor w;
  Precision precision = Precision::fp32;
  ConvolutionDescriptor conv;
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo{};
  std::size_t fwd_workspace = 0, bwd_data_workspace = 0, bwd_filter_workspace = 0;
};

std::string describe_conv(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  return format_message("input {}, weight {}, stride ({}, {}), padding ({}, {})", x.describe(), w.describe(),
                        p.stride_h, p.stride_w, p.pad_h, p.pad_w);
}

std::unique_ptr<ConvPlan> make_plan(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  auto plan = std::make_unique<ConvPlan>();
  plan->precision = p.precision;
  const cudnnDataType_t type = p.precision == Precision::bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  const std::int64_t n = x.dim(0), k = w.dim(0);
  plan->x.set(n, x.dim(1), x.dim(2), x.dim(3), type);
  plan->w.set(k, w.dim(1), w.dim(2), w.dim(3), type);
  plan->conv.set(p);
  int on = 0, oc = 0, oh = 0, ow = 0;
  GCNN_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(plan->conv.get(), plan->x.get(), plan->w.get(), &on, &oc,
                                                         &oh, &ow));
  const std::int64_t want_h = (x.dim(2) + 2 * p.pad_h - w.dim(2)) / p.stride_h + 1;
  const std::int64_t want_w = (x.dim(3) + 2 * p.pad_w - w.dim(3)) / p.stride_w + 1;
  GCNN_CHECK(on == n && oc == k && oh == want_h && ow == want_w,
             "conv2d (cuda): cuDNN reports output [{}, {}, {}, {}] for {}, expected [{}, {}, {}, {}]", on, oc, oh, ow,
             describe_conv(x, w, p), n, k, want_h, want_w);
  plan->y.set(on, oc, oh, ow, type);
  plan->y_float.set(on, oc, oh, ow);
  plan->bias.set(1, k, 1, 1);

  const cudnnHandle_t handle = context(x.device().index).cudnn;
  {
    cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, plan->x.get(), plan->w.get(), plan->conv.get(),
                                                            plan->y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count,
                                                            results));
    const auto* best = first_usable(results, count, p.precision);
    GCNN_CHECK(best != nullptr, "conv2d (cuda): cuDNN offers no {} forward algorithm for {}",
               precision_name(p.precision), describe_conv(x, w, p));
    plan->fwd_algo = best->algo;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, plan->x.get(), plan->w.get(), plan->conv.get(),
                                                             plan->y.get(), plan->fwd_algo, &plan->fwd_workspace));
  }
  {
    cudnnConvolutionBwdDataAlgoPerf_t results[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int count = 0;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, plan->w.get(), plan->y.get(),
                                                                 plan->conv.get(), plan->x.get(),
                                                                 CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count,
                                                                 results));
    const auto* best = first_usable(results, count, p.precision);
    GCNN_CHECK(best != nullptr, "conv2d (cuda): cuDNN offers no {} backward-data algorithm for {}",
               precision_name(p.precision), describe_conv(x, w, p));
    plan->bwd_data_algo = best->algo;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, plan->w.get(), plan->y.get(),
                                                                  plan->conv.get(), plan->x.get(),
                                                                  plan->bwd_data_algo, &plan->bwd_data_workspace));
  }
  {
    cudnnConvolutionBwdFilterAlgoPerf_t results[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int count = 0;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, plan->x.get(), plan->y.get(),
                                                                   plan->conv.get(), plan->w.get(),
                                                                   CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count,
                                                                   results));
    const auto* best = first_usable(results, count, p.precision);
    GCNN_CHECK(best != nullptr, "conv2d (cuda): cuDNN offers no {} backward-filter algorithm for {}",
               precision_name(p.precision), describe_conv(x, w, p));
    plan->bwd_filter_algo = best->algo;
    GCNN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, plan->x.get(), plan->y.get(),
                                                                    plan->conv.get(), plan->w.get(),
                                                                    plan->bwd_filter_algo,
                                                                    &plan->bwd_filter_workspace));
  }
  return plan;
}

using PlanKey = std::tuple<int, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                           std::int64_t, int, int, int, int, Precision>;

// Plans are built once per shape and never freed; the map only grows by the
// number of distinct convolution shapes a model has.
const ConvPlan& plan_for(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<ConvPlan>> plans;
  const PlanKey key{x.device().index, x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3),
                    p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.precision};
  std::lock_guard lock(mutex);
  auto& slot = plans[key];
  if (!slot) {
    try {
      slot = make_plan(x, w, p);
    } catch (...) {
      plans.erase(key);
      throw;
    }
  }
  return *slot;
}

// Device scratch of at least bytes from the caching allocator (undefined when
// 0). Released when the op returns, possibly before cuDNN has finished with
// it: safe because every op runs on the device's one stream, so whatever
// reuses the block is ordered after this call.
Tensor workspace(int device, std::size_t bytes) {
  if (bytes == 0) return Tensor();
  return Tensor::empty({static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float))}, Device::cuda(device));
}
void* workspace_data(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

// The operand cuDNN reads for t: t itself, or a bf16 copy in precision bf16
// (kept alive by the caller until the op returns; stream order covers the rest).
Tensor operand(const Tensor& t, Precision precision) { return precision == Precision::bf16 ? to_bf16(t) : t; }
// Where cuDNN writes an output destined for out: out itself, or bf16 scratch
// that finish_output widens into out.
Tensor output_buffer(const Tensor& out, Precision precision) {
  return precision == Precision::bf16 ? Tensor::empty(out.shape(), out.device(), DType::BF16) : out;
}
void finish_output(const Tensor& buffer, Tensor& out) {
  if (!buffer.shares_storage_with(out)) bf16_to_float(buffer, out);
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p) {
  const int device = x.device().index;
  const ConvPlan& plan = plan_for(x, w, p);
  const cudnnHandle_t handle = context(device).cudnn;
  const float one = 1.0f, zero = 0.0f;
  Tensor scratch = workspace(device, plan.fwd_workspace);
  const Tensor x_in = operand(x, plan.precision), w_in = operand(w, plan.precision);
  Tensor y_out = output_buffer(y, plan.precision);
  GCNN_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, plan.x.get(), x_in.raw_data(), plan.w.get(),
                                           w_in.raw_data(), plan.conv.get(), plan.fwd_algo, workspace_data(scratch),
                                           plan.fwd_workspace, &zero, plan.y.get(), y_out.raw_data()));
  finish_output(y_out, y);
  // y += bias broadcast over N, H, W (cudnnAddTensor: each dimension of A is 1 or equal to C's).
  if (bias.defined())
    GCNN_CUDNN_CHECK(cudnnAddTensor(handle, &one, plan.bias.get(), bias.data<float>(), &one, plan.y_float.get(),
                                    y.data<float>()));
}

void conv2d_backward_data(const Tensor& w, const Tensor& dy, Tensor& dx, const ops::Conv2dParams& p) {
  const int device = dx.device().index;
  const ConvPlan& plan = plan_for(dx, w, p);  // keyed by the shape of x, which dx shares
  const float one = 1.0f, zero = 0.0f;
  Tensor scratch = workspace(device, plan.bwd_data_workspace);
  const Tensor w_in = operand(w, plan.precision), dy_in = operand(dy, plan.precision);
  Tensor dx_out = output_buffer(dx, plan.precision);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardData(context(device).cudnn, &one, plan.w.get(), w_in.raw_data(),
                                                plan.y.get(), dy_in.raw_data(), plan.conv.get(), plan.bwd_data_algo,
                                                workspace_data(scratch), plan.bwd_data_workspace, &zero, plan.x.get(),
                                                dx_out.raw_data()));
  finish_output(dx_out, dx);
}

void conv2d_backward_weights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const ops::Conv2dParams& p) {
  const int device = x.device().index;
  const ConvPlan& plan = plan_for(x, dw, p);
  const cudnnHandle_t handle = context(device).cudnn;
  const float one = 1.0f, zero = 0.0f;
  Tensor scratch = workspace(device, plan.bwd_filter_workspace);
  const Tensor x_in = operand(x, plan.precision), dy_in = operand(dy, plan.precision);
  Tensor dw_out = output_buffer(dw, plan.precision);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, plan.x.get(), x_in.raw_data(), plan.y.get(),
                                                  dy_in.raw_data(), plan.conv.get(), plan.bwd_filter_algo,
                                                  workspace_data(scratch), plan.bwd_filter_workspace, &zero,
                                                  plan.w.get(), dw_out.raw_data()));
  finish_output(dw_out, dw);
  if (db)
    GCNN_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, &one, plan.y_float.get(), dy.data<float>(), &zero,
                                                  plan.bias.get(), db->data<float>()));
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p) {
  if (dx) conv2d_backward_data(w, dy, *dx, p);
  conv2d_backward_weights(x, dy, dw, db, p);
}

}  // namespace gcnn::cuda
