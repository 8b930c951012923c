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
#include "kernels/cuda/common.cuh"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

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
  void set(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    GCNN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
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
  void set(std::int64_t k, std::int64_t c, std::int64_t r, std::int64_t s) {
    GCNN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(desc_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, static_cast<int>(k),
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
    // Cross-correlation (no kernel flip), as deep learning frameworks define convolution.
    GCNN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(desc_, p.pad_h, p.pad_w, p.stride_h, p.stride_w, 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    GCNN_CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, CUDNN_FMA_MATH));
  }
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

struct ConvPlan {
  TensorDescriptor x, y, bias;
  FilterDescriptor w;
  ConvolutionDescriptor conv;
  ConvShape shape{};
  ConvDescriptors descriptors() const { return {shape, x.get(), y.get(), w.get(), conv.get()}; }
};

// fp32-strict: the search must not pick tensor-op (TF32) math.
constexpr bool kAllowTensorOps = false;

std::string describe_conv(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  return format_message("input {}, weight {}, stride ({}, {}), padding ({}, {})", x.describe(), w.describe(),
                        p.stride_h, p.stride_w, p.pad_h, p.pad_w);
}

std::unique_ptr<ConvPlan> make_plan(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  auto plan = std::make_unique<ConvPlan>();
  const std::int64_t n = x.dim(0), k = w.dim(0);
  plan->x.set(n, x.dim(1), x.dim(2), x.dim(3));
  plan->w.set(k, w.dim(1), w.dim(2), w.dim(3));
  plan->conv.set(p);
  int on = 0, oc = 0, oh = 0, ow = 0;
  GCNN_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(plan->conv.get(), plan->x.get(), plan->w.get(), &on, &oc,
                                                         &oh, &ow));
  const std::int64_t want_h = (x.dim(2) + 2 * p.pad_h - w.dim(2)) / p.stride_h + 1;
  const std::int64_t want_w = (x.dim(3) + 2 * p.pad_w - w.dim(3)) / p.stride_w + 1;
  GCNN_CHECK(on == n && oc == k && oh == want_h && ow == want_w,
             "conv2d (cuda): cuDNN reports output [{}, {}, {}, {}] for {}, expected [{}, {}, {}, {}]", on, oc, oh, ow,
             describe_conv(x, w, p), n, k, want_h, want_w);
  plan->y.set(on, oc, oh, ow);
  plan->bias.set(1, k, 1, 1);

  plan->shape = {x.device().index, static_cast<int>(n), static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)),
                 static_cast<int>(x.dim(3)), static_cast<int>(k), static_cast<int>(w.dim(2)), static_cast<int>(w.dim(3)),
                 p.pad_h, p.pad_w, p.stride_h, p.stride_w, 1, 1, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH};
  return plan;
}

using PlanKey = std::tuple<int, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                           std::int64_t, int, int, int, int>;

// Plans are built once per shape and never freed; the map only grows by the
// number of distinct convolution shapes a model has.
const ConvPlan& plan_for(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<ConvPlan>> plans;
  const PlanKey key{x.device().index, x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3),
                    p.stride_h, p.stride_w, p.pad_h, p.pad_w};
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

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p) {
  const int device = x.device().index;
  const ConvPlan& plan = plan_for(x, w, p);
  const cudnnHandle_t handle = context(device).cudnn;
  const float one = 1.0f, zero = 0.0f;
  const ChosenAlgorithm& algo =
      forward_algorithm(plan.descriptors(), x.data<float>(), w.data<float>(), y.data<float>(), kAllowTensorOps);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, plan.x.get(), x.data<float>(), plan.w.get(),
                                           w.data<float>(), plan.conv.get(),
                                           static_cast<cudnnConvolutionFwdAlgo_t>(algo.algo),
                                           conv_workspace(device, algo.workspace), algo.workspace, &zero,
                                           plan.y.get(), y.data<float>()));
  // y += bias broadcast over N, H, W (cudnnAddTensor: each dimension of A is 1 or equal to C's).
  if (bias.defined())
    GCNN_CUDNN_CHECK(cudnnAddTensor(handle, &one, plan.bias.get(), bias.data<float>(), &one, plan.y.get(),
                                    y.data<float>()));
}

void conv2d_backward_data(const Tensor& w, const Tensor& dy, Tensor& dx, const ops::Conv2dParams& p) {
  const int device = dx.device().index;
  const ConvPlan& plan = plan_for(dx, w, p);  // keyed by the shape of x, which dx shares
  const float one = 1.0f, zero = 0.0f;
  const ChosenAlgorithm& algo =
      backward_data_algorithm(plan.descriptors(), w.data<float>(), dy.data<float>(), dx.data<float>(), kAllowTensorOps);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardData(context(device).cudnn, &one, plan.w.get(), w.data<float>(),
                                                plan.y.get(), dy.data<float>(), plan.conv.get(),
                                                static_cast<cudnnConvolutionBwdDataAlgo_t>(algo.algo),
                                                conv_workspace(device, algo.workspace), algo.workspace, &zero,
                                                plan.x.get(), dx.data<float>()));
}

void conv2d_backward_weights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const ops::Conv2dParams& p) {
  const int device = x.device().index;
  const ConvPlan& plan = plan_for(x, dw, p);
  const cudnnHandle_t handle = context(device).cudnn;
  const float one = 1.0f, zero = 0.0f;
  const ChosenAlgorithm& algo = backward_filter_algorithm(plan.descriptors(), x.data<float>(), dy.data<float>(),
                                                          dw.data<float>(), kAllowTensorOps);
  use_math_type(plan.conv.get(), algo);
  GCNN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, plan.x.get(), x.data<float>(), plan.y.get(),
                                                  dy.data<float>(), plan.conv.get(),
                                                  static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo.algo),
                                                  conv_workspace(device, algo.workspace), algo.workspace, &zero,
                                                  plan.w.get(), dw.data<float>()));
  if (db)
    GCNN_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, &one, plan.y.get(), dy.data<float>(), &zero,
                                                  plan.bias.get(), db->data<float>()));
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p) {
  if (dx) conv2d_backward_data(w, dy, *dx, p);
  conv2d_backward_weights(x, dy, dw, db, p);
}

}  // namespace gcnn::cuda
