// Experiment YAML parsing and validation (see config.h).
#include "train/config.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>
#include <fstream>
#include <sstream>

#include "data/synth.h"
#include "data/threads.h"
#include "kernels/device.h"
#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/precision.h"
#include "layers/options.h"
#include "layers/registry.h"
#include "optim/adamw.h"
#include "optim/sgd.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

bool is_index(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Applies "a.b.0.c=value" to root; returns the dotted key as Options names it ("a.b[0].c").
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  GCNN_INPUT_CHECK(eq != std::string::npos && eq > 0, "--set '{}': expected key.path=value", assignment);
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    GCNN_INPUT_FAIL("--set '{}': value is not valid YAML: {}", assignment, e.msg);
  }
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    GCNN_INPUT_CHECK(!part.empty(), "--set '{}': empty key in '{}'", assignment, path);
    parts.push_back(part);
  }
  std::string dotted;
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (cur.IsSequence()) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
      GCNN_INPUT_CHECK(is_index(part) && ec == std::errc() && end == part.data() + part.size() && index < cur.size(),
                       "--set '{}': '{}' is a list of {} items; '{}' is not an index into it", assignment, dotted,
                       cur.size(), part);
      dotted += "[" + part + "]";
      if (last) {
        cur[index] = value;
      } else {
        YAML::Node next = cur[index];
        cur.reset(next);
      }
      continue;
    }
    GCNN_INPUT_CHECK(cur.IsMap() || cur.IsNull(), "--set '{}': '{}' is not a map", assignment, dotted);
    dotted += (dotted.empty() ? "" : ".") + part;
    if (last) {
      cur[part] = value;
    } else {
      if (!cur[part].IsDefined() || cur[part].IsNull()) cur[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[part];
      cur.reset(next);
    }
  }
  return dotted;
}

// Throws naming both lines when a map of node (at any depth) repeats a key;
// yaml-cpp would keep the first silently.
void reject_duplicate_keys(const YAML::Node& node, const std::string& source) {
  if (node.IsSequence())
    for (const auto& item : node) reject_duplicate_keys(item, source);
  if (!node.IsMap()) return;
  std::map<std::string, int> lines;
  for (const auto& entry : node) {
    if (entry.first.IsScalar()) {
      const std::string key = entry.first.Scalar();
      const int line = entry.first.Mark().line + 1;
      const auto [it, fresh] = lines.emplace(key, line);
      GCNN_INPUT_CHECK(fresh, "{}:{}: duplicate key '{}' (first given on line {})", source, line, key, it->second);
    }
    reject_duplicate_keys(entry.second, source);
  }
}

fs::path resolve_path(const fs::path& base, const std::string& value) {
  fs::path p(value);
  return p.is_absolute() ? p : fs::absolute(base / p).lexically_normal();
}

void parse_data(Options o, DataConfig& d, const fs::path& base, YAML::Node resolved) {
  if (o.has("synthetic")) {
    Options s = o.child("synthetic");
    d.synthetic.enabled = true;
    d.synthetic.size = s.get<int>("size", 64);
    d.synthetic.seed = static_cast<std::uint64_t>(s.get<std::int64_t>("seed", 1));
    const auto n = s.get<std::int64_t>("n", 1000);
    if (n < 20 || n > kSynthMaxGalaxies) s.fail("n", fmt::format("must be in [20, {}]", kSynthMaxGalaxies));
    d.synthetic.n = static_cast<std::size_t>(n);
    if (d.synthetic.size < 8 || d.synthetic.size > 512) s.fail("size", "must be in [8, 512]");
    s.finish();
  }
  if (!d.synthetic.enabled || o.has("catalog")) {
    d.catalog = resolve_path(base, o.require<std::string>("catalog"));
    if (!fs::is_regular_file(d.catalog)) o.fail("catalog", fmt::format("names a missing file {}", d.catalog.string()));
    resolved["catalog"] = d.catalog.string();
    d.images = resolve_path(base, o.require<std::string>("images"));
    if (!fs::is_directory(d.images)) o.fail("images", fmt::format("names a missing folder {}", d.images.string()));
    resolved["images"] = d.images.string();
    if (d.synthetic.enabled) o.fail("synthetic", "give either synthetic or catalog/images, not both");
  }
  d.id_column = o.get<std::string>("id_column", d.id_column);
  d.targets = o.get<std::vector<std::string>>("targets", d.targets);
  if (d.targets.empty()) o.fail("targets", "must name at least one target column");
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    if (d.targets[i] == d.id_column)
      o.fail("targets", fmt::format("names '{}', the id column (data.id_column), which is not a target", d.id_column));
    for (std::size_t j = 0; j < i; ++j)
      if (d.targets[j] == d.targets[i]) o.fail("targets", fmt::format("names '{}' twice", d.targets[i]));
  }
  d.image_size = o.get<int>("image_size", d.image_size);
  if (d.image_size < 8 || d.image_size > 1024) o.fail("image_size", "must be in [8, 1024]");
  d.degrade = o.get<int>("degrade", 0);
  if (d.degrade < 0 || d.degrade > d.image_size)
    o.fail("degrade", fmt::format("must be in [0, {}] (0: off; at most data.image_size)", d.image_size));
  const std::string upsample = o.choice("degrade_upsample", {"nearest", "bilinear"}, "nearest");
  d.degrade_upsample = upsample == "bilinear" ? Upsample::bilinear : Upsample::nearest;
  d.val_fraction = o.get<double>("val_fraction", d.val_fraction);
  if (!(d.val_fraction > 0 && d.val_fraction < 1)) o.fail("val_fraction", "must be in (0, 1)");
  d.split_seed = static_cast<std::uint64_t>(o.get<std::int64_t>("split_seed", 0));
  d.folds = o.get<int>("folds", 0);
  if (d.folds != 0 && (d.folds < 2 || d.folds > 100)) o.fail("folds", "must be 0 (no k-fold) or in [2, 100]");
  d.fold = o.get<int>("fold", 0);
  if (d.folds == 0 && o.has("fold")) o.fail("fold", "needs data.folds (the number of folds)");
  if (d.folds != 0 && (d.fold < 0 || d.fold >= d.folds))
    o.fail("fold", fmt::format("must be in [0, {}] (data.folds is {})", d.folds - 1, d.folds));
  d.batch_size = o.get<int>("batch_size", d.batch_size);
  if (d.batch_size < 2) o.fail("batch_size", "must be at least 2 (batch normalisation needs it)");
  d.workers = o.get<int>("workers", d.workers);
  if (d.workers < 0 || d.workers > max_worker_threads())
    o.fail("workers", fmt::format("must be in [0, {}] (4 x the {} hardware threads of this machine)",
                                  max_worker_threads(), max_worker_threads() / 4));
  d.dihedral = o.get<bool>("dihedral", d.dihedral);
  d.zoom = o.get<double>("zoom", d.zoom);
  if (!(d.zoom >= 1.0 && d.zoom <= 2.0)) o.fail("zoom", "must be in [1, 2]");
  d.rotate = o.get<double>("rotate", 0.0);
  if (!(d.rotate >= 0.0 && d.rotate <= 180.0)) o.fail("rotate", "must be in [0, 180] degrees");
  d.normalize_targets = o.get<bool>("normalize_targets", d.normalize_targets);
  o.finish();
}

HeadOptions parse_head(Options o, int n_targets) {
  HeadOptions h;
  h.kind = o.choice("kind", {"fastai", "linear"}, h.kind);
  h.hidden = o.get<int>("hidden", h.hidden);
  if (h.hidden <= 0 || h.hidden > 65536) o.fail("hidden", "must be in [1, 65536]");
  auto dropout = o.get<std::vector<double>>("dropout", {h.dropout1, h.dropout2});
  if (dropout.size() != 2 || dropout[0] < 0 || dropout[0] >= 1 || dropout[1] < 0 || dropout[1] >= 1)
    o.fail("dropout", "must be two probabilities in [0, 1), e.g. [0.25, 0.5]");
  h.dropout1 = static_cast<float>(dropout[0]);
  h.dropout2 = static_cast<float>(dropout[1]);
  h.zero_init = o.get<bool>("zero_init", h.zero_init);
  h.n_targets = n_targets;
  o.finish();
  return h;
}

void parse_model(Options o, ModelConfig& m, const fs::path& base, int n_targets, YAML::Node resolved) {
  m.preset = o.choice("preset", {"resnet18", "resnet34", "resnet50", "plain_cnn", "layers"}, m.preset);
  m.file = o.file();
  if (o.has("init_weights")) {
    m.init_weights = resolve_path(base, o.require<std::string>("init_weights"));
    if (!fs::is_regular_file(m.init_weights))
      o.fail("init_weights", fmt::format("names a missing file {}", m.init_weights.string()));
    resolved["init_weights"] = m.init_weights.string();
  }
  if (m.preset == "layers") {
    m.layers = o.raw("layers");
    if (!m.layers.IsSequence() || m.layers.size() == 0) o.fail("layers", "must be a non-empty list of layers");
  } else if (m.preset == "plain_cnn") {
    m.plain.channels = o.get<std::vector<int>>("channels", m.plain.channels);
    for (int c : m.plain.channels)
      if (c <= 0 || c > 4096) o.fail("channels", "must all be in [1, 4096]");
    m.plain.dihedral_pool = o.get<bool>("dihedral_pool", false);
    m.plain.head = parse_head(o.child("head"), n_targets);
  } else {
    m.resnet.depth = std::stoi(m.preset.substr(6));
    m.resnet.width = o.get<int>("width", m.resnet.width);
    if (m.resnet.width <= 0 || m.resnet.width > 1024) o.fail("width", "must be in [1, 1024]");
    m.resnet.zero_init_residual = o.get<bool>("zero_init_residual", false);
    m.resnet.se_ratio = o.get<int>("se_ratio", 0);
    if (m.resnet.se_ratio < 0) o.fail("se_ratio", "must be >= 0 (0: no squeeze-and-excitation blocks)");
    m.resnet.dihedral_pool = o.get<bool>("dihedral_pool", false);
    m.resnet.head = parse_head(o.child("head"), n_targets);
  }
  o.finish();
}

PhaseConfig parse_phase(Options o, const OptimizerConfig& optimizer) {
  PhaseConfig p;
  optim::Schedule& s = p.schedule;
  const std::string kind =
      o.choice("schedule", {"constant", "step", "cosine", "sgdr", "one_cycle", "triangular"}, "constant");
  s.kind = optim::parse_schedule_kind(kind);
  s.lr = o.require<double>("lr");
  if (!(s.lr > 0)) o.fail("lr", "must be > 0");
  if (optimizer.kind == "adamw") {
    // The schedule's momentum is AdamW's beta1: optimizer.betas[0], cycled by one_cycle.
    if (o.has("momentum")) o.fail("momentum", "is SGD's; with optimizer.kind adamw set optimizer.betas instead");
    s.momentum = optimizer.beta1;
  } else {
    s.momentum = o.get<double>("momentum", optimizer.momentum);
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) o.fail("momentum", "must be in [0, 1)");
  s.warmup_epochs = o.get<double>("warmup_epochs", 0.0);
  if (s.warmup_epochs < 0) o.fail("warmup_epochs", "must be >= 0");
  p.freeze_body = o.get<bool>("freeze_body", false);
  p.train_bn = o.get<bool>("train_bn", true);
  p.body_lr_mult = o.get<double>("body_lr_mult", 1.0);
  if (!(p.body_lr_mult >= 0)) o.fail("body_lr_mult", "must be >= 0");
  int cycles_epochs = 0;
  switch (s.kind) {
    case optim::ScheduleKind::Constant: break;
    case optim::ScheduleKind::Step:
      s.milestones = o.require<std::vector<double>>("milestones");
      s.gamma = o.get<double>("gamma", s.gamma);
      break;
    case optim::ScheduleKind::Cosine:
      s.min_lr = o.get<double>("min_lr", 0.0);
      break;
    case optim::ScheduleKind::Sgdr: {
      s.min_lr = o.get<double>("min_lr", 0.0);
      s.cycle_len = o.get<double>("cycle_len", 1.0);
      s.cycle_mult = o.get<double>("cycle_mult", 1.0);
      if (!(s.cycle_len > 0)) o.fail("cycle_len", "must be > 0");
      if (!(s.cycle_mult >= 1)) o.fail("cycle_mult", "must be >= 1");
      const int cycles = o.get<int>("cycles", 1);
      if (cycles < 1) o.fail("cycles", "must be >= 1");
      const double epochs = optim::sgdr_epochs(s.cycle_len, s.cycle_mult, cycles);
      if (!(epochs <= kMaxEpochs))  // also catches an overflow to inf
        o.fail("cycles", fmt::format("{} cycles make {} epochs; the limit is {}", cycles, epochs, kMaxEpochs));
      if (std::abs(epochs - std::round(epochs)) > 1e-9)
        o.fail("cycles", fmt::format("give a whole number of epochs ({} cycles make {})", cycles, epochs));
      cycles_epochs = static_cast<int>(std::round(epochs));
      break;
    }
    case optim::ScheduleKind::OneCycle:
      s.pct_start = o.get<double>("pct_start", s.pct_start);
      s.div_factor = o.get<double>("div_factor", s.div_factor);
      s.final_div = o.get<double>("final_div", s.div_factor * 1e4);
      s.max_momentum = o.get<double>("max_momentum", s.max_momentum);
      s.min_momentum = o.get<double>("min_momentum", s.min_momentum);
      if (!(s.max_momentum >= 0 && s.max_momentum < 1)) o.fail("max_momentum", "must be in [0, 1)");
      if (!(s.min_momentum >= 0 && s.min_momentum < 1)) o.fail("min_momentum", "must be in [0, 1)");
      if (!(s.pct_start > 0 && s.pct_start < 1)) o.fail("pct_start", "must be in (0, 1)");
      if (!(s.div_factor >= 1)) o.fail("div_factor", "must be >= 1");
      if (!(s.final_div >= 1)) o.fail("final_div", "must be >= 1");
      break;
    case optim::ScheduleKind::Triangular:
      s.base_lr = o.get<double>("base_lr", s.lr / 10);
      s.half_cycle = o.get<double>("half_cycle", 1.0);
      if (!(s.base_lr > 0 && s.base_lr <= s.lr)) o.fail("base_lr", "must be in (0, lr]");
      if (!(s.half_cycle > 0)) o.fail("half_cycle", "must be > 0");
      break;
  }
  if (cycles_epochs > 0) {
    p.epochs = o.get<int>("epochs", cycles_epochs);
    if (p.epochs != cycles_epochs)
      o.fail("epochs", fmt::format("is {} but the SGDR cycles take {} epochs", p.epochs, cycles_epochs));
  } else {
    p.epochs = o.require<int>("epochs");
  }
  if (p.epochs < 1 || p.epochs > kMaxEpochs) o.fail("epochs", fmt::format("must be in [1, {}]", kMaxEpochs));
  o.finish();
  return p;
}

void parse_optimizer(Options o, OptimizerConfig& c) {
  c.kind = o.choice("kind", {"sgd", "adamw"}, c.kind);
  const bool adamw = c.kind == "adamw";
  if (adamw) {
    for (const char* key : {"momentum", "nesterov"})
      if (o.has(key)) o.fail(key, "is an SGD setting; AdamW's beta1 is optimizer.betas[0]");
    auto betas = o.get<std::vector<double>>("betas", {c.beta1, c.beta2});
    if (betas.size() != 2 || !(betas[0] >= 0 && betas[0] < 1) || !(betas[1] >= 0 && betas[1] < 1))
      o.fail("betas", "must be two numbers in [0, 1), e.g. [0.9, 0.999]");
    c.beta1 = betas[0];
    c.beta2 = betas[1];
    c.eps = o.get<double>("eps", c.eps);
    if (!(c.eps > 0 && c.eps < 1)) o.fail("eps", "must be in (0, 1)");
  } else {
    for (const char* key : {"betas", "eps"})
      if (o.has(key)) o.fail(key, "is an AdamW setting; give optimizer.kind: adamw to use it");
    c.momentum = o.get<double>("momentum", c.momentum);
    if (!(c.momentum >= 0 && c.momentum < 1)) o.fail("momentum", "must be in [0, 1)");
    c.nesterov = o.get<bool>("nesterov", false);
  }
  c.weight_decay = o.get<double>("weight_decay", adamw ? 0.01 : c.weight_decay);
  if (!(c.weight_decay >= 0 && c.weight_decay < 1)) o.fail("weight_decay", "must be in [0, 1)");
  c.decay_all = o.get<bool>("decay_all", false);
  o.finish();
}

// The model.layers network of c with its output checked against the targets;
// parameters allocated but not initialised.
std::unique_ptr<Sequential> build_layer_list(const ExperimentConfig& c, int n_targets) {
  const ModelConfig& m = c.model;
  std::vector<Options> items;
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    items.emplace_back(m.layers[i], m.file, fmt::format("model.layers[{}]", i));
  const Shape in{2, 3, c.data.image_size, c.data.image_size};
  auto net = make_layer_list(items, in);
  const Shape out = net->output_shape(in);
  GCNN_INPUT_CHECK(out == (Shape{2, n_targets}), "{}: model.layers ends with output {} but the data has {} target(s): "
                   "end with a linear layer of out: {}", m.file, shape_str(out), n_targets, n_targets);
  return net;
}

}  // namespace

int ExperimentConfig::total_epochs() const {
  int n = 0;
  for (const auto& p : phases) n += p.epochs;
  return n;
}

std::pair<std::size_t, int> ExperimentConfig::phase_of_epoch(int epoch) const {
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (epoch < phases[i].epochs) return {i, epoch};
    epoch -= phases[i].epochs;
  }
  GCNN_FAIL("epoch beyond the {} epochs of the phases", total_epochs());
}

ExperimentConfig parse_config(const std::string& text, const std::string& source, const fs::path& base_dir,
                              const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    GCNN_INPUT_FAIL("{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  reject_duplicate_keys(root, source);
  auto overridden = std::make_shared<std::set<std::string>>();
  for (const auto& o : overrides) overridden->insert(apply_override(root, o));

  ExperimentConfig c;
  c.file = source;
  Options o(root, source, "", overridden);
  c.name = o.require<std::string>("name");
  if (c.name.empty() || c.name.find_first_of("/\\") != std::string::npos || c.name == "." || c.name == "..")
    o.fail("name", "must be a plain folder name (no slashes)");
  c.seed = static_cast<std::uint64_t>(o.get<std::int64_t>("seed", 0));
  c.device = o.get<std::string>("device", c.device);
  if (!is_device_spec(c.device)) o.fail("device", "must be auto, cpu, cuda or cuda:N, got '" + c.device + "'");
  c.precision = o.get<std::string>("precision", c.precision);
  try {
    check_precision_spec(c.precision);
  } catch (const Error& e) {
    o.fail("precision", e.what());
  }
  c.runs_dir = o.get<std::string>("runs_dir", "runs");
  c.log_every = o.get<int>("log_every", 0);
  c.deterministic = o.get<bool>("deterministic", c.deterministic);
  if (o.has("cuda")) {
    Options d = o.child("cuda");
    c.cuda.workspace_mb = d.get<double>("workspace_mb", c.cuda.workspace_mb);
    if (!(c.cuda.workspace_mb >= 0 && c.cuda.workspace_mb <= 1024 * 1024)) d.fail("workspace_mb", "must be in [0, 1048576]");
    d.finish();
  }
  parse_data(o.child("data"), c.data, base_dir, root["data"]);
  parse_model(o.child("model"), c.model, base_dir, static_cast<int>(c.data.targets.size()), root["model"]);
  c.loss = o.get<std::string>("loss", c.loss);
  try {
    ops::parse_loss(c.loss);
  } catch (const Error& e) {
    o.fail("loss", e.what());
  }
  c.huber_delta = o.get<float>("huber_delta", 1.0f);
  if (!(c.huber_delta > 0)) o.fail("huber_delta", "must be > 0");
  if (o.has("loss_weights")) {
    c.loss_weights = o.get<std::vector<double>>("loss_weights", {});
    if (c.loss_weights.size() != c.data.targets.size())
      o.fail("loss_weights", fmt::format("has {} weights for the {} targets of data.targets", c.loss_weights.size(),
                                         c.data.targets.size()));
    double sum = 0;
    for (double w : c.loss_weights) {
      if (!(w >= 0 && w <= 1e6)) o.fail("loss_weights", "must all be in [0, 1e6]");
      sum += w;
    }
    if (!(sum > 0)) o.fail("loss_weights", "must not all be 0");
  }
  parse_optimizer(o.child("optimizer"), c.optimizer);
  if (o.has("distributed")) {
    Options d = o.child("distributed");
    c.distributed.bucket_mb = d.get<double>("bucket_mb", c.distributed.bucket_mb);
    if (!(c.distributed.bucket_mb >= 0.001 && c.distributed.bucket_mb <= 4096))
      d.fail("bucket_mb", "must be in [0.001, 4096]");
    c.distributed.sync_bn = d.get<bool>("sync_bn", c.distributed.sync_bn);
    c.distributed.check_params = d.get<bool>("check_params", c.distributed.check_params);
    c.distributed.overlap = d.get<bool>("overlap", c.distributed.overlap);
    d.finish();
  }
  for (Options& phase : o.list("phases")) c.phases.push_back(parse_phase(phase, c.optimizer));
  if (c.phases.empty()) o.fail("phases", "must list at least one training phase");
  std::int64_t epochs = 0;
  for (const auto& p : c.phases) epochs += p.epochs;
  if (epochs > kMaxEpochs) o.fail("phases", fmt::format("add up to {} epochs; the limit is {}", epochs, kMaxEpochs));
  if (c.model.preset == "layers")
    for (const auto& p : c.phases)
      if (p.freeze_body) o.fail("phases", "freeze_body needs a preset model with a head (resnet*, plain_cnn)");
  o.finish();
  // Check a layer-list model now, so its errors come before any work (shapes only: no
  // parameter is initialised, so a large but valid model is checked in no time).
  if (c.model.preset == "layers") build_layer_list(c, static_cast<int>(c.data.targets.size()));
  c.resolved = root;
  return c;
}

ExperimentConfig load_config(const fs::path& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  GCNN_INPUT_CHECK(!fs::is_directory(path, ec), "config file {}: is a folder, not a YAML file", path.string());
  std::ifstream in(path);
  GCNN_INPUT_CHECK(in.good(), "cannot read config file {}", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string(), fs::absolute(path).parent_path(), overrides);
}

std::unique_ptr<optim::Optimizer> make_optimizer(std::vector<optim::ParamGroup> groups, const OptimizerConfig& c) {
  if (c.kind == "adamw")
    return std::make_unique<optim::AdamW>(std::move(groups),
                                          optim::AdamWOptions{c.beta2, c.eps, c.weight_decay, c.decay_all});
  return std::make_unique<optim::Sgd>(std::move(groups), optim::SgdOptions{c.weight_decay, c.nesterov, c.decay_all});
}

std::unique_ptr<Sequential> build_model(const ExperimentConfig& c, int n_targets) {
  const ModelConfig& m = c.model;
  if (m.preset == "plain_cnn") {
    PlainCnnOptions o = m.plain;
    o.head.n_targets = n_targets;
    return make_plain_cnn(o, c.seed);
  }
  if (m.preset == "layers") {
    auto net = build_layer_list(c, n_targets);
    net->reset_parameters(c.seed);
    net->needs_input_grad = false;
    return net;
  }
  ResNetOptions o = m.resnet;
  o.head.n_targets = n_targets;
  return make_resnet(o, c.seed);
}

}  // namespace gcnn::train
