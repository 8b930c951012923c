#!/usr/bin/python3
"""PyTorch's side of `compare_pytorch.py speed`: one speed measurement in its own
process (so its peak RSS is its own), printed as one JSON object on stdout.

The work mirrors `gcnn bench train|infer`: torchvision's ResNet with a 1-output
fc (the engine's `linear` head; an identical local definition where torchvision
is not installed), synthetic normal inputs and targets, MSE loss,
SGD with momentum 0.9 and weight decay 1e-4, the loss summed on the device and
read back once after the timed steps (as the engine's training step keeps it);
inference is an eval-mode forward under torch.inference_mode, of the module as it
is (--infer eager) or of the TorchScript module that torch.jit.optimize_for_inference
makes of it (--infer frozen: frozen weights, batch norms folded into the
convolutions, oneDNN layouts kept between them on the CPU). fp32 means strict
fp32: TF32 is switched off for cuDNN and cuBLAS, as the engine's fp32 is.
"""
import argparse
import json
import resource
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError as e:
    sys.exit(f"torch_speed.py: {e}; run it with /usr/bin/python3 (Debian's python3-torch) or a Python that has PyTorch")
try:
    import torchvision
except ImportError:  # pip installs of PyTorch often come without it: resnet() below is the same network
    torchvision = None


class Block(nn.Module):
    """torchvision's BasicBlock (expansion 1) or Bottleneck (expansion 4, stride on the 3x3)."""

    def __init__(self, cin, planes, stride, expansion):
        super().__init__()
        cout = planes * expansion
        if expansion == 1:
            layers = [nn.Conv2d(cin, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
                      nn.Conv2d(planes, planes, 3, 1, 1, bias=False), nn.BatchNorm2d(planes)]
        else:
            layers = [nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
                      nn.Conv2d(planes, planes, 3, stride, 1, bias=False), nn.BatchNorm2d(planes),
                      nn.ReLU(inplace=True), nn.Conv2d(planes, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.main = nn.Sequential(*layers)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.main(x) + (x if self.downsample is None else self.downsample(x)))


def resnet(name):
    """torchvision's resnet18/34/50 with a 1-output fc, from torchvision when installed."""
    if torchvision is not None:
        return getattr(torchvision.models, name)(num_classes=1)
    blocks, expansion = {"resnet18": ([2, 2, 2, 2], 1), "resnet34": ([3, 4, 6, 3], 1),
                         "resnet50": ([3, 4, 6, 3], 4)}[name]
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, count in enumerate(blocks):
        for i in range(count):
            layers.append(Block(cin, 64 << stage, 2 if i == 0 and stage > 0 else 1, expansion))
            cin = (64 << stage) * expansion
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1))


def percentile(sorted_values, q):
    at = q * (len(sorted_values) - 1)
    lo = int(at)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (at - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["resnet18", "resnet34", "resnet50"], required=True)
    ap.add_argument("--mode", choices=["train", "infer"], required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    ap.add_argument("--infer", choices=["eager", "frozen"], default="eager",
                    help="inference of the module as it is, or of torch.jit.optimize_for_inference's rewrite of it")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    model = resnet(args.model).to(device)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    target = torch.randn(args.batch, 1, device=device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
    loss_fn = torch.nn.MSELoss()

    loss_sum = torch.zeros((), device=device)

    def train_step():
        nonlocal loss_sum
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), target)
        loss.backward()
        opt.step()
        loss_sum += loss.detach()

    if args.mode == "train":
        model.train()
        step = train_step
    else:
        model.eval()
        forward = model
        if args.infer == "frozen":
            forward = torch.jit.optimize_for_inference(torch.jit.script(model))

        def step():
            with torch.inference_mode():
                forward(x)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    if not torch.isfinite(loss_sum):
        sys.exit(f"torch_speed.py: the loss became {loss_sum.item()} at lr 1e-4")
    times.sort()
    median = statistics.median(times)
    print(json.dumps({
        "engine": f"PyTorch {torch.__version__}" + (" (optimize_for_inference)" if args.infer == "frozen" else ""),
        "images_per_second": args.batch / median,
        "step": {"median_ms": median * 1e3, "p10_ms": percentile(times, 0.1) * 1e3,
                 "p90_ms": percentile(times, 0.9) * 1e3, "runs": len(times)},
        "threads": torch.get_num_threads(),
        "peak_host_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "peak_device_bytes": torch.cuda.max_memory_allocated(device) if cuda else 0,
    }))


if __name__ == "__main__":
    main()
