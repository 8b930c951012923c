#!/usr/bin/python3
"""Side-by-side comparisons of galaxy-cnns with PyTorch on this machine.

accuracy: for each seed, trains one experiment with `gcnn train` and then the
same recipe in PyTorch on the very split the engine wrote (its run folder's
config.yaml and split.csv), and prints both engines' validation RMSE per epoch
and a summary over seeds.

torch-train: trains the recipe of one engine run folder in PyTorch only.

speed: images/s of one model in `gcnn bench train|infer` and in PyTorch
(benchmarks/torch_speed.py), alternating the engines' runs, with the ratio and
both peak memories.

PyTorch (Debian's python3-torch) is a comparison tool, never a dependency of
the engine. Run with /usr/bin/python3, the interpreter Debian's packages
belong to.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torchvision
    import yaml
    from PIL import Image
except ImportError as e:  # the usual cause: another python3 first on PATH
    if sys.argv[1:2] != ["speed"]:  # speed runs PyTorch in benchmarks/torch_speed.py, needing only torch there
        sys.exit(f"compare_pytorch.py: {e}; run it with /usr/bin/python3 after "
                 "`apt-get install python3-torch python3-torchvision python3-pil python3-yaml`")

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- the recipe
class Recipe:
    """The subset of an engine experiment (its resolved config.yaml) that the
    PyTorch side reproduces; anything else is refused with the key named."""

    def __init__(self, path, reproduce=True):
        """reproduce=False: only read the data keys (for the engine's side of a comparison)."""
        with open(path) as f:
            c = yaml.safe_load(f)
        self.source, self.reproduce = str(path), reproduce
        d, m, o = c.get("data", {}), c.get("model", {}), c.get("optimizer", {})
        self.seed = int(c.get("seed", 0))
        self.catalog = d.get("catalog")
        self.images = d.get("images")
        self.id_column = d.get("id_column", "objID")
        self.targets = d.get("targets", ["oh_p50"])
        self.image_size = int(d.get("image_size", 128))
        self.batch_size = int(d.get("batch_size", 32))
        self.dihedral = bool(d.get("dihedral", True))
        self.normalize_targets = bool(d.get("normalize_targets", True))
        self.preset = m.get("preset", "resnet18")
        self.width = int(m.get("width", 64))
        head = m.get("head") or {}
        self.head = head.get("kind", "fastai")
        self.head_hidden = int(head.get("hidden", 512))
        self.head_dropout = [float(v) for v in head.get("dropout", [0.25, 0.5])]
        self.head_zero_init = bool(head.get("zero_init", False))
        self.se_ratio = int(m.get("se_ratio", 0))
        self.zoom = float(d.get("zoom", 1.0))
        self.zero_init_residual = bool(m.get("zero_init_residual", False))
        self.loss = c.get("loss", "rmse")
        self.momentum = float(o.get("momentum", 0.9))
        self.nesterov = bool(o.get("nesterov", False))
        self.weight_decay = float(o.get("weight_decay", 1e-4))
        self.decay_all = bool(o.get("decay_all", False))
        phases = c.get("phases") or []
        self._refuse(d.get("synthetic"), "data.synthetic (use a catalog and images)")
        self._refuse(not 1.0 <= self.zoom <= 2.0, f"data.zoom {self.zoom}")
        self._refuse(float(d.get("rotate", 0.0)) != 0.0, "data.rotate other than 0")
        self._refuse(self.preset not in ("resnet18", "resnet34"), f"model.preset {self.preset}")
        self._refuse(self.head not in ("linear", "fastai"), f"model.head.kind {self.head}")
        self._refuse(m.get("dihedral_pool"), "model.dihedral_pool")
        self._refuse(m.get("layers"), "a layer-list model")
        self.init_weights = m.get("init_weights")  # PyTorch reproduces it only in --paired runs
        self._refuse(self.loss not in ("mse", "rmse"), f"loss {self.loss}")
        self._refuse(len(phases) != 1, "more than one phase")
        p = phases[0]
        self.epochs = int(p["epochs"])
        self.schedule = p.get("schedule", "constant")
        self._refuse(self.schedule not in ("one_cycle", "constant"), f"schedule {self.schedule}")
        self._refuse(p.get("freeze_body") or p.get("warmup_epochs"), "freeze_body / warmup_epochs")
        self.lr = float(p["lr"])
        self.pct_start = float(p.get("pct_start", 0.3))
        self.div_factor = float(p.get("div_factor", 25.0))
        self.final_div = float(p.get("final_div", self.div_factor * 1e4))
        self.max_momentum = float(p.get("max_momentum", 0.95))
        self.min_momentum = float(p.get("min_momentum", 0.85))

    def _refuse(self, condition, what):
        if condition and self.reproduce:
            sys.exit(f"{self.source}: the PyTorch side does not reproduce {what}")


# ---------------------------------------------------------------- data
def load_split(run_dir, recipe):
    """Images (uint8 N,H,W,3), targets (N,T) and the train/valid rows, in
    catalog order, of the engine's split.csv."""
    roles = {}
    with open(Path(run_dir) / "split.csv") as f:
        for row in csv.DictReader(f):
            roles[row["id"]] = row["split"]
    ids, targets = [], []
    with open(recipe.catalog) as f:
        for row in csv.DictReader(f):
            if row[recipe.id_column] in roles:
                ids.append(row[recipe.id_column])
                targets.append([float(row[t]) for t in recipe.targets])
    images = load_images(ids, recipe)
    train = [i for i, ident in enumerate(ids) if roles[ident] == "train"]
    valid = [i for i, ident in enumerate(ids) if roles[ident] == "valid"]
    return images, np.array(targets, np.float64), train, valid, ids


def load_images(ids, recipe):
    """uint8 (N, s, s, 3) images at the recipe's size; an image k times larger
    is area-averaged over k x k blocks and rounded half away from zero, as the
    engine's resize_area does for integer factors."""
    s = recipe.image_size
    images = np.empty((len(ids), s, s, 3), np.uint8)
    for i, ident in enumerate(ids):
        im = np.asarray(Image.open(Path(recipe.images) / f"{ident}.jpg").convert("RGB"))
        h, w = im.shape[:2]
        if h != w or h % s:
            sys.exit(f"{ident}.jpg is {w}x{h}; the PyTorch side takes square images of a multiple of {s} px only")
        k = h // s
        if k > 1:
            im = np.floor(im.reshape(s, k, s, k, 3).astype(np.float64).mean(axis=(1, 3)) + 0.5).astype(np.uint8)
        images[i] = im
    return images


def to_input(images_u8, mean, std):
    x = torch.from_numpy(images_u8).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def dihedral(x, k):
    """The k-th of the 8 dihedral transforms of a [.., H, W] tensor."""
    if k >= 4:
        x = x.flip(-1)
    return torch.rot90(x, k % 4, dims=(-2, -1))


# ---------------------------------------------------------------- the engine's data stream
# A port of data/random.h (SplitMix64, xoshiro256**), the loader's per-epoch
# Fisher-Yates shuffle and draw_warp's dihedral draw, so that PyTorch can train
# on exactly the batches and transforms the engine draws (--paired).
MASK64 = (1 << 64) - 1


def _splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def _mix_seed(parts):
    state, h = 0x6A09E667F3BCC909, 0
    for p in parts:
        state, h = _splitmix64(state ^ p)
        state = h
    return h


class EngineRng:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = _splitmix64(seed)
            self.s.append(v)

    def next_u64(self):
        s = self.s
        rotl = (lambda x, k: ((x << k) | (x >> (64 - k))) & MASK64)
        result = (rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        return (self.next_u64() * n) >> 64


def engine_epoch_order(seed, epoch, rows):
    order, rng = list(rows), EngineRng(_mix_seed([seed, epoch, 0x10AD]))
    for i in range(len(order), 1, -1):
        j = rng.below(i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def engine_dihedral(seed, epoch, row):
    return EngineRng(_mix_seed([seed, epoch, row, 0xA06])).below(8)


# ---------------------------------------------------------------- model
class SqueezeExcitation(nn.Module):
    """The engine's se_block: global average -> fc1 (C -> C/r) -> ReLU -> fc2 -> sigmoid gates the channels."""

    def __init__(self, channels, ratio):
        super().__init__()
        squeeze = max(1, channels // ratio)
        self.fc1, self.fc2 = nn.Linear(channels, squeeze), nn.Linear(squeeze, channels)

    def forward(self, x):
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


class ConcatPool(nn.Module):
    """fastai's AdaptiveConcatPool2d to [N, 2C]: the channels' maxima, then their means."""

    def forward(self, x):
        return torch.cat([x.amax(dim=(2, 3)), x.mean(dim=(2, 3))], dim=1)


def make_model(recipe, init):
    """torchvision's ResNet with the recipe's SE blocks (after each block's last BN, as the engine's
    model.se_ratio) and head: linear (init: torchvision's, or zero-fc) or fastai's (BN, dropout,
    Linear, ReLU, BN, dropout, Linear; Kaiming-normal linears with zero biases, as the engine's)."""
    builder = {"resnet18": torchvision.models.resnet18, "resnet34": torchvision.models.resnet34}[recipe.preset]
    if recipe.width != 64:
        sys.exit(f"{recipe.source}: the PyTorch side builds torchvision's ResNet (width 64), not width {recipe.width}")
    model = builder(num_classes=len(recipe.targets), zero_init_residual=recipe.zero_init_residual)
    if recipe.se_ratio:
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            for block in stage:
                block.bn2 = nn.Sequential(block.bn2, SqueezeExcitation(block.bn2.num_features, recipe.se_ratio))
    if recipe.head == "fastai":
        channels = model.fc.in_features
        hidden, last = nn.Linear(2 * channels, recipe.head_hidden), nn.Linear(recipe.head_hidden, len(recipe.targets))
        for linear in (hidden, last):
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        if recipe.head_zero_init:
            nn.init.zeros_(last.weight)
        model.avgpool = ConcatPool()  # torchvision's forward flattens [N, 2C] (a no-op) and calls fc
        model.fc = nn.Sequential(nn.BatchNorm1d(2 * channels), nn.Dropout(recipe.head_dropout[0]), hidden, nn.ReLU(),
                                 nn.BatchNorm1d(recipe.head_hidden), nn.Dropout(recipe.head_dropout[1]), last)
    elif init == "zero-fc":
        nn.init.zeros_(model.fc.weight)
        nn.init.zeros_(model.fc.bias)
    return model


def read_safetensors(path):
    """{name: float32 tensor} of a safetensors file (F32 tensors; other dtypes are refused)."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}; only F32 is read")
        begin, end = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=np.float32).copy()).reshape(info["shape"])
    return out


def load_weights(model, path):
    """Copies every weight and bias of the model from path (e.g. the engine's initial weights); batch-norm
    running statistics start fresh, as in an untrained model."""
    weights = read_safetensors(path)
    params = dict(model.named_parameters())
    missing = sorted(set(params) - set(weights))
    if missing:
        sys.exit(f"{path}: lacks {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    with torch.no_grad():
        for name, p in params.items():
            if tuple(weights[name].shape) != tuple(p.shape):
                sys.exit(f"{path}: {name} has shape {list(weights[name].shape)}, the model wants {list(p.shape)}")
            p.copy_(weights[name])


def random_zoom(x, max_zoom, rng):
    """The engine's zoom augmentation on a batch: zoom ~ U(1, max_zoom), the window's centre shifted
    by room * (U + U - 1) on each axis (centre-biased), bilinear with reflection at the edges."""
    n = x.shape[0]
    zoom = 1 + (max_zoom - 1) * rng.random(n)
    room = 1 - 1 / zoom  # in affine_grid's [-1, 1] units
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = torch.from_numpy(1 / zoom).float()
    theta[:, 0, 2] = torch.from_numpy(room * (rng.random(n) + rng.random(n) - 1)).float()
    theta[:, 1, 2] = torch.from_numpy(room * (rng.random(n) + rng.random(n) - 1)).float()
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def param_groups(model, recipe):
    if recipe.decay_all:
        return [{"params": list(model.parameters()), "weight_decay": recipe.weight_decay}]
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            is_norm = isinstance(module, nn.modules.batchnorm._BatchNorm)
            (no_decay if is_norm or name == "bias" else decay).append(p)
    return [{"params": decay, "weight_decay": recipe.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


# ---------------------------------------------------------------- training
def torch_train(run_dir, recipe, seed, threads, init, per_batch_dihedral, engine_stream=False, log=print,
                init_from=None):
    """Trains the recipe on the run's split; returns per-epoch (train_loss, val_rmse), seconds and
    a Predictor of the trained model. engine_stream: the engine's batches and dihedral transforms
    instead of numpy's; init_from: a safetensors file of torchvision-named weights to start from."""
    if engine_stream and recipe.zoom > 1:
        sys.exit(f"{recipe.source}: the engine's zoom draws are not reproduced batch for batch (--paired, --engine-stream)")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images, targets, train, valid, ids = load_split(run_dir, recipe)
    u8 = images[train].astype(np.float64) / 255.0
    mean = torch.tensor(u8.mean(axis=(0, 1, 2)), dtype=torch.float32)
    std = torch.tensor(u8.std(axis=(0, 1, 2)), dtype=torch.float32)
    del u8
    t_mean = targets[train].mean(axis=0)
    t_std = targets[train].std(axis=0) if recipe.normalize_targets else np.ones(targets.shape[1])
    if not recipe.normalize_targets:
        t_mean = np.zeros(targets.shape[1])
    x_train = to_input(images[train], mean, std)
    y_train = torch.tensor((targets[train] - t_mean) / t_std, dtype=torch.float32)
    x_valid = to_input(images[valid], mean, std)
    y_valid = targets[valid][:, 0]

    model = make_model(recipe, init)
    if init_from:
        load_weights(model, init_from)
    opt = torch.optim.SGD(param_groups(model, recipe), lr=recipe.lr, momentum=recipe.momentum,
                          nesterov=recipe.nesterov)
    steps = len(train) // recipe.batch_size
    position = {row: p for p, row in enumerate(train)}
    sched = None
    if recipe.schedule == "one_cycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=recipe.lr, total_steps=recipe.epochs * steps, pct_start=recipe.pct_start,
            div_factor=recipe.div_factor, final_div_factor=recipe.final_div / recipe.div_factor,
            base_momentum=recipe.min_momentum, max_momentum=recipe.max_momentum)
    loss_fn = nn.MSELoss()
    history = []
    start = time.time()
    for epoch in range(recipe.epochs):
        model.train()
        if engine_stream:  # catalog rows -> positions in x_train
            order = np.array([position[r] for r in engine_epoch_order(seed, epoch, train)])
        else:
            order = rng.permutation(len(train))
        loss_sum = 0.0
        for b in range(steps):
            idx = torch.from_numpy(order[b * recipe.batch_size:(b + 1) * recipe.batch_size])
            x = x_train[idx]
            if recipe.zoom > 1:
                x = random_zoom(x, recipe.zoom, rng)
            if recipe.dihedral:
                if engine_stream:
                    x = torch.stack([dihedral(x[i], engine_dihedral(seed, epoch, train[int(p)]))
                                     for i, p in enumerate(idx)])
                elif per_batch_dihedral:
                    x = dihedral(x, int(rng.integers(8)))
                else:
                    ks = rng.integers(8, size=len(idx))
                    x = torch.stack([dihedral(x[i], int(k)) for i, k in enumerate(ks)])
            pred = model(x)
            loss = loss_fn(pred, y_train[idx])
            if recipe.loss == "rmse":
                loss = loss.sqrt()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            loss_sum += loss.item()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(x_valid[i:i + 64]) for i in range(0, len(valid), 64)])[:, 0].double().numpy()
        pred = pred * t_std[0] + t_mean[0]
        rmse = float(np.sqrt(np.mean((pred - y_valid) ** 2)))
        history.append((loss_sum / steps, rmse))
        log(f"  torch epoch {epoch + 1:>3}/{recipe.epochs} train_loss {loss_sum / steps:.4f} val_rmse {rmse:.4f}")
    return history, time.time() - start, Predictor(model, mean, std, t_mean[0], t_std[0])


class Predictor:
    """A trained model with the engine's normalisation: the first target's
    predictions (views x images) for uint8 images, the plain view or the 8
    dihedral views (test-time augmentation)."""

    def __init__(self, model, mean, std, t_mean, t_std):
        self.model, self.mean, self.std, self.t_mean, self.t_std = model.eval(), mean, std, t_mean, t_std

    def __call__(self, images_u8, tta):
        x = to_input(images_u8, self.mean, self.std)
        views = range(8) if tta == "dihedral" else [0]
        with torch.no_grad():
            preds = torch.stack([torch.cat([self.model(dihedral(x[i:i + 64], k)) for i in range(0, len(x), 64)])[:, 0]
                                 for k in views]).double().numpy()
        return preds * self.t_std + self.t_mean


# ---------------------------------------------------------------- orchestration
def engine_train(binary, config, seed, run_dir, sets, threads):
    """Runs gcnn train into run_dir unless a finished run is there; returns
    (per-epoch (train_loss, val_rmse), seconds)."""
    timing = run_dir / "compare_seconds.txt"
    if not timing.is_file():  # an unfinished engine run is redone; PyTorch's finished ones in its folder stay
        kept = {p.name: p.read_bytes() for p in run_dir.glob("torch-*.json")}
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        for name, content in kept.items():
            (run_dir / name).write_bytes(content)
        cmd = [str(binary), "train", "--config", str(config)]
        for s in [f"seed={seed}", f"data.split_seed={seed}", f"name={run_dir.name}",
                  f"runs_dir={run_dir.parent}"] + sets:
            cmd += ["--set", s]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        start = time.time()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
        timing.write_text(f"{time.time() - start:.1f}\n")
    with open(run_dir / "metrics.csv") as f:
        history = [(float(r["train_loss"]), float(r["val_rmse"])) for r in csv.DictReader(f)]
    return history, float(timing.read_text())


def wait_for_split(run_dir, timeout=600):
    """The first engine run of a seed writes split.csv before its first epoch."""
    deadline = time.time() + timeout
    while not (run_dir / "split.csv").is_file() or not (run_dir / "config.yaml").is_file():
        if time.time() > deadline:
            raise RuntimeError(f"{run_dir}: no split.csv after {timeout} s")
        time.sleep(2)


def export_torch_init(config, seed, path):
    """The initial body weights PyTorch draws for this seed, for the engine's
    model.init_weights (--paired: both engines start from the same weights)."""
    sys.path.insert(0, str(ROOT / "tests/fixtures/pytorch_step"))
    from make_fixture import write_safetensors
    torch.manual_seed(seed)
    model = make_model(Recipe(config), "zero-fc")
    write_safetensors(path, {k: v for k, v in model.state_dict().items() if not k.startswith("fc.")})


def torch_job(run_dir, seed, variant, threads, engine_stream):
    """PyTorch on an engine run's recipe and split (in a child process, so
    several train at once); returns (history, seconds), cached in run_dir."""
    label, init, per_batch = variant
    cache = run_dir / f"torch-{label}.json"
    if not cache.is_file():
        wait_for_split(run_dir)
        cmd = [sys.executable, __file__, "torch-train", "--run", str(run_dir), "--seed", str(seed),
               "--threads", str(threads), "--torch-init", init, "--out", str(cache)]
        if per_batch:
            cmd.append("--per-batch-dihedral")
        if engine_stream:
            cmd.append("--engine-stream")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="passive")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
    data = json.loads(cache.read_text())
    return [tuple(h) for h in data["history"]], data["seconds"]


def onednn_isa():
    """The ISA oneDNN dispatches to here (PyTorch's oneDNN; the engine's reports the same CPU)."""
    env = dict(os.environ, ONEDNN_VERBOSE="1", DNNL_VERBOSE="1")
    proc = subprocess.run([sys.executable, "-c",
                           "import torch; torch.nn.functional.conv2d(torch.ones(8, 64, 32, 32), torch.ones(64, 64, 3, 3))"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in proc.stdout.splitlines():
        if ",info,cpu,isa:" in line:
            return "oneDNN ISA: " + line.split("isa:", 1)[1].strip()
    return "oneDNN ISA: not reported"


def parse_engines(specs):
    """--gcnn LABEL=PATH[,key=value...]: a binary and its extra --set overrides."""
    out = []
    for spec in specs or [f"gcnn={ROOT / 'build/gcnn'}"]:
        label, _, rest = spec.partition("=")
        path, *sets = rest.split(",")
        if not label or not Path(path).is_file():
            sys.exit(f"--gcnn {spec}: expected LABEL=PATH[,key=value...] naming an existing binary")
        out.append((label, Path(path), sets))
    return out


def parse_torch_variants(specs):
    """--torch LABEL=INIT[,per-batch]: INIT torchvision|zero-fc."""
    out = []
    for spec in specs or ["PyTorch=zero-fc"]:
        label, _, rest = spec.partition("=")
        init, *flags = rest.split(",")
        if not label or init not in ("torchvision", "zero-fc") or any(f != "per-batch" for f in flags):
            sys.exit(f"--torch {spec}: expected LABEL=torchvision|zero-fc[,per-batch]")
        out.append((label, init, "per-batch" in flags))
    return out


def table_header(first, labels):
    return f"| {first} | " + " | ".join(labels) + " |\n" + "|---" * (len(labels) + 1) + "|"


def cmd_accuracy(args):
    seeds = [int(s) for s in args.seeds.split(",")]
    engines, variants = parse_engines(args.gcnn), parse_torch_variants(args.torch)
    if args.paired and any(init != "zero-fc" for _, init, _ in variants):
        sys.exit("--paired: PyTorch starts from the weights the engines load, with the final layer zeroed (zero-fc)")
    runs_dir = Path(args.runs_dir).resolve()
    runs_dir.mkdir(parents=True, exist_ok=True)
    labels = [e[0] for e in engines] + [v[0] for v in variants]
    print(f"# accuracy: {args.config}, seeds {seeds}, {args.jobs} jobs of {args.threads} threads; {onednn_isa()}",
          flush=True)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for seed in seeds:  # a seed's jobs together, so its table comes early
            first_run = runs_dir / f"{args.name}-{engines[0][0]}-s{seed}"
            paired_sets = []
            if args.paired:
                init = runs_dir / f"{args.name}-torch-init-s{seed}.safetensors"
                if not init.is_file():
                    export_torch_init(args.config, seed, init)
                paired_sets = [f"model.init_weights={init}", "model.head.zero_init=true"]
            for label, binary, sets in engines:
                run_dir = runs_dir / f"{args.name}-{label}-s{seed}"
                jobs[label, seed] = pool.submit(engine_train, binary, args.config, seed, run_dir,
                                                args.set + paired_sets + sets, args.threads)
            for variant in variants:
                jobs[variant[0], seed] = pool.submit(torch_job, first_run, seed, variant, args.threads, args.paired)
        finals = {label: [] for label in labels}
        for seed in seeds:
            hist = {label: jobs[label, seed].result() for label in labels}
            print(f"\nseed {seed}: validation RMSE per epoch")
            print(table_header("epoch", labels))
            for e in range(max(len(h[0]) for h in hist.values())):
                cells = [f"{hist[l][0][e][1]:.4f}" if e < len(hist[l][0]) else "" for l in labels]
                print(f"| {e + 1} | " + " | ".join(cells) + " |")
            print("seconds: " + ", ".join(f"{l} {hist[l][1]:.0f}" for l in labels), flush=True)
            for label in labels:
                finals[label].append(hist[label][0][-1][1])
    print("\nfinal validation RMSE")
    print(table_header("seed", labels))
    for i, seed in enumerate(seeds):
        print(f"| {seed} | " + " | ".join(f"{finals[l][i]:.4f}" for l in labels) + " |")
    sd = (lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)
    print("| mean ± sd | " + " | ".join(f"{statistics.mean(finals[l]):.4f} ± {sd(finals[l]):.4f}" for l in labels)
          + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": str(args.config), "seeds": seeds, "final_val_rmse": finals}, f, indent=1)


def cmd_torch_train(args):
    recipe = Recipe(Path(args.run) / "config.yaml")
    if recipe.init_weights and not args.engine_stream:
        sys.exit(f"{args.run}: the engine run started from {recipe.init_weights}; PyTorch reproduces that only "
                 "in --paired comparisons")
    seed = recipe.seed if args.seed is None else args.seed
    history, seconds, predictor = torch_train(args.run, recipe, seed, args.threads, args.torch_init, args.per_batch_dihedral,
                                      args.engine_stream, init_from=args.init_from)
    print(f"final val_rmse {history[-1][1]:.4f} ({seconds:.0f} s)")
    if args.views:  # the trained model's views of the held-out rows and of --test-catalog
        images, _, _, valid, _ = load_split(args.run, recipe)
        ids, _ = read_catalog(args.test_catalog, recipe.id_column, recipe.targets[0])
        test = load_images(ids, recipe)
        views = {f"{part}_{tta}": predictor(x, tta) for part, x in (("valid", images[valid]), ("test", test))
                 for tta in TTAS}
        tmp = Path(args.views + ".tmp.npz")
        np.savez(tmp, **views)
        tmp.replace(args.views)
    if args.out:
        tmp = Path(args.out + ".tmp")
        tmp.write_text(json.dumps({"history": history, "seconds": seconds}))
        tmp.replace(args.out)


# ---------------------------------------------------------------- cross-validation
TTAS = ("none", "dihedral")


def read_catalog(path, id_column, target):
    with open(path) as f:
        rows = [(r[id_column], float(r[target])) for r in csv.DictReader(f)]
    return [r[0] for r in rows], np.array([r[1] for r in rows])


def write_predictions(path, id_column, target, ids, truth, views):
    """A predictions CSV as `gcnn predict` writes it (mean and population std over views)."""
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([id_column, target, f"pred_{target}", f"std_{target}"])
        for ident, t, m, sd in zip(ids, truth, views.mean(axis=0), views.std(axis=0)):
            w.writerow([ident, f"{t:.6f}", f"{m:.6f}", f"{sd:.6f}"])
    tmp.replace(path)


def held_out(fold_dir, recipe):
    """Ids and true values of the fold's held-out rows, in catalog order."""
    with open(fold_dir / "split.csv") as f:
        valid = {r["id"] for r in csv.DictReader(f) if r["split"] == "valid"}
    ids, truth = read_catalog(recipe.catalog, recipe.id_column, recipe.targets[0])
    keep = [i for i, ident in enumerate(ids) if ident in valid]
    return [ids[i] for i in keep], truth[keep]


def held_out_catalog(fold_dir, recipe):
    """The fold's held-out rows as a catalog (valid.csv in the run folder), for `gcnn predict`."""
    ids, truth = held_out(fold_dir, recipe)
    path = fold_dir / "valid.csv"
    write_predictions(path, recipe.id_column, recipe.targets[0], ids, truth, np.zeros((1, len(ids))))
    return path


def run_checked(cmd, env=None):
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
    return proc.stdout


def engine_cv_predictions(args, folds, test_catalog):
    """gcnn cv, then gcnn predict (last checkpoints) on each fold's held-out part and on the test
    catalog, plain and with dihedral TTA, and the folds' ensemble on the test catalog."""
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    runs = Path(args.runs_dir).resolve()
    if not (runs / f"{args.name}-cv.json").is_file():
        cmd = [args.gcnn, "cv", "--config", args.config, "--folds", args.folds, "--no-progress", "--resume",
               "--set", f"name={args.name}", "--set", f"runs_dir={runs}"]
        for s in args.set:
            cmd += ["--set", s]
        run_checked(cmd, env)
    images = Recipe(folds[0] / "config.yaml", reproduce=False).images
    out = {}
    for tta in TTAS:
        for i, fold in enumerate(folds):
            valid = held_out_catalog(fold, Recipe(fold / "config.yaml", reproduce=False))
            for part, catalog in (("valid", valid), ("test", test_catalog)):
                path = fold / f"engine-{part}-{tta}.csv"
                if not path.is_file():
                    run_checked([args.gcnn, "predict", "--checkpoint", fold / "last.safetensors", "--catalog", catalog,
                                 "--images", images, "--tta", tta, "--device", "cpu", "--out", path], env)
                out[part, tta, i] = path
        path = runs / f"{args.name}-engine-ensemble-test-{tta}.csv"
        if not path.is_file():
            members = [a for fold in folds for a in ("--checkpoint", fold / "last.safetensors")]
            run_checked([args.gcnn, "predict", *members, "--catalog", test_catalog, "--images", images, "--tta", tta,
                         "--device", "cpu", "--out", path], env)
        out["ensemble", tta] = path
    return out


def torch_cv_predictions(args, folds, test_catalog):
    """PyTorch on each fold's recipe and split (a child process per fold, views cached in
    torch-views.npz), then the same predictions CSVs as the engine's."""
    out, members = {}, {tta: [] for tta in TTAS}
    for i, fold in enumerate(folds):
        wait_for_split(fold, timeout=24 * 3600)
        cache = fold / "torch-views.npz"
        if not cache.is_file():
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")
            run_checked([sys.executable, __file__, "torch-train", "--run", fold, "--threads", args.threads,
                         "--views", cache, "--test-catalog", test_catalog], env)
        views = np.load(cache)
        recipe = Recipe(fold / "config.yaml")
        target = recipe.targets[0]
        for tta in TTAS:
            for part in ("valid", "test"):
                path = fold / f"torch-{part}-{tta}.csv"
                ids, truth = (held_out(fold, recipe) if part == "valid"
                              else read_catalog(test_catalog, recipe.id_column, target))
                v = views[f"{part}_{tta}"]
                write_predictions(path, recipe.id_column, target, ids, truth, v)
                out[part, tta, i] = path
                if part == "test":
                    members[tta].append(v)
    runs = Path(args.runs_dir).resolve()
    for tta in TTAS:
        recipe = Recipe(folds[0] / "config.yaml")
        ids, truth = read_catalog(test_catalog, recipe.id_column, recipe.targets[0])
        path = runs / f"{args.name}-torch-ensemble-test-{tta}.csv"
        write_predictions(path, recipe.id_column, recipe.targets[0], ids, truth, np.concatenate(members[tta]))
        out["ensemble", tta] = path
    return out


def evaluate(gcnn, path):
    """RMSE and NMAD of the first target, by `gcnn evaluate` (the same definitions for both engines)."""
    json_path = Path(str(path) + ".json")
    run_checked([gcnn, "evaluate", "--predictions", path, "--bootstrap", "0", "--json", json_path])
    m = json.loads(json_path.read_text())["targets"][0]
    return m["rmse"], m["nmad"]


def cmd_cv(args):
    """k-fold CV of one recipe in both engines on the same folds, each fold's model also predicting a
    held-out test catalog, plain and with TTA, and the k folds' ensemble on that catalog."""
    runs = Path(args.runs_dir).resolve()
    runs.mkdir(parents=True, exist_ok=True)
    test_catalog = Path(args.test_catalog).resolve()
    folds = [runs / f"{args.name}-fold{i}" for i in range(args.folds)]
    print(f"# cv: {args.config}, {args.folds} folds, test catalog {test_catalog}, {args.threads} threads per job; "
          f"{onednn_isa()}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # PyTorch trains each fold as soon as its split exists
        engine = pool.submit(engine_cv_predictions, args, folds, test_catalog)
        if args.jobs < 2 or args.engine_only:
            engine.result()
        sides = {"gcnn": engine}
        if not args.engine_only:
            sides["PyTorch"] = pool.submit(torch_cv_predictions, args, folds, test_catalog)
        sides = {side: future.result() for side, future in sides.items()}
    rows, results = [], {}
    for label, key in ([(f"fold {part}, TTA {tta}", [(part, tta, i) for i in range(args.folds)])
                        for part in ("valid", "test") for tta in TTAS]
                       + [(f"{args.folds}-fold ensemble on test, TTA {tta}", [("ensemble", tta)]) for tta in TTAS]):
        cells = []
        for side, paths in sides.items():
            metrics = np.array([evaluate(args.gcnn, paths[k]) for k in key])
            results.setdefault(side, {})[label] = metrics.tolist()
            sd = metrics.std(axis=0, ddof=1) if len(metrics) > 1 else np.zeros(2)
            cells += [f"{metrics[:, j].mean():.4f}" + (f" ± {sd[j]:.4f}" if len(metrics) > 1 else "") for j in (0, 1)]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    print(table_header("predictions", [f"{side} {m}" for side in sides for m in ("RMSE", "NMAD")]))
    print("\n".join(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": str(args.config), "folds": args.folds, "test_catalog": str(test_catalog),
                       "metrics": results}, f, indent=1)


# ---------------------------------------------------------------- speed
def speed_engine_run(args):
    """One `gcnn bench train|infer` run; returns its JSON report."""
    out = Path(args.runs_dir) / f"speed-{args.model}-{args.mode}-gcnn.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(args.gcnn), "bench", args.mode, "--model", args.model, "--batch", str(args.batch),
           "--size", str(args.size), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--threads", str(args.threads), "--device", args.device, "--json", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
    return json.loads(out.read_text())


def speed_torch_run(args):
    """One PyTorch run of benchmarks/torch_speed.py in its own process; returns its JSON."""
    cmd = [sys.executable, str(ROOT / "benchmarks/torch_speed.py"), "--model", args.model, "--mode", args.mode,
           "--batch", str(args.batch), "--size", str(args.size), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--threads", str(args.threads), "--device", args.device,
           "--infer", args.torch_infer]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="passive")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cmd_speed(args):
    if not Path(args.gcnn).is_file():
        sys.exit(f"--gcnn {args.gcnn}: no such binary (build it with `cmake --build build --target gcnn_app`)")
    for name in ("batch", "size", "steps", "threads", "repeats"):
        if getattr(args, name) < 1:
            sys.exit(f"--{name} {getattr(args, name)}: must be at least 1")
    isa = onednn_isa() if args.device == "cpu" else "GPU run"
    print(f"# speed: {args.model} {args.mode}, batch {args.batch}, {args.size} px, fp32, {args.threads} threads, "
          f"{args.device}, {args.steps} timed steps after {args.warmup} per run; {isa}; "
          f"host load average {os.getloadavg()[0]:.2f}", flush=True)
    runs = {"gcnn": [], "PyTorch": []}
    print(table_header("repeat", ["gcnn img/s", "PyTorch img/s", "ratio"]), flush=True)
    for r in range(args.repeats):
        # Alternate which engine goes first, so a drift in the machine's load hits both alike.
        order = [("gcnn", speed_engine_run), ("PyTorch", speed_torch_run)]
        for label, run in order if r % 2 == 0 else order[::-1]:
            runs[label].append(run(args))
        g, t = runs["gcnn"][-1]["images_per_second"], runs["PyTorch"][-1]["images_per_second"]
        print(f"| {r + 1} | {g:.1f} | {t:.1f} | {g / t:.2f} |", flush=True)
    med = {label: statistics.median(run["images_per_second"] for run in runs[label]) for label in runs}
    rss = {label: max(run["peak_host_rss_bytes"] for run in runs[label]) / 2**20 for label in runs}
    dev = {label: max(run["peak_device_bytes"] for run in runs[label]) / 2**20 for label in runs}
    print(f"| median | {med['gcnn']:.1f} | {med['PyTorch']:.1f} | {med['gcnn'] / med['PyTorch']:.2f} |")
    memory = f"peak host RSS: gcnn {rss['gcnn']:.0f} MiB, PyTorch {rss['PyTorch']:.0f} MiB"
    if args.device != "cpu":
        memory += f"; peak device memory: gcnn {dev['gcnn']:.0f} MiB, PyTorch {dev['PyTorch']:.0f} MiB"
    print(memory + f" ({runs['PyTorch'][0]['engine']})", flush=True)
    if args.mode == "infer":
        print(f"gcnn forward: {runs['gcnn'][0].get('inference_path', 'layer by layer')}", flush=True)
    if args.json:
        tmp = Path(args.json + ".tmp")
        tmp.write_text(json.dumps({"model": args.model, "mode": args.mode, "batch": args.batch, "size": args.size,
                                   "threads": args.threads, "device": args.device, "isa": isa,
                                   "median_images_per_second": med, "ratio": med["gcnn"] / med["PyTorch"],
                                   "peak_host_rss_mib": rss, "peak_device_mib": dev, "runs": runs}, indent=1))
        tmp.replace(args.json)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accuracy", help="engines and PyTorch on the same splits and recipe, several seeds")
    a.add_argument("--config", default=str(ROOT / "configs/same-recipe.yaml"))
    a.add_argument("--seeds", default="1,2,3,4,5")
    a.add_argument("--gcnn", action="append",
                   help="LABEL=PATH[,key=value...]: a gcnn binary and extra --set overrides (repeatable; "
                        "default gcnn=build/gcnn); the first one's run gives PyTorch its split")
    a.add_argument("--torch", action="append",
                   help="LABEL=torchvision|zero-fc[,per-batch]: a PyTorch variant (repeatable; default "
                        "PyTorch=zero-fc): torchvision's initialisation or the final linear layer zeroed, and one "
                        "dihedral transform per batch instead of per image")
    a.add_argument("--paired", action="store_true",
                   help="both engines start from PyTorch's initial weights for the seed (final layer zeroed) and "
                        "PyTorch trains on the engine's batches and dihedral transforms: only the arithmetic differs")
    a.add_argument("--jobs", type=int, default=1, help="trainings at once")
    a.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of each training")
    a.add_argument("--runs-dir", default="runs/compare", help="finished runs here are reused, not retrained")
    a.add_argument("--name", default="same-recipe")
    a.add_argument("--set", action="append", default=[], help="--set overrides for every engine")
    a.add_argument("--json", help="write the final RMSE per seed here")
    a.set_defaults(func=cmd_accuracy)
    t = sub.add_parser("torch-train", help="the PyTorch side of one engine run folder")
    t.add_argument("--run", required=True)
    t.add_argument("--seed", type=int)
    t.add_argument("--threads", type=int, default=os.cpu_count())
    t.add_argument("--torch-init", choices=["torchvision", "zero-fc"], default="zero-fc")
    t.add_argument("--per-batch-dihedral", action="store_true")
    t.add_argument("--engine-stream", action="store_true", help="the engine's batches and dihedral transforms")
    t.add_argument("--init-from", help="start from these weights (safetensors, torchvision names), e.g. the engine's "
                                       "initial weights")
    t.add_argument("--out", help="write the history as JSON here")
    t.add_argument("--views", help="write the trained model's predictions (plain and 8 dihedral views) of the "
                                   "held-out rows and of --test-catalog here (.npz)")
    t.add_argument("--test-catalog", help="catalog of held-out test galaxies for --views")
    t.set_defaults(func=cmd_torch_train)
    c = sub.add_parser("cv", help="k-fold CV of one recipe in gcnn and PyTorch on the same folds, with TTA, "
                                  "a held-out test catalog and the folds' ensemble")
    c.add_argument("--config", required=True)
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--test-catalog", required=True, help="galaxies outside the config's catalog, same images folder")
    c.add_argument("--gcnn", default=str(ROOT / "build/gcnn"), help="the gcnn binary")
    c.add_argument("--jobs", type=int, default=2, help="1: PyTorch after the engine; 2: side by side")
    c.add_argument("--threads", type=int, default=1, help="threads of each training")
    c.add_argument("--runs-dir", default="runs/compare", help="finished runs and predictions here are reused")
    c.add_argument("--name", default="cv")
    c.add_argument("--set", action="append", default=[], help="--set overrides for the engine")
    c.add_argument("--engine-only", action="store_true", help="no PyTorch side (for recipes it cannot reproduce)")
    c.add_argument("--json", help="write every metric here")
    c.set_defaults(func=cmd_cv)
    s = sub.add_parser("speed", help="images/s of gcnn bench train|infer and PyTorch, alternating runs")
    s.add_argument("--model", choices=["resnet18", "resnet34", "resnet50"], default="resnet18")
    s.add_argument("--mode", choices=["train", "infer"], default="train")
    s.add_argument("--batch", type=int, default=32)
    s.add_argument("--size", type=int, default=128)
    s.add_argument("--threads", type=int, default=os.cpu_count())
    s.add_argument("--repeats", type=int, default=3, help="runs of each engine, alternating")
    s.add_argument("--steps", type=int, default=10, help="timed steps per run")
    s.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    s.add_argument("--device", default="cpu", help="cpu or cuda[:N], for both engines")
    s.add_argument("--torch-infer", choices=["eager", "frozen"], default="eager",
                   help="PyTorch's inference: the eager module, or torch.jit.optimize_for_inference of it")
    s.add_argument("--gcnn", default=str(ROOT / "build/gcnn"), help="the gcnn binary")
    s.add_argument("--runs-dir", default="runs/compare", help="where the engine's JSON reports go")
    s.add_argument("--json", help="write both engines' runs and the ratio here")
    s.set_defaults(func=cmd_speed)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
