// gcnn bench train / gcnn bench infer: steady-state speed of a whole ResNet on
// synthetic inputs. train times the trainer's train_step_on_device (forward,
// MSE loss kept on the device, backward, SGD with momentum 0.9 and weight decay
// 1e-4, as compare_pytorch.py's PyTorch side); infer times an eval-mode
// forward. Reports images/s, ms/step (median, p10-p90), peak host RSS, peak
// device memory on CUDA and the achieved TFLOP/s from the analytic FLOP count
// of the network (layers/flops.h).
#include <cblas.h>
#include <omp.h>

#include <map>

#include <fmt/core.h>

#include "apps/bench.h"
#include "apps/bench_report.h"
#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/precision.h"
#include "layers/flops.h"
#include "layers/fused_inference.h"
#include "layers/init.h"
#include "layers/models.h"
#include "optim/sgd.h"
#include "train/trainer.h"

namespace {

struct BenchModelArgs {
  std::string model = "resnet18";
  std::string head = "linear";
  std::string device;
  std::string precision = "fp32";
  std::string json;
  int size = 128;
  int batch = 0;   // 0: 32 on the CPU, 128 on CUDA
  int steps = 0;   // 0: 10 on the CPU, 50 on CUDA
  int warmup = 3;
  int threads = 0;  // 0: OpenMP's default
  bool layer_by_layer = false;  // infer: no fused ResNet body (layers/fused_inference.h)
  gcnn::cpu::Conv3x3Algorithm conv3x3 = gcnn::cpu::Conv3x3Algorithm::winograd;  // infer: in the fused body
};

int depth_of(const std::string& model) {
  if (model == "resnet18") return 18;
  if (model == "resnet34") return 34;
  if (model == "resnet50") return 50;
  GCNN_INPUT_FAIL("--model '{}': expected resnet18, resnet34 or resnet50", model);
}

int run_bench_model(const BenchModelArgs& args, bool train) {
  const char* what = train ? "bench train" : "bench infer";
  const int depth = depth_of(args.model);
  GCNN_INPUT_CHECK(args.head == "linear" || args.head == "fastai", "{}: --head '{}': expected linear or fastai", what,
                   args.head);
  GCNN_INPUT_CHECK(args.size >= 32 && args.size <= 1024, "{}: --size {}: must be in [32, 1024]", what, args.size);
  GCNN_INPUT_CHECK(args.warmup >= 0 && args.warmup <= 1000, "{}: --warmup {}: must be in [0, 1000]", what,
                   args.warmup);
  GCNN_INPUT_CHECK(args.threads >= 0 && args.threads <= 1024, "{}: --threads {}: must be in [1, 1024]", what,
                   args.threads);
  const gcnn::Device device = gcnn::parse_device(args.device);
  const gcnn::Precision precision = gcnn::resolve_precision(args.precision, device);
  const int batch = args.batch > 0 ? args.batch : device.is_cpu() ? 32 : 128;
  const int steps = args.steps > 0 ? args.steps : device.is_cpu() ? 10 : 50;
  GCNN_INPUT_CHECK(batch <= 4096, "{}: --batch {}: must be in [1, 4096]", what, batch);
  GCNN_INPUT_CHECK(steps <= 100000, "{}: --steps {}: must be in [1, 100000]", what, steps);
  if (args.threads > 0) {
    omp_set_num_threads(args.threads);
    openblas_set_num_threads(args.threads);
  }

  gcnn::ResNetOptions options;
  options.depth = depth;
  options.head.kind = args.head;
  options.head.n_targets = 1;
  auto model = gcnn::make_resnet(options, 1);
  gcnn::move_to(*model, device);
  gcnn::set_precision(*model, precision);
  const gcnn::Shape input{batch, 3, args.size, args.size};
  const gcnn::NetworkFlops flops = gcnn::count_flops(*model, input);
  const double flops_per_step = train ? flops.train_step() : flops.forward;
  std::string inference_path;  // infer: how the forward runs
  if (!train) {
    const std::string why_not =
        args.layer_by_layer ? "--layer-by-layer" : gcnn::fuse_for_inference(*model, args.conv3x3);
    inference_path = gcnn::describe_forward(*model, why_not);
  }

  gcnn::Tensor x = gcnn::Tensor::empty(input), target = gcnn::Tensor::empty({batch, 1});
  gcnn::init_normal(x, 1.0, 2);
  gcnn::init_normal(target, 1.0, 3);
  x = x.to(device);
  target = target.to(device);
  gcnn::optim::Sgd sgd({{"all", gcnn::named_parameters(*model)}}, {.weight_decay = 1e-4});
  // The step training runs: the loss stays on the device and is read once, after the timed steps.
  gcnn::train::RunningLoss loss(device);
  std::int64_t step_index = 0;
  auto step = [&] {
    if (train)
      gcnn::train::train_step_on_device(*model, sgd, x, target, gcnn::ops::LossKind::MSE, 1.0f, {1e-4, 0.9}, {},
                                        nullptr, loss, step_index++);
    else
      model->forward(x, false);
  };
  auto sync = [device] {
    if (device.is_cuda()) gcnn::cuda::synchronize(device.index);
  };

  const double load = gcnn::app::host_load_average();
  fmt::print("{}; host load average {:.2f}\n", gcnn::app::device_line(device), load);
  fmt::print("{} {}, {} head, {} px, batch {}, {}, {} threads: {} warm-up + {} timed steps\n", what, args.model,
             args.head, args.size, batch, gcnn::precision_name(precision), omp_get_max_threads(), args.warmup, steps);
  if (!train) fmt::print("forward: {}\n", inference_path);
  for (int i = 0; i < args.warmup; ++i) {
    step();
    sync();
  }
  if (device.is_cuda()) gcnn::cuda::reset_peak(device.index);
  const gcnn::app::Spread s = gcnn::app::spread_of(gcnn::app::time_runs(step, sync, steps, 0, steps));
  if (train) {
    const gcnn::train::RunningLoss::Totals totals = loss.read();
    GCNN_CHECK(totals.first_nonfinite_step < 0, "{}: the loss became non-finite at step {} (lr 1e-4)", what,
               totals.first_nonfinite_step);
  }
  const double images_per_second = batch / s.median;
  const double rss = static_cast<double>(gcnn::app::peak_host_rss_bytes());
  const double device_peak =
      device.is_cuda() ? static_cast<double>(gcnn::cuda::allocator_stats(device.index).peak_allocated_bytes) : 0;

  fmt::print("{:.1f} images/s; ms/step median {:.1f} (p10 {:.1f}, p90 {:.1f}); {:.2f} TFLOP/s from {:.1f} GFLOP per "
             "step\n",
             images_per_second, s.median * 1e3, s.p10 * 1e3, s.p90 * 1e3, flops_per_step / s.median * 1e-12,
             flops_per_step * 1e-9);
  fmt::print("peak host RSS {:.0f} MiB", rss / (1 << 20));
  if (device.is_cuda()) fmt::print(", peak device memory {:.0f} MiB (caching allocator, live tensors)", device_peak / (1 << 20));
  fmt::print("\n");
  if (!flops.uncounted.empty())
    fmt::print("note: {} parameterised layer(s) not in the FLOP count\n", flops.uncounted.size());

  if (!args.json.empty()) {
    nlohmann::json report = {{"schema", "gcnn-bench-model/1"},
                             {"mode", train ? "train" : "infer"},
                             {"model", args.model},
                             {"head", args.head},
                             {"image_size", args.size},
                             {"batch", batch},
                             {"precision", gcnn::precision_name(precision)},
                             {"inference_path", inference_path},
                             {"threads", omp_get_max_threads()},
                             {"warmup_steps", args.warmup},
                             {"host_load_average_at_start", load},
                             {"device", gcnn::app::device_json(device)},
                             {"images_per_second", images_per_second},
                             {"step", gcnn::app::spread_json_ms(s)},
                             {"flops_per_step", flops_per_step},
                             {"tflops", flops_per_step / s.median * 1e-12},
                             {"peak_host_rss_bytes", rss},
                             {"peak_device_bytes", device_peak}};
    gcnn::app::write_json_report(args.json, report);
    fmt::print("wrote {}\n", args.json);
  }
  return 0;
}

gcnn::app::CommandSetup model_bench(bool train) {
  return [train](CLI::App& cmd) {
    auto args = std::make_shared<BenchModelArgs>();
    cmd.add_option("--model", args->model, "resnet18, resnet34 or resnet50")->capture_default_str();
    cmd.add_option("--head", args->head, "linear (torchvision's fc) or fastai")->capture_default_str();
    gcnn::app::add_device_option(cmd, args->device);
    cmd.add_option("--precision", args->precision, "Convolution and GEMM arithmetic: fp32, tf32 (CUDA), bf16 or auto")
        ->capture_default_str();
    cmd.add_option("--size", args->size, "Image size in pixels")->capture_default_str();
    cmd.add_option("--batch", args->batch, "Batch size (default 32 on the CPU, 128 on CUDA)")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--steps", args->steps, "Timed steps (default 10 on the CPU, 50 on CUDA)")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--warmup", args->warmup, "Untimed steps first")->capture_default_str();
    cmd.add_option("--threads", args->threads, "OpenMP and OpenBLAS threads (default: OpenMP's)");
    cmd.add_option("--json", args->json, "Also write the results and the device's description to this JSON file");
    if (!train) {
      cmd.add_flag("--layer-by-layer", args->layer_by_layer,
                   "Run the model's layers one by one, not the fused ResNet body of the CPU (for comparison)");
      const std::map<std::string, gcnn::cpu::Conv3x3Algorithm> algorithms{
          {"winograd", gcnn::cpu::Conv3x3Algorithm::winograd}, {"direct", gcnn::cpu::Conv3x3Algorithm::direct}};
      cmd.add_option("--conv3x3", args->conv3x3,
                     "The fused body's 3x3 stride-1 convolutions: winograd (F(2x2, 3x3), where the CPU's layout is "
                     "AVX2's nChw8c in fp32; direct elsewhere) or direct (oneDNN's)")
          ->transform(CLI::CheckedTransformer(algorithms))
          ->default_str("winograd");
    }
    return [args, train] { return run_bench_model(*args, train); };
  };
}

GCNN_BENCH("train", "Images/s, ms/step, memory and TFLOP/s of ResNet training steps on synthetic inputs",
           model_bench(true));
GCNN_BENCH("infer", "Images/s, ms/step, memory and TFLOP/s of ResNet inference on synthetic inputs",
           model_bench(false));

}  // namespace
