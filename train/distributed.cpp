// Data-parallel helpers over a Communicator (see distributed.h).
#include "train/distributed.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "layers/batchnorm.h"
#include "layers/sequential.h"

namespace gcnn::train {

namespace {

// Copies n floats from host memory into t (any device).
void write_values(Tensor& t, const float* values) {
  const auto n = static_cast<std::size_t>(t.numel());
  if (t.device().is_cpu()) {
    std::memcpy(t.data<float>(), values, n * sizeof(float));
  } else {
    t.copy_from(Tensor::from_vector(t.shape(), std::vector<float>(values, values + n)));
  }
}

// Copies t (any device) into host memory.
void read_values(const Tensor& t, float* out) {
  if (t.device().is_cpu()) {
    std::memcpy(out, t.data<float>(), static_cast<std::size_t>(t.numel()) * sizeof(float));
  } else {
    const std::vector<float> v = t.to_vector();
    std::copy(v.begin(), v.end(), out);
  }
}

void broadcast_tensor(Tensor& t, Communicator& comm) {
  std::vector<float> values(static_cast<std::size_t>(t.numel()));
  read_values(t, values.data());
  comm.broadcast(values.data(), values.size() * sizeof(float), 0);
  write_values(t, values.data());
}

void for_each_batchnorm(Layer& layer, Communicator* comm) {
  if (auto* bn = dynamic_cast<BatchNorm*>(&layer)) bn->synchronise(comm);
  for (auto& child : layer.children()) for_each_batchnorm(*child.second, comm);
}

// Every layer of the tree under root, with the indices (in list) of its own
// and its descendants' parameters.
void index_layers(Layer& root, const std::unordered_map<const Parameter*, std::size_t>& index,
                  std::unordered_map<const Layer*, std::vector<std::size_t>>& out) {
  std::vector<std::size_t>& mine = out[&root];
  for (const auto& p : named_parameters(root)) mine.push_back(index.at(p.param));
  for (auto& child : root.children()) index_layers(*child.second, index, out);
}

}  // namespace

DataParallel::DataParallel(Communicator& comm, Layer& model, double bucket_mb, bool overlap)
    : comm_(comm), model_(model) {
  const auto bucket_values = std::max<std::size_t>(1, static_cast<std::size_t>(bucket_mb * 1024 * 1024 / 4));
  std::vector<NamedParameter> params = named_parameters(model);
  std::reverse(params.begin(), params.end());  // the order backward finishes them in
  std::unordered_map<const Parameter*, std::size_t> index;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto n = static_cast<std::size_t>(params[i].param->grad.numel());
    // A new bucket when this parameter does not fit (a bucket holds at least one, however large).
    if (buckets_.empty() || (!buckets_.back().params.empty() && buckets_.back().values + n > bucket_values))
      buckets_.emplace_back();
    buckets_.back().params.push_back(params[i].param);
    buckets_.back().values += n;
    bucket_of_.push_back(buckets_.size() - 1);
    index[params[i].param] = i;
  }
  final_.assign(params.size(), false);
  index_layers(model, index, params_of_layer_);
  const Device device = layer_device(model);
  if (device.is_cuda()) nccl_ = std::make_unique<cuda::NcclCommunicator>(comm, device.index);
  if (auto* sequential = dynamic_cast<Sequential*>(&model); sequential && overlap) {
    sequential->set_backward_hook([this](Layer& layer) { layer_backward_done(layer); });
    hooked_ = true;
  }
}

DataParallel::~DataParallel() {
  if (hooked_) static_cast<Sequential&>(model_).set_backward_hook({});
}

float DataParallel::mean_loss(float local) {
  double sum = local;
  comm_.all_reduce_sum(&sum, 1);
  return static_cast<float>(sum / comm_.world_size());
}

void DataParallel::begin_backward() {
  std::fill(final_.begin(), final_.end(), false);
  for (Bucket& b : buckets_) b.pending = b.params.size();
  next_bucket_ = 0;
  in_backward_ = true;
}

void DataParallel::layer_backward_done(Layer& layer) {
  if (!in_backward_) return;
  const auto it = params_of_layer_.find(&layer);
  if (it == params_of_layer_.end()) return;
  for (std::size_t i : it->second) {
    if (final_[i]) continue;
    final_[i] = true;
    --buckets_[bucket_of_[i]].pending;
  }
  start_ready_buckets();
}

// Buckets start in their fixed order, each once all its gradients are final.
void DataParallel::start_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0) start(buckets_[next_bucket_++]);
}

void DataParallel::start(Bucket& bucket) {
  if (nccl_) {
    std::vector<cuda::DeviceBuffer> buffers;
    for (Parameter* p : bucket.params)
      buffers.push_back({p->grad.data<float>(), static_cast<std::size_t>(p->grad.numel())});
    nccl_->start_all_reduce_mean(buffers);
    return;
  }
  bucket.host.resize(bucket.values);
  std::size_t offset = 0;
  for (Parameter* p : bucket.params) {
    read_values(p->grad, bucket.host.data() + offset);
    offset += static_cast<std::size_t>(p->grad.numel());
  }
  comm_.start_all_reduce_sum(bucket.host.data(), bucket.host.size());
}

void DataParallel::finish_gradients() {
  GCNN_CHECK(in_backward_, "DataParallel::finish_gradients without begin_backward");
  in_backward_ = false;
  for (Bucket& b : buckets_) b.pending = 0;
  start_ready_buckets();
  if (nccl_) {
    nccl_->order_compute_after_all_reduces();
    return;
  }
  comm_.wait_all_reduces();
  const float scale = 1.0f / static_cast<float>(comm_.world_size());
  for (Bucket& b : buckets_) {
    for (float& v : b.host) v *= scale;
    std::size_t offset = 0;
    for (Parameter* p : b.params) {
      write_values(p->grad, b.host.data() + offset);
      offset += static_cast<std::size_t>(p->grad.numel());
    }
  }
}

std::int64_t DataParallel::gradient_bytes(Layer& model) {
  std::int64_t values = 0;
  for (const auto& p : named_parameters(model)) values += p.param->value.numel();
  return values * 4;
}

void broadcast_model(Layer& model, Communicator& comm) {
  for (auto& p : named_parameters(model)) broadcast_tensor(p.param->value, comm);
  broadcast_buffers(model, comm);
  model.state_loaded();
}

void broadcast_buffers(Layer& model, Communicator& comm) {
  for (auto& b : named_buffers(model)) broadcast_tensor(*b.value, comm);
}

void synchronise_batchnorm(Layer& model, Communicator* comm) { for_each_batchnorm(model, comm); }

std::uint64_t parameter_checksum(Layer& model) {
  std::uint64_t hash = 1469598103934665603ull;
  std::vector<float> values;
  for (const auto& p : named_parameters(model)) {
    values.resize(static_cast<std::size_t>(p.param->value.numel()));
    read_values(p.param->value, values.data());
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t i = 0; i < values.size() * sizeof(float); ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  }
  return hash;
}

void check_parameters_agree(Layer& model, Communicator& comm, std::int64_t step) {
  const std::uint64_t mine = parameter_checksum(model);
  std::uint64_t root = mine;
  comm.broadcast(&root, sizeof(root), 0);
  // Every rank learns which ranks differ, so all of them fail together.
  std::vector<double> differs(static_cast<std::size_t>(comm.world_size()), 0.0);
  differs[static_cast<std::size_t>(comm.rank())] = mine != root ? 1.0 : 0.0;
  comm.all_reduce_sum(differs.data(), differs.size());
  std::vector<int> ranks;
  for (std::size_t r = 0; r < differs.size(); ++r)
    if (differs[r] != 0) ranks.push_back(static_cast<int>(r));
  GCNN_CHECK(ranks.empty(),
             "distributed.check_params: after step {} the parameters of rank(s) {} differ from rank 0's "
             "(checksum {:016x} on rank {}, {:016x} on rank 0)",
             step, fmt::format("{}", fmt::join(ranks, ", ")), mine, comm.rank(), root);
}

InjectedFailure::InjectedFailure() {
  const char* spec = std::getenv("GCNN_DEBUG_FAIL");
  if (!spec || !*spec) return;
  const std::string text(spec);
  const auto colon = text.find(':');
  // Each part must be a whole number and nothing else.
  const auto whole = [](std::string_view part, auto& value) {
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    return !part.empty() && ec == std::errc() && ptr == part.data() + part.size();
  };
  const std::string_view view(text);
  const bool ok = colon != std::string::npos && whole(view.substr(0, colon), rank_) &&
                  whole(view.substr(colon + 1), step_) && rank_ >= 0 && step_ > 0;
  GCNN_INPUT_CHECK(ok, "GCNN_DEBUG_FAIL='{}': expected <rank>:<step>, e.g. 1:5 (rank 1 fails after global step 5)",
                   text);
}

void InjectedFailure::after_step(int rank, std::int64_t step) const {
  if (rank == rank_ && step == step_)
    GCNN_FAIL("GCNN_DEBUG_FAIL: failure injected on rank {} after global step {}", rank, step);
}

}  // namespace gcnn::train
