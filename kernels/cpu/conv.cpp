// 2-D convolution on the CPU through oneDNN's convolution primitives (forward,
// backward data, backward weights with the bias gradient folded in). Chosen
// over im2col + OpenBLAS sgemm by benchmarks/bench_conv.cpp: on the 2-core
// AVX2 development machine oneDNN's JIT forward was 1.1-1.9x faster with one
// thread at 10 of the 11 ResNet shapes, and far ahead with two; oneDNN also
// brings backward data/weights kernels, and AVX-512 where the CPU has it.
//
// The primitives pick their preferred (blocked) memory layouts (format "any");
// our NCHW/OIHW tensors are reordered in and out when the choice differs. The
// primitive descriptors, primitives and reorders are built once per shape and
// kept in a cache keyed by shape, stride, padding and precision. The reordered
// copies live only during one call, so every plan stages them in one shared
// arena, which holds the largest call's copies rather than every shape's.
//
// Precision bf16 (kernels/precision.h) asks the primitives for bf16 inputs
// (src, weights, diff_dst) and FP32 outputs (dst, diff_src, diff_weights, bias
// and its gradient), combinations oneDNN's convolution documents for all three
// directions; its AVX-512 BF16 / AMX kernels accumulate in FP32. Our FP32
// tensors are converted at the op boundary by the same reorders that change
// the layout (oneDNN's f32 -> bf16 conversion rounds to nearest even).
#include "kernels/cpu/conv.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "kernels/cpu/onednn.h"
#include "kernels/error.h"

namespace gcnn::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Scratch memory for the operands one call reorders, shared by every plan
// (calls are serialised by plans_mutex). begin() makes room for a call's
// operands; take() hands out consecutive 64-byte aligned regions of it.
class StagingArena {
 public:
  static std::size_t rounded(std::size_t bytes) { return (bytes + 63) / 64 * 64; }
  void begin(std::size_t bytes) {
    if (!block_ || bytes > block_->bytes()) block_ = std::make_unique<Storage>(bytes, Device::cpu());
    used_ = 0;
  }
  void* take(std::size_t bytes) {
    GCNN_CHECK(used_ + rounded(bytes) <= capacity(), "conv2d (cpu): staging overrun: {} + {} of {} bytes", used_,
               rounded(bytes), capacity());
    void* region = static_cast<std::byte*>(block_->data()) + used_;
    used_ += rounded(bytes);
    return region;
  }
  std::size_t capacity() const { return block_ ? block_->bytes() : 0; }

 private:
  std::unique_ptr<Storage> block_;  // 64-byte aligned host memory (kernels/host_allocator.h)
  std::size_t used_ = 0;
};

StagingArena& staging() {
  static StagingArena arena;
  return arena;
}

// One operand: the plain layout of our tensor and the layout the primitive
// chose; when they differ, the reorders and a staging region for the copy.
class Operand {
 public:
  Operand(const memory::desc& plain, const memory::desc& chosen) : plain_(plain), chosen_(chosen) {}
  // Bytes of staging this operand takes in a call (0 when no reorder is needed).
  std::size_t staging_bytes() const { return plain_ == chosen_ ? 0 : StagingArena::rounded(chosen_.get_size()); }
  // Memory holding the tensor's values in the chosen layout (reordered in if needed).
  memory input(float* data) {
    memory user(plain_, onednn_engine(), data);
    if (plain_ == chosen_) return user;
    if (!to_chosen_)
      to_chosen_ = dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), plain_, onednn_engine(), chosen_));
    memory staged(chosen_, onednn_engine(), staging().take(chosen_.get_size()));
    to_chosen_->execute(onednn_stream(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, staged}});
    return staged;
  }
  // Memory a primitive writes; pass it to finish_output with the tensor's data after it ran.
  memory output(float* data) {
    return plain_ == chosen_ ? memory(plain_, onednn_engine(), data)
                             : memory(chosen_, onednn_engine(), staging().take(chosen_.get_size()));
  }
  void finish_output(const memory& written, float* data) {
    if (plain_ == chosen_) return;
    if (!to_plain_)
      to_plain_ = dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), chosen_, onednn_engine(), plain_));
    memory user(plain_, onednn_engine(), data);
    to_plain_->execute(onednn_stream(), {{DNNL_ARG_FROM, written}, {DNNL_ARG_TO, user}});
  }

 private:
  memory::desc plain_, chosen_;
  std::optional<dnnl::reorder> to_chosen_, to_plain_;
};

using ConvKey = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                           std::int64_t, int, int, int, int, bool, Precision>;

// Everything oneDNN needs for one convolution shape, each direction built on first use.
class ConvPlan {
 public:
  ConvPlan(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p, bool with_bias)
      : with_bias_(with_bias), input_type_(p.precision == Precision::bf16 ? dt::bf16 : dt::f32) {
    const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
    const std::int64_t k = w.dim(0), r = w.dim(2), s = w.dim(3);
    const std::int64_t oh = (h + 2 * p.pad_h - r) / p.stride_h + 1, ow = (wd + 2 * p.pad_w - s) / p.stride_w + 1;
    x_plain_ = memory::desc({n, c, h, wd}, dt::f32, tag::nchw);
    w_plain_ = memory::desc({k, c, r, s}, dt::f32, tag::oihw);
    y_plain_ = memory::desc({n, k, oh, ow}, dt::f32, tag::nchw);
    b_plain_ = memory::desc({k}, dt::f32, tag::a);
    strides_ = {p.stride_h, p.stride_w};
    pad_l_ = {p.pad_h, p.pad_w};
    pad_r_ = {onednn_right_pad(h, oh, r, p.stride_h, p.pad_h), onednn_right_pad(wd, ow, s, p.stride_w, p.pad_w)};
    const memory::desc x_any({n, c, h, wd}, input_type_, tag::any), w_any({k, c, r, s}, input_type_, tag::any),
        y_any({n, k, oh, ow}, dt::f32, tag::any);
    dnnl::convolution_forward::desc desc =
        with_bias_ ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                     dnnl::algorithm::convolution_direct, x_any, w_any, b_plain_,
                                                     y_any, strides_, pad_l_, pad_r_)
                   : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                     dnnl::algorithm::convolution_direct, x_any, w_any, y_any,
                                                     strides_, pad_l_, pad_r_);
    fwd_pd_ = dnnl::convolution_forward::primitive_desc(desc, onednn_engine());
  }

  void forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
    if (!fwd_) {
      fwd_ = dnnl::convolution_forward(fwd_pd_);
      fwd_x_.emplace(x_plain_, fwd_pd_.src_desc());
      fwd_w_.emplace(w_plain_, fwd_pd_.weights_desc());
      fwd_y_.emplace(y_plain_, fwd_pd_.dst_desc());
    }
    staging().begin(fwd_x_->staging_bytes() + fwd_w_->staging_bytes() + fwd_y_->staging_bytes());
    const memory y_written = fwd_y_->output(y.data<float>());
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, fwd_x_->input(x.data<float>())},
                                         {DNNL_ARG_WEIGHTS, fwd_w_->input(w.data<float>())},
                                         {DNNL_ARG_DST, y_written}};
    if (with_bias_) args.emplace(DNNL_ARG_BIAS, memory(b_plain_, onednn_engine(), bias.data<float>()));
    fwd_->execute(onednn_stream(), args);
    fwd_y_->finish_output(y_written, y.data<float>());
    onednn_stream().wait();
  }

  // dx = backward data (when dx is given; needs w) and dw, db = backward
  // weights (when dw is given; needs x). dy is reordered once when both
  // primitives chose the same layout for it.
  void backward(const Tensor* x, const Tensor* w, const Tensor& dy, Tensor* dx, Tensor* dw, Tensor* db) {
    if (dx && !bwd_data_) build_backward_data();
    if (dw && !bwd_weights_) build_backward_weights();
    const bool share_dy = dx && dw && bd_dy_desc_ == bw_dy_desc_;
    std::size_t bytes = 0;
    if (dx) bytes += (share_dy ? 0 : bd_dy_->staging_bytes()) + bd_w_->staging_bytes() + bd_dx_->staging_bytes();
    if (dw) bytes += bw_dy_->staging_bytes() + bw_x_->staging_bytes() + bw_dw_->staging_bytes();
    staging().begin(bytes);
    std::optional<memory> dy_weights;
    if (dw) dy_weights = bw_dy_->input(dy.data<float>());
    if (dx) {
      const memory dy_data = share_dy ? *dy_weights : bd_dy_->input(dy.data<float>());
      const memory dx_written = bd_dx_->output(dx->data<float>());
      bwd_data_->execute(onednn_stream(), {{DNNL_ARG_DIFF_DST, dy_data},
                                           {DNNL_ARG_WEIGHTS, bd_w_->input(w->data<float>())},
                                           {DNNL_ARG_DIFF_SRC, dx_written}});
      bd_dx_->finish_output(dx_written, dx->data<float>());
    }
    if (dw) {
      const memory dw_written = bw_dw_->output(dw->data<float>());
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, bw_x_->input(x->data<float>())},
                                           {DNNL_ARG_DIFF_DST, *dy_weights},
                                           {DNNL_ARG_DIFF_WEIGHTS, dw_written}};
      if (with_bias_) args.emplace(DNNL_ARG_DIFF_BIAS, memory(b_plain_, onednn_engine(), db->data<float>()));
      bwd_weights_->execute(onednn_stream(), args);
      bw_dw_->finish_output(dw_written, dw->data<float>());
    }
    onednn_stream().wait();
  }

 private:
  void build_backward_data() {
    const memory::desc x_any(x_plain_.dims(), dt::f32, tag::any), w_any(w_plain_.dims(), input_type_, tag::any),
        y_any(y_plain_.dims(), input_type_, tag::any);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, x_any, w_any, y_any, strides_,
                                               pad_l_, pad_r_);
    dnnl::convolution_backward_data::primitive_desc pd(desc, onednn_engine(), fwd_pd_);
    bwd_data_ = dnnl::convolution_backward_data(pd);
    bd_dy_desc_ = pd.diff_dst_desc();
    bd_dx_.emplace(x_plain_, pd.diff_src_desc());
    bd_w_.emplace(w_plain_, pd.weights_desc());
    bd_dy_.emplace(y_plain_, bd_dy_desc_);
  }

  void build_backward_weights() {
    const memory::desc x_any(x_plain_.dims(), input_type_, tag::any), w_any(w_plain_.dims(), dt::f32, tag::any),
        y_any(y_plain_.dims(), input_type_, tag::any);
    dnnl::convolution_backward_weights::desc desc =
        with_bias_ ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_any, w_any,
                                                              b_plain_, y_any, strides_, pad_l_, pad_r_)
                   : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_any, w_any,
                                                              y_any, strides_, pad_l_, pad_r_);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, onednn_engine(), fwd_pd_);
    bwd_weights_ = dnnl::convolution_backward_weights(pd);
    bw_dy_desc_ = pd.diff_dst_desc();
    bw_x_.emplace(x_plain_, pd.src_desc());
    bw_dw_.emplace(w_plain_, pd.diff_weights_desc());
    bw_dy_.emplace(y_plain_, bw_dy_desc_);
  }

  bool with_bias_;
  dt input_type_;  // of src, weights and diff_dst: f32, or bf16 in precision bf16
  memory::desc x_plain_, w_plain_, y_plain_, b_plain_, bd_dy_desc_, bw_dy_desc_;
  memory::dims strides_, pad_l_, pad_r_;
  dnnl::convolution_forward::primitive_desc fwd_pd_;
  std::optional<dnnl::convolution_forward> fwd_;
  std::optional<dnnl::convolution_backward_data> bwd_data_;
  std::optional<dnnl::convolution_backward_weights> bwd_weights_;
  std::optional<Operand> fwd_x_, fwd_w_, fwd_y_, bd_dx_, bd_w_, bd_dy_, bw_x_, bw_dw_, bw_dy_;
};

// The plan cache and the lock that serialises its use (plans share the staging arena).
std::mutex plans_mutex;
std::map<ConvKey, std::unique_ptr<ConvPlan>>& plans() {
  static std::map<ConvKey, std::unique_ptr<ConvPlan>> cache;
  return cache;
}

ConvPlan& plan_for(const Tensor& x, const Tensor& w, const ops::Conv2dParams& p, bool with_bias) {
  GCNN_CHECK(p.precision != Precision::tf32,
             "conv2d (cpu): precision tf32 is a CUDA tensor-core mode; the CPU computes fp32 or bf16");
  const ConvKey key{x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3),
                    p.stride_h, p.stride_w, p.pad_h, p.pad_w, with_bias, p.precision};
  auto& slot = plans()[key];
  if (!slot) {
    try {
      slot = std::make_unique<ConvPlan>(x, w, p, with_bias);
    } catch (const dnnl::error& e) {
      plans().erase(key);
      GCNN_FAIL("conv2d (cpu): oneDNN cannot build a {} convolution for input {} and weight {}, stride ({}, {}), "
                "padding ({}, {}): {}",
                precision_name(p.precision), x.describe(), w.describe(), p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                e.what());
    }
  }
  return *slot;
}

}  // namespace

std::size_t conv2d_staging_bytes() {
  std::lock_guard lock(plans_mutex);
  return staging().capacity();
}

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p) {
  std::lock_guard lock(plans_mutex);
  plan_for(x, w, p, bias.defined()).forward(x, w, bias, y);
}

void conv2d_backward_data(const Tensor& w, const Tensor& dy, Tensor& dx, const ops::Conv2dParams& p) {
  std::lock_guard lock(plans_mutex);
  // The plan's shape key is that of x, which dx shares; bias does not enter backward data.
  plan_for(dx, w, p, false).backward(nullptr, &w, dy, &dx, nullptr, nullptr);
}

void conv2d_backward_weights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const ops::Conv2dParams& p) {
  std::lock_guard lock(plans_mutex);
  plan_for(x, dw, p, db != nullptr).backward(&x, nullptr, dy, nullptr, &dw, db);
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p) {
  std::lock_guard lock(plans_mutex);
  plan_for(x, w, p, db != nullptr).backward(&x, &w, dy, dx, &dw, db);
}

}  // namespace gcnn::cpu
