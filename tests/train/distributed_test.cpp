// Data-parallel pieces that need no second process: launcher detection,
// gradient averaging in buckets of the configured size in reverse parameter
// order (through a communicator that plays a second rank), the injected
// failure's parsing. The 2-rank behaviour is tested under mpirun (tests/mpi).
#include "train/distributed.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "kernels/error.h"
#include "layers/models.h"

namespace gcnn::train {
namespace {

// Rank 0 of 2 whose partner holds gradients `partner_scale` times this rank's:
// a sum gives (1 + partner_scale) x; records each all-reduce's length.
class TwoRankStandIn final : public Communicator {
 public:
  explicit TwoRankStandIn(float partner_scale) : partner_scale_(partner_scale) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  int local_rank() const override { return 0; }
  const char* name() const override { return "stand-in"; }
  void all_reduce_sum(float* data, std::size_t count) override {
    for (std::size_t i = 0; i < count; ++i) data[i] *= 1.0f + partner_scale_;
    lengths.push_back(count);
  }
  void all_reduce_sum(double* data, std::size_t count) override {
    for (std::size_t i = 0; i < count; ++i) data[i] *= 1.0 + partner_scale_;
  }
  void broadcast(void*, std::size_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override { throw Error(message); }
  std::vector<std::size_t> lengths;

 private:
  float partner_scale_;
};

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
  TwoRankStandIn comm(3.0f);  // partner has 3 x: the mean is 2 x
  const double bucket_mb = 300.0 * 4 / (1024 * 1024);  // 300 values
  DataParallel parallel(comm, bucket_mb);
  parallel.average_gradients(*net);
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
