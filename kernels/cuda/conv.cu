// 2-D convolution on CUDA through cuDNN's legacy convolution API (still
// shipped in cuDNN 9, where it is marked deprecated in favour of the graph
// API; its deprecation attributes only apply when CUDNN_WARN_DEPRECATED is
// defined, which we do not do, so the build stays warning-free).
//
// Per shape (device, input, weight, stride, padding) a plan holds the
// descriptors. The algorithm of each direction is found by measurement
// (conv_algorithm.cu: cudnnFind*AlgorithmEx once per shape and search policy,
// within the workspace limit, deterministic ones only when asked), and its
// math type written back to the descriptor before each call. The convolution
// descriptor asks for CUDNN_FMA_MATH, documented as restricting cuDNN to FMA
// (non-tensor-core) kernels: CUDNN_DEFAULT_MATH would let Ampere/Hopper run
// FP32 convolutions in TF32, too coarse for the 1e-4 accuracy bar; the search
// is told not to pick tensor-op math either. Workspaces come from the one
// buffer per device that conv_algorithm.cu keeps (the compute calls require
// at least the bytes the chosen algorithm reported).
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
#include "kernels/cuda/conv_algorithm.h"

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

// The math type a precision asks cuDNN for (the search may write back another
// tensor-op type when the precision allows tensor ops).
cudnnMathType_t math_type(Precision precision) {
  return precision == Precision::fp32 ? CUDNN_FMA_MATH
         : precision == Precision::tf32 ? CUDNN_DEFAULT_MATH
                                        : CUDNN_TENSOR_OP_MATH;
}

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
    GCNN_CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, math_type(p.precision)));
  }
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

struct ConvPlan {
  TensorDescriptor x, y, bias;  // x and y of the precision's data type, bias FP32
  TensorDescriptor y_float;     // y's shape in FP32: the bias add and the bias gradient
  FilterDescriptor w;
  Precision precision = Precision::fp32;
  ConvolutionDescriptor conv;
  ConvShape shape{};
  ConvDescriptors descriptors() const { return {shape, x.get(), y.get(), w.get(), conv.get()}; }
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

  plan->shape = {x.device().index, static_cast<int>(n), static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)),
                 static_cast<int>(x.dim(3)), static_cast<int>(k), static_cast<int>(w.dim(2)), static_cast<int>(w.dim(3)),
                 p.pad_h, p.pad_w, p.stride_h, p.stride_w, 1, 1, type, math_type(p.precision)};
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
  const Tensor x_in = operand(x, plan.precision), w_in = operand(w, plan.precision);
  Tensor y_out = output_buffer(y, plan.precision);
  const bool tensor_ops = plan.precision != Precision::fp32;
  const ChosenAlgorithm& algo =
      forward_algorithm(plan.descriptors(), x_in.raw_data(), w_in.raw_data(), y_out.raw_data(), tensor_ops);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, plan.x.get(), x_in.raw_data(), plan.w.get(),
                                           w_in.raw_data(), plan.conv.get(),
                                           static_cast<cudnnConvolutionFwdAlgo_t>(algo.algo),
                                           conv_workspace(device, algo.workspace), algo.workspace, &zero,
                                           plan.y.get(), y_out.raw_data()));
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
  const Tensor w_in = operand(w, plan.precision), dy_in = operand(dy, plan.precision);
  Tensor dx_out = output_buffer(dx, plan.precision);
  const bool tensor_ops = plan.precision != Precision::fp32;
  const ChosenAlgorithm& algo =
      backward_data_algorithm(plan.descriptors(), w_in.raw_data(), dy_in.raw_data(), dx_out.raw_data(), tensor_ops);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardData(context(device).cudnn, &one, plan.w.get(), w_in.raw_data(),
                                                plan.y.get(), dy_in.raw_data(), plan.conv.get(),
                                                static_cast<cudnnConvolutionBwdDataAlgo_t>(algo.algo),
                                                conv_workspace(device, algo.workspace), algo.workspace, &zero,
                                                plan.x.get(), dx_out.raw_data()));
  finish_output(dx_out, dx);
}

void conv2d_backward_weights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const ops::Conv2dParams& p) {
  const int device = x.device().index;
  const ConvPlan& plan = plan_for(x, dw, p);
  const cudnnHandle_t handle = context(device).cudnn;
  const float one = 1.0f, zero = 0.0f;
  const Tensor x_in = operand(x, plan.precision), dy_in = operand(dy, plan.precision);
  Tensor dw_out = output_buffer(dw, plan.precision);
  const bool tensor_ops = plan.precision != Precision::fp32;
  const ChosenAlgorithm& algo =
      backward_filter_algorithm(plan.descriptors(), x_in.raw_data(), dy_in.raw_data(), dw_out.raw_data(), tensor_ops);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, plan.x.get(), x_in.raw_data(), plan.y.get(),
                                                  dy_in.raw_data(), plan.conv.get(),
                                                  static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo.algo),
                                                  conv_workspace(device, algo.workspace), algo.workspace, &zero,
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
