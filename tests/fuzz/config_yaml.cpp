// Fuzz target: YAML experiment files with --set overrides (train/config
// parse_config). The input is the YAML text, then after each NUL byte one
// --set key.path=value. Invariants of a config that parses: its values are in
// the documented ranges, and its resolved tree (overrides applied, what
// config.yaml and checkpoints store) dumped as YAML parses again, without the
// overrides, to the same values and the same resolved tree.
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "data/synth.h"

#include "tests/fuzz/fuzz_support.h"
#include "train/config.h"

namespace gcnn::fuzz {
namespace {

using train::ExperimentConfig;

std::string dump(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

// Every parsed value, doubles to the last bit, for comparisons.
std::string describe(const ExperimentConfig& c) {
  const auto& d = c.data;
  std::string s = fmt::format("name={} seed={} device={} runs_dir={} log_every={} loss={} huber_delta={:a}\n", c.name,
                              c.seed, c.device, c.runs_dir.string(), c.log_every, c.loss, c.huber_delta);
  s += fmt::format("data: synthetic={} n={} size={} seed={} catalog={} images={} id={} targets={} image_size={} "
                   "degrade={}/{} val={:a} split_seed={} folds={} fold={} batch={} workers={} dihedral={} zoom={:a} "
                   "rotate={:a} normalize={}\n",
                   d.synthetic.enabled, d.synthetic.n, d.synthetic.size, d.synthetic.seed, d.catalog.string(),
                   d.images.string(), d.id_column, fmt::join(d.targets, "|"), d.image_size, d.degrade,
                   static_cast<int>(d.degrade_upsample), d.val_fraction, d.split_seed, d.folds, d.fold, d.batch_size,
                   d.workers, d.dihedral, d.zoom, d.rotate, d.normalize_targets);
  const auto& m = c.model;
  const auto head = [](const HeadOptions& h) {
    return fmt::format("{}/{}/{:a}/{:a}/{}", h.kind, h.hidden, h.dropout1, h.dropout2, h.zero_init);
  };
  s += fmt::format("model: {} depth={} width={} zero_init_residual={} head={} plain={} head={} layers={} init={}\n",
                   m.preset, m.resnet.depth, m.resnet.width, m.resnet.zero_init_residual, head(m.resnet.head),
                   fmt::join(m.plain.channels, "|"), head(m.plain.head), m.layers ? dump(m.layers) : "",
                   m.init_weights.string());
  const auto& o = c.optimizer;
  s += fmt::format("optimizer: {:a} {} {:a} {}\n", o.momentum, o.nesterov, o.weight_decay, o.decay_all);
  for (const auto& p : c.phases) {
    const auto& k = p.schedule;
    s += fmt::format("phase: epochs={} freeze={} train_bn={} body_lr_mult={:a} kind={} lr={:a} momentum={:a} "
                     "min_lr={:a} milestones={} gamma={:a} cycle={:a}/{:a} one_cycle={:a}/{:a}/{:a}/{:a}/{:a} "
                     "triangular={:a}/{:a} warmup={:a}\n",
                     p.epochs, p.freeze_body, p.train_bn, p.body_lr_mult, static_cast<int>(k.kind), k.lr, k.momentum,
                     k.min_lr, fmt::join(k.milestones, "|"), k.gamma, k.cycle_len, k.cycle_mult, k.pct_start,
                     k.div_factor, k.final_div, k.max_momentum, k.min_momentum, k.base_lr, k.half_cycle,
                     k.warmup_epochs);
  }
  return s;
}

void check_ranges(const ExperimentConfig& c) {
  const auto& d = c.data;
  FUZZ_REQUIRE(!c.name.empty() && c.name.find('/') == std::string::npos && c.name.find('\0') == std::string::npos,
               "name '{}'", c.name);
  FUZZ_REQUIRE(!c.phases.empty() && c.total_epochs() >= 1 && c.total_epochs() <= train::kMaxEpochs, "{} epochs",
               c.total_epochs());
  for (const auto& p : c.phases)
    FUZZ_REQUIRE(p.epochs >= 1 && p.schedule.lr > 0 && std::isfinite(p.schedule.lr), "phase of {} epochs, lr {}",
                 p.epochs, p.schedule.lr);
  FUZZ_REQUIRE(d.image_size >= 8 && d.image_size <= 1024 && d.batch_size >= 2, "image_size {}, batch_size {}",
               d.image_size, d.batch_size);
  FUZZ_REQUIRE(d.degrade >= 0 && d.degrade <= d.image_size, "degrade {} at image_size {}", d.degrade, d.image_size);
  FUZZ_REQUIRE(d.val_fraction > 0 && d.val_fraction < 1 && d.zoom >= 1 && d.zoom <= 2 && d.workers >= 0,
               "val_fraction {}, zoom {}, workers {}", d.val_fraction, d.zoom, d.workers);
  FUZZ_REQUIRE(!d.targets.empty() && c.huber_delta > 0 && std::isfinite(c.huber_delta), "{} targets, huber_delta {}",
               d.targets.size(), c.huber_delta);
  FUZZ_REQUIRE(!d.synthetic.enabled || (d.synthetic.n >= 20 && d.synthetic.n <= kSynthMaxGalaxies),
               "synthetic n {}", d.synthetic.n);
}

}  // namespace

void config_yaml(std::string_view bytes) {
  const std::size_t end = std::min(bytes.find('\0'), bytes.size());
  const std::string text(bytes.substr(0, end));
  std::vector<std::string> overrides;
  for (std::size_t pos = end; pos < bytes.size();) {
    const std::size_t next = std::min(bytes.find('\0', pos + 1), bytes.size());
    overrides.emplace_back(bytes.substr(pos + 1, next - pos - 1));
    pos = next;
  }
  const std::filesystem::path base = std::filesystem::temp_directory_path() / "gcnn_fuzz_config_yaml";
  const auto config = unless_rejected([&] { return train::parse_config(text, "fuzz.yaml", base, overrides); });
  if (!config) return;
  check_ranges(*config);
  const std::string resolved = dump(config->resolved);
  const ExperimentConfig again =
      must_accept("the resolved config", [&] { return train::parse_config(resolved, "config.yaml", base); });
  const std::string reloaded = dump(YAML::Load(resolved));  // the emitter's own layout of the same tree
  FUZZ_REQUIRE(dump(again.resolved) == reloaded, "resolved tree changed:\n{}\nbecame\n{}", reloaded,
               dump(again.resolved));
  const std::string first = describe(*config), second = describe(again);
  FUZZ_REQUIRE(first == second, "values changed through the resolved config:\n{}became\n{}", first, second);
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::config_yaml)
