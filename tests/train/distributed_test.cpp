// Data-parallel pieces that need no second process: launcher detection,
// gradient averaging in buckets of the configured size in reverse parameter
// order (through a communicator that plays a second rank), each bucket's
// all-reduce started during backward as soon as its gradients are final, the
// same parameters with and without that overlap, the injected failure's
// parsing. The 2-rank behaviour is tested under mpirun (tests/mpi).
#include "train/distributed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernels/error.h"
#include "layers/activations.h"
#include "layers/linear.h"
#include "layers/models.h"
#include "optim/sgd.h"
#include "train/trainer.h"

namespace gcnn::train {
namespace {

// Rank 0 of 2 whose partner holds gradients `partner_scale` times this rank's:
// a sum gives (1 + partner_scale) x, applied when waited for, as a real
// non-blocking all-reduce only guarantees then; logs each start and wait.
class TwoRankStandIn final : public Communicator {
 public:
  TwoRankStandIn(float partner_scale, std::vector<std::string>* log) : partner_scale_(partner_scale), log_(log) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  int local_rank() const override { return 0; }
  const char* name() const override { return "stand-in"; }
  void all_reduce_sum(float* data, std::size_t count) override {
    for (std::size_t i = 0; i < count; ++i) data[i] *= 1.0f + partner_scale_;
  }
  void all_reduce_sum(double* data, std::size_t count) override {
    for (std::size_t i = 0; i < count; ++i) data[i] *= 1.0 + partner_scale_;
  }
  void start_all_reduce_sum(float* data, std::size_t count) override {
    started_.push_back({data, count});
    lengths.push_back(count);
    if (log_) log_->push_back("start all-reduce of " + std::to_string(count));
  }
  void wait_all_reduces() override {
    for (const auto& [data, count] : started_) all_reduce_sum(data, count);
    started_.clear();
    if (log_) log_->push_back("wait");
  }
  void broadcast(void*, std::size_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override { throw Error(message); }
  std::vector<std::size_t> lengths;

 private:
  float partner_scale_;
  std::vector<std::string>* log_;
  std::vector<std::pair<float*, std::size_t>> started_;
};

// A linear layer that logs the end of its backward.
class LoggedLinear final : public Linear {
 public:
  LoggedLinear(int in, int out, std::string name, std::vector<std::string>* log)
      : Linear(in, out), name_(std::move(name)), log_(log) {}
  Tensor backward(const Tensor& dy) override {
    Tensor dx = Linear::backward(dy);
    log_->push_back("backward of " + name_ + " done");
    return dx;
  }

 private:
  std::string name_;
  std::vector<std::string>* log_;
};

// fc0 (4 -> 3) -> ReLU -> fc1 (3 -> 2), every layer logging into log.
std::unique_ptr<Sequential> logged_mlp(std::vector<std::string>* log) {
  auto net = std::make_unique<Sequential>();
  net->add(std::make_unique<LoggedLinear>(4, 3, "fc0", log));
  net->add(std::make_unique<ReLU>());
  net->add(std::make_unique<LoggedLinear>(3, 2, "fc1", log));
  net->reset_parameters(11);
  return net;
}

// Three SGD steps of net on fixed data, through train_step with parallel.
void train_three_steps(Sequential& net, DataParallel& parallel) {
  optim::Sgd sgd({{"all", named_parameters(net)}}, {0.0, false, false});
  std::vector<float> x(5 * 4), y(5 * 2);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = 0.2f * static_cast<float>(i % 3);
  for (int step = 0; step < 3; ++step)
    train_step(net, sgd, Tensor::from_vector({5, 4}, x), Tensor::from_vector({5, 2}, y), ops::LossKind::MSE, 1.0f,
               {0.05, 0.9}, Tensor(), &parallel);
}

// Sets an environment variable for the scope, restoring the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
      had_ = true;
    }
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

TEST(Distributed, AveragesGradientsInBucketsOfTheConfiguredSizeInReverseOrder) {
  PlainCnnOptions o;
  o.channels = {4, 8};
  o.head.hidden = 16;
  auto net = make_plain_cnn(o, 3);
  std::vector<NamedParameter> params = named_parameters(*net);
  std::vector<std::vector<float>> before;
  float v = 0.5f;
  for (auto& p : params) {
    std::vector<float> g(static_cast<std::size_t>(p.param->grad.numel()));
    for (float& x : g) x = (v += 0.25f);
    p.param->grad.copy_from(Tensor::from_vector(p.param->grad.shape(), g));
    before.push_back(g);
  }
  TwoRankStandIn comm(3.0f, nullptr);  // partner has 3 x: the mean is 2 x
  const double bucket_mb = 300.0 * 4 / (1024 * 1024);  // 300 values
  DataParallel parallel(comm, *net, bucket_mb, false);
  parallel.begin_backward();
  parallel.finish_gradients();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::vector<float> after = params[i].param->grad.to_vector();
    for (std::size_t j = 0; j < after.size(); ++j) ASSERT_FLOAT_EQ(after[j], 2.0f * before[i][j]) << params[i].name;
  }
  // The buckets: greedy over the reversed parameter list, at most 300 values
  // unless a single parameter is larger.
  std::vector<std::size_t> expected;
  std::size_t fill = 0;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const auto n = static_cast<std::size_t>(it->param->grad.numel());
    if (fill > 0 && fill + n > 300) {
      expected.push_back(fill);
      fill = 0;
    }
    fill += n;
  }
  expected.push_back(fill);
  EXPECT_EQ(comm.lengths, expected);
  EXPECT_GT(comm.lengths.size(), 2u);
  std::int64_t total = 0;
  for (auto& p : params) total += p.param->value.numel();
  EXPECT_EQ(DataParallel::gradient_bytes(*net), 4 * total);
}

// fc1's parameters finish first: with one parameter per bucket, their
// all-reduces start while fc0's backward has not run yet; fc0's start after it.
TEST(Distributed, BucketsStartDuringBackwardAsSoonAsTheirGradientsAreFinal) {
  std::vector<std::string> log;
  auto net = logged_mlp(&log);
  TwoRankStandIn comm(1.0f, &log);
  DataParallel parallel(comm, *net, 1e-6, true);  // one value per bucket: one parameter each
  train_three_steps(*net, parallel);
  const std::vector<std::string> step = {"backward of fc1 done",      "start all-reduce of 2",
                                         "start all-reduce of 6",     "backward of fc0 done",
                                         "start all-reduce of 3",     "start all-reduce of 12",
                                         "wait"};
  ASSERT_EQ(log.size(), 3 * step.size());
  for (std::size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i], step[i % step.size()]) << "entry " << i;
  const auto first_start = std::find(log.begin(), log.end(), "start all-reduce of 2") - log.begin();
  const auto first_layer_done = std::find(log.begin(), log.end(), "backward of fc0 done") - log.begin();
  EXPECT_LT(first_start, first_layer_done) << "the first bucket must start before the first layer's backward ends";
}

// Without overlap every bucket starts after backward, in the same order and
// composition, so the parameters are bit for bit the same.
TEST(Distributed, OverlapLeavesTheParametersBitIdentical) {
  std::vector<std::string> log_overlapped, log_after;
  auto overlapped = logged_mlp(&log_overlapped), after = logged_mlp(&log_after);
  TwoRankStandIn comm_overlapped(0.5f, &log_overlapped), comm_after(0.5f, &log_after);
  const double bucket_mb = 8.0 * 4 / (1024 * 1024);  // 8 values: buckets {2, 6}, {3}, {12}
  DataParallel parallel_overlapped(comm_overlapped, *overlapped, bucket_mb, true);
  DataParallel parallel_after(comm_after, *after, bucket_mb, false);
  train_three_steps(*overlapped, parallel_overlapped);
  train_three_steps(*after, parallel_after);
  EXPECT_EQ(comm_overlapped.lengths, comm_after.lengths);
  EXPECT_EQ(std::vector<std::size_t>(comm_after.lengths.begin(), comm_after.lengths.begin() + 3),
            (std::vector<std::size_t>{8, 3, 12}));
  EXPECT_EQ(log_after[1], "backward of fc0 done") << "without overlap nothing starts during backward";
  EXPECT_EQ(log_overlapped[1], "start all-reduce of 8");
  const auto a = named_parameters(*overlapped), b = named_parameters(*after);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::vector<float> va = a[i].param->value.to_vector(), vb = b[i].param->value.to_vector();
    ASSERT_EQ(va.size(), vb.size());
    for (std::size_t j = 0; j < va.size(); ++j)
      ASSERT_EQ(std::memcmp(&va[j], &vb[j], sizeof(float)), 0) << a[i].name << "[" << j << "]: " << va[j] << " vs " << vb[j];
  }
}

TEST(Distributed, LauncherDetectionReadsTheLaunchersVariables) {
  ScopedEnv a("OMPI_COMM_WORLD_SIZE", nullptr), b("PMI_SIZE", nullptr), c("PMIX_RANK", nullptr),
      d("SLURM_NTASKS", nullptr);
  EXPECT_FALSE(launched_by_mpi());
  EXPECT_STREQ(make_communicator()->name(), "trivial");
  {
    ScopedEnv launched("OMPI_COMM_WORLD_SIZE", "2");
    EXPECT_TRUE(launched_by_mpi());
  }
  ScopedEnv slurm("SLURM_NTASKS", "4");
  EXPECT_TRUE(launched_by_mpi());
}

TEST(Distributed, InjectedFailureFiresOnItsRankAndStepOnly) {
  {
    ScopedEnv unset("GCNN_DEBUG_FAIL", nullptr);
    EXPECT_NO_THROW(InjectedFailure().after_step(1, 5));
  }
  ScopedEnv set("GCNN_DEBUG_FAIL", "1:5");
  const InjectedFailure failure;
  EXPECT_NO_THROW(failure.after_step(0, 5));
  EXPECT_NO_THROW(failure.after_step(1, 4));
  EXPECT_THROW(failure.after_step(1, 5), Error);
  for (const char* bad : {"1", "x:5", "1:", ":5", "1:0", "-1:5", "1:5x"}) {
    ScopedEnv malformed("GCNN_DEBUG_FAIL", bad);
    try {
      InjectedFailure f;
      ADD_FAILURE() << "accepted " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("GCNN_DEBUG_FAIL"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace gcnn::train
