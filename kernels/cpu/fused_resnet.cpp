// FusedResNet: a plan per input shape holds the steps (oneDNN primitives with
// their arguments) of the whole body. Activations live in a few host buffers
// ("slots") reused along the chain: a block's last convolution accumulates its
// result onto the shortcut (post-op sum, then ReLU), in place when the
// shortcut is the block's input, so an identity block needs no copy. Where
// Winograd runs (uses_winograd), a 3x3 stride-1 convolution is a
// WinogradConv3x3 step between the same slots, with the same epilogue.
#include "kernels/cpu/fused_resnet.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/winograd.h"
#include "kernels/ops/conv.h"
#include "kernels/error.h"
#include "kernels/host_allocator.h"

namespace gcnn::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The activations' layout. In FP32, the blocked layout of the ISA's JIT
// convolutions (nChw16c with AVX-512, nChw8c with AVX2): left to choose,
// oneDNN 2.6 picks NHWC and its brgconv kernels, which ran ResNet-18/34
// inference 8%/12% slower (median of 3 alternations, 2 threads, AVX-512).
// In bf16, oneDNN's choice (NHWC for AMX): nChw16c ran at a fifth of its speed.
// (Below AVX2, layers/fused_inference.h does not fuse: with post-ops oneDNN
// falls back to its SSE4.1 kernels there, half the speed of layer by layer.)
tag activation_layout(Precision precision) {
  if (precision == Precision::bf16) return tag::any;
  switch (onednn_conv_channel_block()) {
    case 16: return tag::aBcd16b;
    case 8: return tag::aBcd8b;
    default: return tag::any;
  }
}

// Convolution c's weight shape [K, C, R, S], also once Winograd holds its weights.
Shape weight_shape(const FoldedConv& c) {
  return c.winograd ? Shape{c.winograd->k, c.winograd->c, 3, 3} : c.weight.shape();
}

// The output shape of convolution c on input shape x (memory::dims and Shape are both std::vector<int64_t>).
static_assert(std::is_same_v<memory::dims, Shape>);
Shape conv_output(const FoldedConv& c, const Shape& x) {
  return ops::conv2d_output_shape(x, weight_shape(c), {c.stride, c.stride, c.pad, c.pad});
}

bool winograd_runs(Precision precision, Conv3x3Algorithm conv3x3) {
  return conv3x3 == Conv3x3Algorithm::winograd && activation_layout(precision) == tag::aBcd8b &&
         WinogradConv3x3::available();
}

}  // namespace

class FusedResNet::Plan {
 public:
  Plan(const FusedResNetBody& body, const Shape& in, Precision precision)
      : act_(precision == Precision::bf16 ? dt::bf16 : dt::f32), layout_(activation_layout(precision)) {
    input_ = memory(memory::desc({in[0], in[1], in[2], in[3]}, dt::f32, tag::nchw), onednn_engine(), DNNL_MEMORY_NONE);
    Activation x{input_.get_desc(), kUserInput};
    x = conv(body.stem, x, Post::relu);
    x = max_pool(body.pool, x);
    for (const FusedBlock& block : body.blocks) x = residual_block(block, x);
    const memory::dims dims = x.desc.dims();
    out_shape_.assign(dims.begin(), dims.end());
    output_ = memory(memory::desc(dims, dt::f32, tag::nchw), onednn_engine(), DNNL_MEMORY_NONE);
    add_step(dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), x.desc, onednn_engine(), output_.get_desc())),
             x, kUserOutput, output_.get_desc());
    materialise();
  }

  Tensor run(const Tensor& x) {
    Tensor y = Tensor::empty(out_shape_);
    input_.set_data_handle(const_cast<float*>(x.data<float>()));
    output_.set_data_handle(y.data<float>());
    float* scratch = winograd_scratch_ ? static_cast<float*>(winograd_scratch_->data()) : nullptr;
    for (Step& s : steps_) {
      if (s.winograd)
        s.winograd->run(static_cast<const float*>(s.args.at(DNNL_ARG_SRC).get_data_handle()),
                        static_cast<float*>(s.args.at(DNNL_ARG_DST).get_data_handle()), scratch);
      else
        s.primitive.execute(onednn_stream(), s.args);
    }
    onednn_stream().wait();
    return y;
  }

 private:
  static constexpr int kUserInput = -1, kUserOutput = -2;

  // An activation: its layout and the slot (or user buffer) holding it.
  struct Activation {
    memory::desc desc;
    int slot;
  };
  // A primitive (or a Winograd convolution, from DNNL_ARG_SRC to DNNL_ARG_DST)
  // with its arguments; the slot arguments are bound once the slots exist.
  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
    std::vector<std::pair<int, Activation>> slot_args;
    std::shared_ptr<const WinogradConv3x3> winograd;
  };

  int acquire(const memory::desc& desc) {
    for (std::size_t i = 0; i < slot_busy_.size(); ++i)
      if (!slot_busy_[i]) {
        slot_busy_[i] = true;
        slot_bytes_[i] = std::max(slot_bytes_[i], desc.get_size());
        return static_cast<int>(i);
      }
    slot_busy_.push_back(true);
    slot_bytes_.push_back(desc.get_size());
    return static_cast<int>(slot_busy_.size()) - 1;
  }
  void release(int slot) {
    if (slot >= 0) slot_busy_[static_cast<std::size_t>(slot)] = false;
  }

  void add_step(dnnl::primitive p, const Activation& src, int dst_slot, const memory::desc& dst_desc,
                std::unordered_map<int, memory> args = {}, std::shared_ptr<const WinogradConv3x3> winograd = {}) {
    Step s{std::move(p), std::move(args), {}, std::move(winograd)};
    s.slot_args.emplace_back(DNNL_ARG_SRC, src);
    s.slot_args.emplace_back(DNNL_ARG_DST, Activation{dst_desc, dst_slot});
    steps_.push_back(std::move(s));
  }

  // a in the layout want (the same activation when it is already); releases a's slot unless keep.
  Activation in_layout(const Activation& a, const memory::desc& want, bool keep = false) {
    if (a.desc == want) return a;
    const Activation b{want, acquire(want)};
    add_step(dnnl::reorder(dnnl::reorder::primitive_desc(onednn_engine(), a.desc, onednn_engine(), want)), a, b.slot,
             want);
    if (!keep) release(a.slot);
    return b;
  }

  enum class Post { none, relu, sum_relu };

  // A convolution for input dims xd, its input in src_layout and its output
  // in layout_: a Winograd one, or oneDNN's primitive descriptor with the
  // weights already reordered into the layout it chose.
  struct ConvKernel {
    memory::desc src, dst;
    std::optional<dnnl::convolution_forward::primitive_desc> pd;
    memory weights, bias;
    std::shared_ptr<const WinogradConv3x3> winograd;
  };
  ConvKernel make_conv(const FoldedConv& c, const memory::dims& xd, Post post, tag src_layout) {
    const memory::dims yd = conv_output(c, xd);
    if (c.winograd) {  // FusedResNet set it where the input and output are in nChw8c
      const auto epilogue = post == Post::none   ? WinogradConv3x3::Epilogue::none
                            : post == Post::relu ? WinogradConv3x3::Epilogue::relu
                                                 : WinogradConv3x3::Epilogue::sum_relu;
      auto winograd = std::make_shared<const WinogradConv3x3>(c.winograd, xd[0], xd[2], xd[3], epilogue);
      winograd_scratch_floats_ = std::max(winograd_scratch_floats_, winograd->scratch_floats());
      return {memory::desc(xd, act_, layout_), memory::desc(yd, act_, layout_), {}, {}, {}, std::move(winograd)};
    }
    const memory::dim k = c.weight.dim(0), r = c.weight.dim(2), s = c.weight.dim(3);
    const memory::desc w_plain({k, xd[1], r, s}, dt::f32, tag::oihw), b_plain({k}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, memory::desc(xd, act_, src_layout),
        memory::desc(w_plain.dims(), act_, tag::any), b_plain, memory::desc(yd, act_, layout_), {c.stride, c.stride},
        {c.pad, c.pad},
        {onednn_right_pad(xd[2], yd[2], r, c.stride, c.pad), onednn_right_pad(xd[3], yd[3], s, c.stride, c.pad)});
    dnnl::primitive_attr attr;
    if (post != Post::none) {
      dnnl::post_ops ops;
      if (post == Post::sum_relu) ops.append_sum(1.0f);  // dst = conv + bias + dst's previous contents
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, onednn_engine());
    ConvKernel ck{pd.src_desc(), pd.dst_desc(), pd, memory(pd.weights_desc(), onednn_engine()), {}, {}};
    memory w_user(w_plain, onednn_engine(), const_cast<float*>(c.weight.data<float>()));
    dnnl::reorder(w_user, ck.weights).execute(onednn_stream(), w_user, ck.weights);
    onednn_stream().wait();
    ck.bias = memory(b_plain, onednn_engine(), const_cast<float*>(c.bias.data<float>()));
    return ck;
  }

  // The convolution's step on x, writing a new activation, or over onto (its
  // layout must be the primitive's dst layout). x's slot is released unless keep_input.
  Activation add_conv(const ConvKernel& ck, const Activation& x, bool keep_input, const Activation* onto = nullptr) {
    const Activation src = in_layout(x, ck.src, true);
    const Activation y = onto ? *onto : Activation{ck.dst, acquire(ck.dst)};
    if (ck.winograd)
      add_step(dnnl::primitive(), src, y.slot, y.desc, {}, ck.winograd);
    else
      add_step(dnnl::convolution_forward(*ck.pd), src, y.slot, y.desc,
               {{DNNL_ARG_WEIGHTS, ck.weights}, {DNNL_ARG_BIAS, ck.bias}});
    if (src.slot != x.slot) release(src.slot);
    if (!keep_input) release(x.slot);
    return y;
  }

  Activation conv(const FoldedConv& c, const Activation& x, Post post, bool keep_input = false) {
    // The user's input (the stem's) comes in a layout the primitive's kernels may take as it is.
    return add_conv(make_conv(c, x.desc.dims(), post, x.slot == kUserInput ? tag::any : layout_), x, keep_input);
  }

  Activation max_pool(const ops::Pool2dParams& p, const Activation& x) {
    const memory::dims xd = x.desc.dims();
    const memory::dims yd = ops::pool2d_output_shape(xd, p);
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, x.desc, memory::desc(yd, act_, tag::any),
        {p.stride_h, p.stride_w}, {p.kernel_h, p.kernel_w}, {p.pad_h, p.pad_w},
        {onednn_right_pad(xd[2], yd[2], p.kernel_h, p.stride_h, p.pad_h),
         onednn_right_pad(xd[3], yd[3], p.kernel_w, p.stride_w, p.pad_w)});
    const dnnl::pooling_forward::primitive_desc pd(desc, onednn_engine());
    const Activation y{pd.dst_desc(), acquire(pd.dst_desc())};
    add_step(dnnl::pooling_forward(pd), x, y.slot, y.desc);
    release(x.slot);
    return y;
  }

  // relu(convs(x) + shortcut(x)): the shortcut is put in the last
  // convolution's output layout and that convolution accumulates onto it.
  Activation residual_block(const FusedBlock& b, const Activation& x) {
    Activation h = conv(b.convs.front(), x, Post::relu, true);
    for (std::size_t i = 1; i + 1 < b.convs.size(); ++i) h = conv(b.convs[i], h, Post::relu);
    const ConvKernel last = make_conv(b.convs.back(), h.desc.dims(), Post::sum_relu, layout_);
    Activation shortcut = x;
    if (b.projection) shortcut = conv(*b.projection, x, Post::none);  // releases x
    shortcut = in_layout(shortcut, last.dst);
    return add_conv(last, h, false, &shortcut);
  }

  // Allocates the slots and binds every step's activation arguments to them.
  void materialise() {
    for (std::size_t bytes : slot_bytes_) slots_.push_back(std::make_unique<Storage>(bytes, Device::cpu()));
    if (winograd_scratch_floats_ > 0)  // zeroed: a last, partial chunk multiplies rows never written
      winograd_scratch_ = std::make_unique<Storage>(winograd_scratch_floats_ * sizeof(float), Device::cpu(), true);
    for (Step& s : steps_)
      for (const auto& [arg, a] : s.slot_args) {
        if (a.slot == kUserInput)
          s.args.emplace(arg, input_);
        else if (a.slot == kUserOutput)
          s.args.emplace(arg, output_);
        else
          s.args.emplace(arg, memory(a.desc, onednn_engine(), slots_[static_cast<std::size_t>(a.slot)]->data()));
      }
  }

  dt act_;                        // of the activations and weights between input and output (biases stay FP32)
  tag layout_;                    // of the activations after the input
  std::size_t winograd_scratch_floats_ = 0;
  std::unique_ptr<Storage> winograd_scratch_;  // shared by the Winograd steps, which run one at a time
  memory input_, output_;
  Shape out_shape_;
  std::vector<Step> steps_;
  std::vector<bool> slot_busy_;
  std::vector<std::size_t> slot_bytes_;
  std::vector<std::unique_ptr<Storage>> slots_;
};

FusedResNet::FusedResNet(FusedResNetBody body, Precision precision, Conv3x3Algorithm conv3x3)
    : body_(std::move(body)), precision_(precision), conv3x3_(conv3x3) {
  GCNN_CHECK(precision == Precision::fp32 || precision == Precision::bf16, "fused ResNet body: precision {} on the CPU",
             precision_name(precision));
  if (!uses_winograd()) return;
  // The blocks' 3x3 stride-1 convolutions (their inputs and outputs in nChw8c; the stem's input is the user's NCHW)
  // keep only their transformed weights, which every plan shares; the folded weight's memory goes back to the
  // system at once, so that the two sets never coexist.
  auto transform = [](FoldedConv& c) {
    if (c.weight.dim(2) != 3 || c.weight.dim(3) != 3 || c.stride != 1 || c.pad != 1) return;
    c.winograd = std::make_shared<const WinogradWeights>(c.weight, c.bias);
    c.weight = Tensor();
    host::empty_cache();
  };
  for (FusedBlock& b : body_.blocks) {
    for (FoldedConv& c : b.convs) transform(c);
    if (b.projection) transform(*b.projection);
  }
}
FusedResNet::~FusedResNet() = default;

Shape FusedResNet::output_shape(const Shape& in) const {
  Shape s = ops::pool2d_output_shape(conv_output(body_.stem, in), body_.pool);
  for (const FusedBlock& b : body_.blocks)
    for (const FoldedConv& c : b.convs) s = conv_output(c, s);
  return s;
}

bool FusedResNet::uses_winograd() const { return winograd_runs(precision_, conv3x3_); }

Tensor FusedResNet::forward(const Tensor& x) {
  GCNN_CHECK(x.ndim() == 4 && x.device().is_cpu() && x.dtype() == DType::F32,
             "fused ResNet body: needs an FP32 [N, C, H, W] tensor on the CPU, got {}", x.describe());
  GCNN_CHECK(x.dim(1) == weight_shape(body_.stem)[1], "fused ResNet body: input {} has {} channels, the stem takes {}",
             x.describe(), x.dim(1), weight_shape(body_.stem)[1]);
  std::unique_ptr<Plan>& plan = plans_[x.shape()];
  if (!plan) plan = std::make_unique<Plan>(body_, x.shape(), precision_);
  return plan->run(x);
}

}  // namespace gcnn::cpu
