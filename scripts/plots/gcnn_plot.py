#!/usr/bin/python3
"""Figures of galaxy-cnns runs and predictions, drawn with matplotlib (`gcnn plot` runs this).

  gcnn_plot.py --run RUN_DIR [--out DIR] [--only curves]
  gcnn_plot.py --predictions P.csv [--out DIR]

From a run folder: training_curves.png (metrics.csv: train loss and validation
RMSE/NMAD per epoch, learning rate and momentum at the end of each epoch),
lr_find.png when lr_find.csv exists (smoothed loss, the suggestion marked),
sweep.png when sweep.csv exists (a `gcnn sweep` folder: validation RMSE and
NMAD against pixels per side on a log axis, fold std as error bars, the paper's
test values beside), and the prediction figures when predictions.csv exists. From a predictions CSV, per
target with true values: pred_vs_true_<target>.png (2-D histogram with a log
colour scale, the 1:1 line, mean +- std of the prediction per bin of the true
value, marginal histograms) and residuals_<target>.png. Figures are RGB PNGs of
a fixed pixel size (written atomically); the paths written are printed one per
line. Needs Debian's python3-matplotlib and python3-numpy.
"""
import argparse
import csv
import math
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FuncFormatter
    from PIL import Image
except ImportError as e:  # gcnn checks for this before running the script
    sys.exit(f"gcnn_plot.py: {e.name} is not installed (Debian: apt-get install python3-matplotlib python3-numpy)")

DPI = 100
SIZES = {  # inches at DPI: the PNGs' pixel sizes are 100x these
    "pred_vs_true": (7, 7),
    "residuals": (7, 4.5),
    "training_curves": (10, 7),
    "lr_find": (7, 4.5),
    "sweep": (11, 4.5),
    "mass_metallicity": (11, 4.5),
}
METALLICITY, MASS = "oh_p50", "lgm_tot_p50"  # MPA-JHU catalog columns: 12+log(O/H), log10 stellar mass
# Wu & Boada 2019, test set of 20,466 SDSS galaxies, 128 px cutouts degraded to
# N px and grown back: pixels -> (RMSE, NMAD) of 12+log(O/H).
PAPER_SWEEP = {128: (0.0851, 0.0668), 64: (0.0893, 0.0703), 32: (0.0928, 0.0715), 16: (0.1053, 0.0815),
               8: (0.1125, 0.0870), 4: (0.1290, 0.1022), 2: (0.1587, 0.1198), 1: (0.1610, 0.1251)}
NMAD_SCALE = 1.4826
BINS = 10


def fail(message):
    sys.exit(f"gcnn_plot.py: {message}")


def save(fig, path):
    """Writes the figure as an RGB PNG of exactly its size in pixels, via a temporary file."""
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    tmp = f"{path}.tmp{os.getpid()}"
    Image.fromarray(rgb).save(tmp, format="PNG")
    os.replace(tmp, path)
    plt.close(fig)
    print(path)


def read_table(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if not rows:
        fail(f"{path}: empty file")
    return rows[0], rows[1:]


def number(path, line, name, text):
    try:
        value = float(text)
    except ValueError:
        fail(f"{path}:{line}: column '{name}': '{text}' is not a number")
    if not math.isfinite(value):
        fail(f"{path}:{line}: column '{name}': '{text}' is not finite")
    return value


def column(path, header, rows, name, blank_ok=False):
    if name not in header:
        fail(f"{path}: no column '{name}' (columns: {', '.join(header)})")
    i = header.index(name)
    values = []
    for line, row in enumerate(rows, start=2):
        if i >= len(row):
            fail(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
        if row[i] == "" and blank_ok:
            values.append(float("nan"))
        else:
            values.append(number(path, line, name, row[i]))
    return np.array(values, dtype=float)


def nmad(residuals):
    return NMAD_SCALE * np.median(np.abs(residuals - np.median(residuals)))


def minor_count_label(value, _):
    """Labels 2x and 5x a power of ten on a log colour bar, leaving the other minor ticks bare."""
    leading = round(value / 10 ** math.floor(math.log10(value)))
    return f"{value:g}" if leading in (2, 5) else ""


def plot_pred_vs_true(target, truth, pred, out):
    residuals = pred - truth
    lo = min(truth.min(), pred.min())
    hi = max(truth.max(), pred.max())
    pad = 0.05 * (hi - lo if hi > lo else 1.0)
    lo, hi = lo - pad, hi + pad
    fig = plt.figure(figsize=SIZES["pred_vs_true"], dpi=DPI)
    grid = fig.add_gridspec(2, 3, width_ratios=(4, 1, 0.2), height_ratios=(1, 4), left=0.11, right=0.87,
                            bottom=0.09, top=0.95, wspace=0.05, hspace=0.05)
    ax = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=ax)
    side = fig.add_subplot(grid[1, 1], sharey=ax)
    bar = fig.add_subplot(grid[1, 2])
    edges = np.linspace(lo, hi, max(10, min(60, int(np.sqrt(len(truth)) * 2))))
    counts, _, _, image = ax.hist2d(truth, pred, bins=[edges, edges], norm=LogNorm(), cmap="viridis", cmin=1)
    colours = fig.colorbar(image, cax=bar, label="galaxies per cell")
    colours.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    colours.ax.yaxis.set_minor_formatter(FuncFormatter(minor_count_label))
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="1:1")
    bin_edges = np.linspace(truth.min(), truth.max(), BINS + 1)
    which = np.clip(np.digitize(truth, bin_edges) - 1, 0, BINS - 1)
    centres, means, stds = [], [], []
    for b in range(BINS):
        sel = which == b
        if sel.any():
            centres.append(truth[sel].mean())
            means.append(pred[sel].mean())
            stds.append(pred[sel].std())
    ax.errorbar(centres, means, yerr=stds, fmt="o", color="crimson", ms=4, capsize=3, lw=1.2,
                label="binned mean ± std")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.legend(loc="upper left", fontsize=9)
    rmse = math.sqrt(float(np.mean(residuals ** 2)))
    ax.text(0.97, 0.03, f"N = {len(truth)}\nRMSE = {rmse:.4f}\nNMAD = {nmad(residuals):.4f}",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=10,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8))
    top.hist(truth, bins=edges, color="gray")
    side.hist(pred, bins=edges, color="gray", orientation="horizontal")
    top.set_ylabel("N")
    side.set_xlabel("N")
    top.tick_params(labelbottom=False)
    side.tick_params(labelleft=False)
    path = os.path.join(out, f"pred_vs_true_{target}.png")
    save(fig, path)


def plot_residuals(target, truth, pred, out):
    residuals = pred - truth
    spread = nmad(residuals)
    fig, ax = plt.subplots(figsize=SIZES["residuals"], dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.92)
    ax.hist(residuals, bins=max(10, min(60, int(np.sqrt(len(residuals)) * 2))), color="steelblue")
    ax.axvline(0, color="black", lw=1)
    ax.axvline(np.median(residuals), color="crimson", lw=1.2, label=f"median {np.median(residuals):+.4f}")
    for sign in (-1, 1):
        ax.axvline(sign * 3 * spread, color="darkorange", ls="--", lw=1, label="±3 NMAD" if sign > 0 else None)
        ax.axvline(sign * 0.3, color="gray", ls=":", lw=1, label="±0.3 dex" if sign > 0 else None)
    ax.set_xlabel(f"predicted − true {target}")
    ax.set_ylabel("galaxies")
    ax.set_title(f"{target}: residuals (N = {len(residuals)}, NMAD = {spread:.4f})")
    ax.legend(fontsize=9)
    save(fig, os.path.join(out, f"residuals_{target}.png"))


def binned_medians(x, y, edges):
    """Centres (mean x) and medians of y in the bins of x holding at least 3 galaxies."""
    which = np.digitize(x, edges) - 1
    centres, medians = [], []
    for b in range(len(edges) - 1):
        sel = which == b
        if sel.sum() >= 3:
            centres.append(x[sel].mean())
            medians.append(np.median(y[sel]))
    return np.array(centres), np.array(medians)


def plot_mass_metallicity(mass, oh, pred_mass, pred_oh, out):
    """The mass-metallicity relation: the catalog's (true mass, true 12+log(O/H)) beside the one
    predicted from images alone, on the same axes, each with its binned median; the catalog's median
    is repeated on the predicted panel for comparison."""
    xs, ys = np.concatenate([mass, pred_mass]), np.concatenate([oh, pred_oh])
    pad_x, pad_y = 0.05 * max(np.ptp(xs), 1e-6), 0.05 * max(np.ptp(ys), 1e-6)
    x_edges = np.linspace(xs.min() - pad_x, xs.max() + pad_x, 31)
    y_edges = np.linspace(ys.min() - pad_y, ys.max() + pad_y, 31)
    median_edges = np.linspace(xs.min(), xs.max() + 1e-9, BINS + 1)
    true_line = binned_medians(mass, oh, median_edges)
    fig, axes = plt.subplots(1, 2, figsize=SIZES["mass_metallicity"], dpi=DPI, sharex=True, sharey=True)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.9, wspace=0.05)
    panels = ((axes[0], mass, oh, "catalog (spectra)"), (axes[1], pred_mass, pred_oh, "predicted from images"))
    for ax, x, y, title in panels:
        ax.hist2d(x, y, bins=[x_edges, y_edges], norm=LogNorm(), cmap="viridis", cmin=1)
        ax.plot(*true_line, color="crimson", lw=1.8, marker="o", ms=4, label="catalog median")
        if ax is axes[1]:
            ax.plot(*binned_medians(x, y, median_edges), color="orange", lw=1.8, marker="s", ms=4,
                    label="predicted median")
        ax.set_title(f"{title} (N = {len(x)})")
        ax.set_xlabel("log10 stellar mass / Msun")
        ax.legend(loc="lower right", fontsize=9)
    axes[0].set_ylabel("12 + log(O/H)")
    fig.suptitle("mass-metallicity relation")
    save(fig, os.path.join(out, "mass_metallicity.png"))


def plot_predictions(path, out):
    header, rows = read_table(path)
    targets = [h[len("pred_"):] for h in header if h.startswith("pred_")]
    if not targets:
        fail(f"{path}: no pred_<target> column (columns: {', '.join(header)})")
    drawn = 0
    for target in targets:
        if target not in header:
            print(f"{path}: no true values of {target}: nothing to plot against", file=sys.stderr)
            continue
        truth = column(path, header, rows, target, blank_ok=True)
        pred = column(path, header, rows, "pred_" + target)
        known = np.isfinite(truth)
        if known.sum() < 2:
            print(f"{path}: fewer than 2 true values of {target}: nothing to plot", file=sys.stderr)
            continue
        plot_pred_vs_true(target, truth[known], pred[known], out)
        plot_residuals(target, truth[known], pred[known], out)
        drawn += 1
    if drawn == 0:
        fail(f"{path}: no target with true values to plot")
    if {METALLICITY, MASS} <= set(targets) and {METALLICITY, MASS} <= set(header):
        truth = [column(path, header, rows, t, blank_ok=True) for t in (MASS, METALLICITY)]
        pred = [column(path, header, rows, "pred_" + t) for t in (MASS, METALLICITY)]
        known = np.isfinite(truth[0]) & np.isfinite(truth[1])
        if known.sum() >= 3:
            plot_mass_metallicity(truth[0][known], truth[1][known], pred[0][known], pred[1][known], out)


def plot_training_curves(run, out):
    path = os.path.join(run, "metrics.csv")
    header, rows = read_table(path)
    if not rows:
        fail(f"{path}: no finished epoch yet")
    epoch = column(path, header, rows, "epoch")
    fig, axes = plt.subplots(2, 2, figsize=SIZES["training_curves"], dpi=DPI, sharex=True)
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.08, top=0.92, hspace=0.12, wspace=0.22)
    fig.suptitle(os.path.basename(os.path.normpath(run)))
    axes[0, 0].plot(epoch, column(path, header, rows, "train_loss"), "o-", ms=3)
    axes[0, 0].set_ylabel("training loss (epoch mean)")
    for name in [h for h in header if h.startswith("val_rmse") or h.startswith("val_nmad")]:
        axes[0, 1].plot(epoch, column(path, header, rows, name), "o-", ms=3, label=name)
    axes[0, 1].set_ylabel("validation metric")
    axes[0, 1].legend(fontsize=9)
    axes[1, 0].plot(epoch, column(path, header, rows, "lr"), "o-", ms=3)
    axes[1, 0].set_yscale("log")
    axes[1, 0].set_ylabel("learning rate (end of epoch)")
    axes[1, 1].plot(epoch, column(path, header, rows, "momentum"), "o-", ms=3)
    axes[1, 1].set_ylabel("momentum (end of epoch)")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    save(fig, os.path.join(out, "training_curves.png"))


def plot_lr_find(run, out):
    path = os.path.join(run, "lr_find.csv")
    header, rows = read_table(path)
    if len(rows) < 2:
        fail(f"{path}: fewer than 2 steps")
    lr = column(path, header, rows, "lr")
    loss = column(path, header, rows, "loss")
    smoothed = column(path, header, rows, "smoothed_loss")
    suggestion = lr[int(np.argmin(smoothed))] / 10  # the rule of train/lr_find.h's suggest_lr
    fig, ax = plt.subplots(figsize=SIZES["lr_find"], dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.92)
    ax.plot(lr, loss, color="lightgray", lw=1, label="loss")
    ax.plot(lr, smoothed, color="steelblue", lw=1.5, label="smoothed loss")
    ax.axvline(suggestion, color="crimson", ls="--", label=f"suggested lr {suggestion:.3g}")
    ax.set_xscale("log")
    low, high = np.percentile(smoothed, [0, 90])
    ax.set_ylim(low - 0.1 * (high - low), high + 0.3 * (high - low))
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate finder")
    ax.legend(fontsize=9)
    save(fig, os.path.join(out, "lr_find.png"))


def plot_sweep(run, out):
    path = os.path.join(run, "sweep.csv")
    header, rows = read_table(path)
    if not rows:
        fail(f"{path}: no size in the sweep")
    pixels = column(path, header, rows, "pixels")
    if (pixels < 1).any():
        fail(f"{path}: column 'pixels' must be at least 1")
    order = np.argsort(pixels)
    fig, axes = plt.subplots(1, 2, figsize=SIZES["sweep"], dpi=DPI)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.88, wspace=0.22)
    fig.suptitle(f"{os.path.basename(os.path.normpath(run))}: accuracy against image resolution")
    paper = sorted(PAPER_SWEEP)
    for ax, metric, label, paper_index in ((axes[0], "val_rmse", "RMSE", 0), (axes[1], "val_nmad", "NMAD", 1)):
        values = column(path, header, rows, metric)[order]
        std_name = metric + "_std"
        std = column(path, header, rows, std_name)[order] if std_name in header else None
        ax.errorbar(pixels[order], values, yerr=std, fmt="o-", color="steelblue", ms=5, capsize=3, lw=1.5,
                    label="this sweep (validation" + (", mean ± std over folds)" if std is not None else ")"))
        ax.plot(paper, [PAPER_SWEEP[p][paper_index] for p in paper], "s--", color="gray", ms=4, lw=1,
                label="Wu & Boada 2019 (test, 128 px base)")
        ax.set_xscale("log", base=2)
        ticks = sorted(set(paper) | set(int(p) for p in pixels))
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("image resolution (pixels per side)")
        ax.set_ylabel(f"{label} (first target)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    save(fig, os.path.join(out, "sweep.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="run folder (metrics.csv, lr_find.csv, predictions.csv)")
    source.add_argument("--predictions", help="predictions CSV written by gcnn predict")
    parser.add_argument("--out", help="folder for the PNGs (default: the run folder, or beside the CSV)")
    parser.add_argument("--only", choices=["curves"], help="only the training curves")
    args = parser.parse_args()
    if args.predictions:
        out = args.out or os.path.dirname(os.path.abspath(args.predictions))
        os.makedirs(out, exist_ok=True)
        plot_predictions(args.predictions, out)
        return
    if not os.path.isdir(args.run):
        fail(f"{args.run}: no such run folder")
    out = args.out or args.run
    os.makedirs(out, exist_ok=True)
    present = [f for f in ("metrics.csv", "lr_find.csv", "predictions.csv", "sweep.csv")
               if os.path.exists(os.path.join(args.run, f))]
    if not present or (args.only == "curves" and "metrics.csv" not in present):
        fail(f"{args.run}: nothing to plot (no metrics.csv, lr_find.csv, predictions.csv or sweep.csv)")
    if "metrics.csv" in present:
        plot_training_curves(args.run, out)
    if args.only == "curves":
        return
    if "lr_find.csv" in present:
        plot_lr_find(args.run, out)
    if "predictions.csv" in present:
        plot_predictions(os.path.join(args.run, "predictions.csv"), out)
    if "sweep.csv" in present:
        plot_sweep(args.run, out)


if __name__ == "__main__":
    main()
