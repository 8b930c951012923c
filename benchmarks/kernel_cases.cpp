// The ResNet-18/34 training-step ops as benchmark cases (see kernel_cases.h).
// Operands are deterministic ramps, so every run does the same work.
#include "benchmarks/kernel_cases.h"

#include <fmt/core.h>

#include <memory>

#include "kernels/cpu/conv.h"
#include "kernels/cuda/backend.h"
#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/conv.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/adamw.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/conv.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/elementwise.h"
#include "kernels/ops/linear.h"
#include "kernels/ops/loss.h"
#include "kernels/ops/pooling.h"
#include "kernels/ops/sgd.h"
#include "kernels/tensor.h"

namespace gcnn::bench {
namespace {

namespace ops = gcnn::ops;

constexpr std::int64_t kResNet18Params = 11'689'512;  // torchvision resnet18, 1000 classes

std::string dims(const Shape& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0) out += 'x';
    out += std::to_string(s[i]);
  }
  return out;
}

// torchvision ResNet-34's parameter tensors (stem, 16 basic blocks with 3
// projection shortcuts) and the fastai head for one output: 116 tensors.
std::vector<Shape> resnet34_param_shapes() {
  std::vector<Shape> out = {{64, 3, 7, 7}, {64}, {64}};
  const auto conv_bn = [&out](std::int64_t k, std::int64_t c, std::int64_t rs) {
    out.push_back({k, c, rs, rs});
    out.push_back({k});
    out.push_back({k});
  };
  std::int64_t in = 64;
  const std::int64_t planes[] = {64, 128, 256, 512}, blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    for (std::int64_t b = 0; b < blocks[stage]; ++b) {
      conv_bn(planes[stage], in, 3);
      conv_bn(planes[stage], planes[stage], 3);
      if (b == 0 && in != planes[stage]) conv_bn(planes[stage], in, 1);
      in = planes[stage];
    }
  }
  for (const Shape& s : std::vector<Shape>{{1024}, {1024}, {512, 1024}, {512}, {512}, {512}, {1, 512}, {1}})
    out.push_back(s);
  return out;
}
std::int64_t resnet34_param_count() {
  std::int64_t n = 0;
  for (const Shape& s : resnet34_param_shapes()) n += shape_numel(s);
  return n;
}

double f32_bytes(const Shape& s, int tensors = 1) { return 4.0 * static_cast<double>(shape_numel(s)) * tensors; }

Tensor ramp(const Shape& s, Device device) {
  std::vector<float> v(static_cast<std::size_t>(shape_numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 97) * 0.01f - 0.4f;
  return Tensor::from_vector(s, v).to(device);
}

// Keeps the operands alive as long as the returned runner.
template <class Operands, class Body>
std::function<void()> keep(std::shared_ptr<Operands> o, Body body) {
  return [o, body] { body(*o); };
}

enum class ConvDirection { Forward, BackwardData, BackwardWeights };

void add_conv_cases(std::vector<KernelCase>& out, std::int64_t batch, Precision precision) {
  for (const ConvShape& s : resnet_conv_shapes()) {
    const ops::Conv2dParams params{s.stride, s.stride, s.pad, s.pad, precision};
    const Shape xs{batch, s.c, s.hw, s.hw}, ws{s.k, s.c, s.rs, s.rs};
    const Shape ys = ops::conv2d_output_shape(xs, ws, params);
    // 2 N K OH OW C R S: the same for all three directions.
    const double flops = 2.0 * static_cast<double>(batch * s.k * ys[2] * ys[3] * s.c * s.rs * s.rs);
    const std::string shape = fmt::format("x {}, w {}, stride {}, pad {}", dims(xs), dims(ws), s.stride, s.pad);
    for (ConvDirection d : {ConvDirection::Forward, ConvDirection::BackwardData, ConvDirection::BackwardWeights}) {
      const char* dir = d == ConvDirection::Forward ? "fwd" : d == ConvDirection::BackwardData ? "bwd_data" : "bwd_weights";
      const char* op = d == ConvDirection::Forward        ? "conv2d_forward"
                       : d == ConvDirection::BackwardData ? "conv2d_backward_data"
                                                          : "conv2d_backward_weights";
      // Reads two of x, w, dy and writes the third.
      const double bytes = f32_bytes(xs) + f32_bytes(ws) + f32_bytes(ys);
      out.push_back({fmt::format("conv_{}/{}", dir, s.name), op, shape, flops, bytes, [=](Device device) {
                       struct Operands {
                         Tensor x, w, y, dx, dw;
                       };
                       auto o = std::make_shared<Operands>(Operands{ramp(xs, device), ramp(ws, device),
                                                                    ramp(ys, device), Tensor::empty(xs, device),
                                                                    Tensor::empty(ws, device)});
                       return keep(o, [d, params, device](Operands& t) {
                         if (d == ConvDirection::Forward) {
                           ops::conv2d_forward(t.x, t.w, Tensor(), t.y, params);
                         } else if (d == ConvDirection::BackwardData) {
                           if (device.is_cpu()) cpu::conv2d_backward_data(t.w, t.y, t.dx, params);
                           else cuda::conv2d_backward_data(t.w, t.y, t.dx, params);
                         } else {
                           if (device.is_cpu()) cpu::conv2d_backward_weights(t.x, t.y, t.dw, nullptr, params);
                           else cuda::conv2d_backward_weights(t.x, t.y, t.dw, nullptr, params);
                         }
                       });
                     }});
    }
  }
}

void add_linear_cases(std::vector<KernelCase>& out, std::int64_t batch, Precision precision) {
  // The fastai head's two linear layers for ResNet-18/34 (512 channels, concat pool).
  for (auto [in, outf] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1024, 512}, {512, 1}}) {
    const Shape xs{batch, in}, ws{outf, in}, ys{batch, outf};
    const std::string tag = fmt::format("head_{}x{}", in, outf);
    const double bytes = f32_bytes(xs) + f32_bytes(ws) + f32_bytes(ys);
    const double product = 2.0 * static_cast<double>(batch * in * outf);
    struct Operands {
      Tensor x, w, b, y, dx, dw, db;
    };
    auto make = [=](Device device) {
      return std::make_shared<Operands>(Operands{ramp(xs, device), ramp(ws, device), Tensor::zeros({outf}, device),
                                                 ramp(ys, device), Tensor::empty(xs, device),
                                                 Tensor::empty(ws, device), Tensor::empty({outf}, device)});
    };
    out.push_back({"linear_fwd/" + tag, "linear_forward", fmt::format("x {}, w {}", dims(xs), dims(ws)), product,
                   bytes, [=](Device device) {
                     return keep(make(device),
                                 [precision](Operands& t) { ops::linear_forward(t.x, t.w, t.b, t.y, precision); });
                   }});
    // Backward is two products: dx and dw.
    out.push_back({"linear_bwd/" + tag, "linear_backward", fmt::format("x {}, w {}", dims(xs), dims(ws)),
                   2 * product, bytes + f32_bytes(xs) + f32_bytes(ws), [=](Device device) {
                     return keep(make(device), [precision](Operands& t) {
                       ops::linear_backward(t.x, t.w, t.y, &t.dx, t.dw, &t.db, precision);
                     });
                   }});
  }
}

void add_batchnorm_cases(std::vector<KernelCase>& out, std::int64_t batch) {
  // (channels, spatial size): after the stem, then stages 1 to 4.
  for (auto [c, hw] : std::vector<std::pair<std::int64_t, std::int64_t>>{{64, 64}, {64, 32}, {128, 16}, {256, 8}, {512, 4}}) {
    const Shape xs{batch, c, hw, hw};
    const std::string tag = dims(xs);
    struct Operands {
      Tensor x, y, dx, gamma, beta, mean, var, save_mean, save_invstd, dgamma, dbeta;
    };
    auto make = [=](Device device) {
      return std::make_shared<Operands>(Operands{
          ramp(xs, device), Tensor::empty(xs, device), Tensor::empty(xs, device), Tensor::full({c}, 1.0f, device),
          Tensor::zeros({c}, device), Tensor::zeros({c}, device), Tensor::full({c}, 1.0f, device),
          Tensor::full({c}, 0.1f, device), Tensor::full({c}, 2.0f, device), Tensor::empty({c}, device),
          Tensor::empty({c}, device)});
    };
    out.push_back({"batchnorm_forward_train/" + tag, "batchnorm_forward_train", "x " + tag, 0, f32_bytes(xs, 2),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       ops::batchnorm_forward_train(t.x, t.gamma, t.beta, t.mean, t.var, 0.1f, 1e-5f, t.y,
                                                    t.save_mean, t.save_invstd);
                     });
                   }});
    // The fused pair every ResNet block runs (unfused: a ReLU pass reading and writing y on top).
    out.push_back({"batchnorm_relu_forward_train/" + tag, "batchnorm_relu_forward_train", "x " + tag, 0,
                   f32_bytes(xs, 2), [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       ops::batchnorm_relu_forward_train(t.x, t.gamma, t.beta, t.mean, t.var, 0.1f, 1e-5f, t.y,
                                                         t.save_mean, t.save_invstd);
                     });
                   }});
    out.push_back({"batchnorm_forward_eval/" + tag, "batchnorm_forward_eval", "x " + tag, 0, f32_bytes(xs, 2),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       ops::batchnorm_forward_eval(t.x, t.gamma, t.beta, t.mean, t.var, 1e-5f, t.y);
                     });
                   }});
    // Reads x and dy (here x), writes dx.
    out.push_back({"batchnorm_backward/" + tag, "batchnorm_backward", "x " + tag, 0, f32_bytes(xs, 3),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       ops::batchnorm_backward(t.x, t.gamma, t.save_mean, t.save_invstd, t.x, t.dx, t.dgamma,
                                               t.dbeta);
                     });
                   }});
    // Reads x, dy and the ReLU output, writes dx.
    out.push_back({"relu_batchnorm_backward/" + tag, "relu_batchnorm_backward", "x " + tag, 0, f32_bytes(xs, 4),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       ops::relu_batchnorm_backward(t.x, t.gamma, t.save_mean, t.save_invstd, t.x, t.y, t.dx,
                                                    t.dgamma, t.dbeta);
                     });
                   }});
    // The simple kernels (CUDA only): the same minimum traffic, so the rates compare directly.
    out.push_back({"batchnorm_forward_train_simple/" + tag, "cuda::batchnorm_forward_train_simple", "x " + tag, 0,
                   f32_bytes(xs, 2),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       cuda::batchnorm_forward_train_simple(t.x, t.gamma, t.beta, t.mean, t.var, 0.1f, 1e-5f, t.y,
                                                            t.save_mean, t.save_invstd);
                     });
                   },
                   true});
    out.push_back({"batchnorm_backward_simple/" + tag, "cuda::batchnorm_backward_simple", "x " + tag, 0,
                   f32_bytes(xs, 3),
                   [=](Device device) {
                     return keep(make(device), [](Operands& t) {
                       cuda::batchnorm_backward_simple(t.x, t.gamma, t.save_mean, t.save_invstd, t.x, t.dx, t.dgamma,
                                                       t.dbeta);
                     });
                   },
                   true});
  }
}

void add_pooling_cases(std::vector<KernelCase>& out, std::int64_t batch) {
  const Shape stem{batch, 64, 64, 64};
  const ops::Pool2dParams pool;
  const Shape pooled = ops::pool2d_output_shape(stem, pool);
  struct Operands {
    Tensor x, y, dx;
  };
  auto make = [](Shape xs, Shape ys) {
    return [=](Device device) {
      return std::make_shared<Operands>(Operands{ramp(xs, device), ramp(ys, device), Tensor::empty(xs, device)});
    };
  };
  out.push_back({"maxpool2d_forward/" + dims(stem), "maxpool2d_forward", "x " + dims(stem) + ", 3x3/2",
                 0, f32_bytes(stem) + f32_bytes(pooled), [=](Device device) {
                   return keep(make(stem, pooled)(device), [pool](Operands& t) { ops::maxpool2d_forward(t.x, t.y, pool); });
                 }});
  out.push_back({"maxpool2d_backward/" + dims(stem), "maxpool2d_backward", "x " + dims(stem) + ", 3x3/2",
                 0, f32_bytes(stem, 2) + f32_bytes(pooled), [=](Device device) {
                   return keep(make(stem, pooled)(device),
                               [pool](Operands& t) { ops::maxpool2d_backward(t.x, t.y, t.dx, pool); });
                 }});
  const Shape head{batch, 512, 4, 4}, cat{batch, 1024};
  out.push_back({"concat_pool_forward/" + dims(head), "concat_pool_forward", "x " + dims(head), 0,
                 f32_bytes(head) + f32_bytes(cat), [=](Device device) {
                   return keep(make(head, cat)(device), [](Operands& t) { ops::concat_pool_forward(t.x, t.y); });
                 }});
  out.push_back({"concat_pool_backward/" + dims(head), "concat_pool_backward", "x " + dims(head), 0,
                 f32_bytes(head, 2) + f32_bytes(cat), [=](Device device) {
                   return keep(make(head, cat)(device), [](Operands& t) { ops::concat_pool_backward(t.x, t.y, t.dx); });
                 }});
}

void add_elementwise_cases(std::vector<KernelCase>& out, std::int64_t batch) {
  const Shape act{batch, 64, 32, 32};
  const std::string tag = dims(act);
  struct Operands {
    Tensor a, b, y;
  };
  auto make = [=](Device device) {
    return std::make_shared<Operands>(Operands{ramp(act, device), ramp(act, device), Tensor::empty(act, device)});
  };
  out.push_back({"add/" + tag, "add", "x " + tag, 0, f32_bytes(act, 3), [=](Device device) {
                   return keep(make(device), [](Operands& t) { ops::add(t.a, t.b, t.y); });
                 }});
  out.push_back({"accumulate/" + tag, "accumulate", "x " + tag, 0, f32_bytes(act, 3), [=](Device device) {
                   return keep(make(device), [](Operands& t) { ops::accumulate(t.y, t.a); });
                 }});
  out.push_back({"add_relu/" + tag, "add_relu", "x " + tag, 0, f32_bytes(act, 3), [=](Device device) {
                   return keep(make(device), [](Operands& t) { ops::add_relu(t.a, t.b, t.y); });
                 }});
  out.push_back({"relu_forward/" + tag, "relu_forward", "x " + tag, 0, f32_bytes(act, 2), [=](Device device) {
                   return keep(make(device), [](Operands& t) { ops::relu_forward(t.a, t.y); });
                 }});
  out.push_back({"relu_backward/" + tag, "relu_backward", "x " + tag, 0, f32_bytes(act, 3), [=](Device device) {
                   return keep(make(device), [](Operands& t) { ops::relu_backward(t.a, t.b, t.y); });
                 }});
  const Shape cat{batch, 1024};
  out.push_back({"dropout_forward/" + dims(cat), "dropout_forward", "x " + dims(cat), 0, f32_bytes(cat, 3),
                 [=](Device device) {
                   struct Dropout {
                     Tensor x, mask, y;
                     std::uint64_t seed = 0;
                   };
                   auto o = std::make_shared<Dropout>(
                       Dropout{ramp(cat, device), Tensor::empty(cat, device), Tensor::empty(cat, device)});
                   return keep(o, [](Dropout& t) { ops::dropout_forward(t.x, 0.5f, ++t.seed, t.mask, t.y); });
                 }});
  const Shape pred{batch, 1};
  out.push_back({"mse_loss_forward_backward/" + dims(pred), "loss_forward+loss_backward", "pred " + dims(pred), 0,
                 f32_bytes(pred, 5), [=](Device device) {
                   auto o = std::make_shared<Operands>(
                       Operands{ramp(pred, device), Tensor::full(pred, 0.1f, device), Tensor::empty(pred, device)});
                   return keep(o, [](Operands& t) {
                     (void)ops::loss_forward(ops::LossKind::MSE, t.a, t.b);
                     ops::loss_backward(ops::LossKind::MSE, t.a, t.b, t.y);
                   });
                 }});
  const Shape params{kResNet18Params};
  // Reads param, grad and momentum; writes param and momentum.
  out.push_back({"sgd_update_nesterov/11.7M", "sgd_update", "ResNet-18's parameters", 0, f32_bytes(params, 5),
                 [=](Device device) {
                   auto o = std::make_shared<Operands>(
                       Operands{ramp(params, device), ramp(params, device), Tensor::zeros(params, device)});
                   return keep(o, [](Operands& t) { ops::sgd_update(t.a, t.b, t.y, 1e-6f, 0.9f, 5e-4f, true); });
                 }});
  // ResNet-34's 116 parameter tensors in one multi-tensor update: one launch on CUDA instead of 116.
  out.push_back({"sgd_update_multi_tensor/resnet34", "sgd_update (multi-tensor)", "ResNet-34's parameter tensors", 0,
                 f32_bytes({resnet34_param_count()}, 5), [=](Device device) {
                   struct MultiOperands {
                     std::vector<Tensor> param, grad, buf;
                     std::vector<ops::SgdTensor> update;
                   };
                   auto o = std::make_shared<MultiOperands>();
                   for (const Shape& s : resnet34_param_shapes()) {
                     o->param.push_back(ramp(s, device));
                     o->grad.push_back(ramp(s, device));
                     o->buf.push_back(Tensor::zeros(s, device));
                   }
                   for (std::size_t i = 0; i < o->param.size(); ++i)
                     o->update.push_back({&o->param[i], &o->grad[i], &o->buf[i], 1e-6f, 5e-4f});
                   return keep(o, [](MultiOperands& t) { ops::sgd_update(t.update, 0.9f, true); });
                 }});
  // Reads param, grad and both moments; writes param and both moments.
  out.push_back({"adamw_update/11.7M", "adamw_update", "ResNet-18's parameters", 0, f32_bytes(params, 7),
                 [=](Device device) {
                   struct AdamWOperands {
                     Tensor param, grad, exp_avg, exp_avg_sq;
                     std::int64_t step = 0;
                   };
                   auto o = std::make_shared<AdamWOperands>(AdamWOperands{ramp(params, device), ramp(params, device),
                                                                          Tensor::zeros(params, device),
                                                                          Tensor::zeros(params, device)});
                   return keep(o, [](AdamWOperands& t) {
                     const ops::AdamWTensor update{&t.param, &t.grad, &t.exp_avg, &t.exp_avg_sq, 1e-6f, 1e-2f, ++t.step};
                     ops::adamw_update({&update, 1}, {});
                   });
                 }});
}

}  // namespace

// After the stem (64x64) and max pool, the stages run at 32, 16, 8 and 4 px. A
// function-local static: other files' registrations read it during static
// initialisation, before a namespace-scope vector would be built.
const std::vector<ConvShape>& resnet_conv_shapes() {
  // clang-format off: one convolution per line
  static const std::vector<ConvShape> shapes = {
      {"stem_7x7s2_3x128", 3, 128, 64, 7, 2, 3},
      {"l1_3x3_64x32", 64, 32, 64, 3, 1, 1},
      {"l2_3x3s2_64x32", 64, 32, 128, 3, 2, 1},
      {"l2_proj_1x1s2_64x32", 64, 32, 128, 1, 2, 0},
      {"l2_3x3_128x16", 128, 16, 128, 3, 1, 1},
      {"l3_3x3s2_128x16", 128, 16, 256, 3, 2, 1},
      {"l3_proj_1x1s2_128x16", 128, 16, 256, 1, 2, 0},
      {"l3_3x3_256x8", 256, 8, 256, 3, 1, 1},
      {"l4_3x3s2_256x8", 256, 8, 512, 3, 2, 1},
      {"l4_proj_1x1s2_256x8", 256, 8, 512, 1, 2, 0},
      {"l4_3x3_512x4", 512, 4, 512, 3, 1, 1},
  };
  // clang-format on
  return shapes;
}

std::vector<KernelCase> resnet_kernel_cases(std::int64_t batch, Precision precision) {
  std::vector<KernelCase> out;
  add_conv_cases(out, batch, precision);
  add_linear_cases(out, batch, precision);
  add_batchnorm_cases(out, batch);
  add_pooling_cases(out, batch);
  add_elementwise_cases(out, batch);
  return out;
}

void synchronize(Device device) {
  if (device.is_cuda()) cuda::synchronize(device.index);
}

}  // namespace gcnn::bench
