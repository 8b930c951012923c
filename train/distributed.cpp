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

}  // namespace

DataParallel::DataParallel(Communicator& comm, double bucket_mb)
    : comm_(comm), bucket_values_(std::max<std::size_t>(1, static_cast<std::size_t>(bucket_mb * 1024 * 1024 / 4))) {}

float DataParallel::mean_loss(float local) {
  double sum = local;
  comm_.all_reduce_sum(&sum, 1);
  return static_cast<float>(sum / comm_.world_size());
}

void DataParallel::average_gradients(Layer& model) {
  std::vector<NamedParameter> params = named_parameters(model);
  std::reverse(params.begin(), params.end());  // the order backward finishes them in
  const float scale = 1.0f / static_cast<float>(comm_.world_size());
  std::size_t first = 0;
  while (first < params.size()) {
    // A bucket: parameters from `first` while they fit (at least one, however large).
    std::size_t last = first, values = 0;
    while (last < params.size() &&
           (last == first || values + static_cast<std::size_t>(params[last].param->grad.numel()) <= bucket_values_))
      values += static_cast<std::size_t>(params[last++].param->grad.numel());
    bucket_.resize(values);
    std::size_t offset = 0;
    for (std::size_t i = first; i < last; ++i) {
      read_values(params[i].param->grad, bucket_.data() + offset);
      offset += static_cast<std::size_t>(params[i].param->grad.numel());
    }
    comm_.all_reduce_sum(bucket_.data(), bucket_.size());
    for (float& v : bucket_) v *= scale;
    offset = 0;
    for (std::size_t i = first; i < last; ++i) {
      write_values(params[i].param->grad, bucket_.data() + offset);
      offset += static_cast<std::size_t>(params[i].param->grad.numel());
    }
    first = last;
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
