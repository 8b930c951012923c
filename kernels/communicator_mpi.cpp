// The MPI communicator (host buffers): MPI_Init once per process, errors
// returned rather than fatal (MPI_ERRORS_RETURN) and turned into exceptions
// naming the rank and the call, in-place MPI_Allreduce and MPI_Iallreduce
// (requests kept until waited for), MPI_Bcast, MPI_Barrier and MPI_Abort. Without MPI (GCNN_MPI=OFF) only mpi_compiled_in() is false.
#include "kernels/communicator.h"

#include "kernels/error.h"

#if GCNN_HAVE_MPI
#include <fmt/core.h>
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <vector>
#endif

namespace gcnn {

#if GCNN_HAVE_MPI

bool mpi_compiled_in() { return true; }

namespace {

// Largest element count handed to one MPI call (counts are ints).
constexpr std::size_t kMaxChunk = static_cast<std::size_t>(INT_MAX) / 2;

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return fmt::format("MPI error code {}", code);
  return std::string(text, static_cast<std::size_t>(length));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    GCNN_CHECK(!initialized, "MPI is already initialised in this process: make one communicator per process");
    int provided = 0;
    // Only the training thread calls MPI; loader threads never do.
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    GCNN_CHECK(rc == MPI_SUCCESS, "MPI_Init_thread failed: {}", mpi_error_text(rc));
    check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    MPI_Comm node;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(node, &local_rank_), "MPI_Comm_rank (node)");
    check(MPI_Comm_free(&node), "MPI_Comm_free");
  }
  ~MpiCommunicator() override {
    if (!pending_.empty()) MPI_Waitall(static_cast<int>(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  const char* name() const override { return "mpi"; }

  void all_reduce_sum(float* data, std::size_t count) override { all_reduce(data, count, MPI_FLOAT); }
  void all_reduce_sum(double* data, std::size_t count) override { all_reduce(data, count, MPI_DOUBLE); }

  void start_all_reduce_sum(float* data, std::size_t count) override {
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kMaxChunk, count - done);
      MPI_Request request;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + done, static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                           &request),
            "MPI_Iallreduce");
      pending_.push_back(request);
      done += n;
    }
    // Open MPI advances non-blocking collectives inside MPI calls: testing the
    // earlier ones here moves them on while backward goes on.
    int all_done = 0;
    check(MPI_Testall(static_cast<int>(pending_.size()), pending_.data(), &all_done, MPI_STATUSES_IGNORE),
          "MPI_Testall");
    if (all_done) pending_.clear();
  }

  void wait_all_reduces() override {
    std::vector<MPI_Request> requests;
    requests.swap(pending_);
    check(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }

  void broadcast(void* data, std::size_t bytes, int root) override {
    GCNN_CHECK(root >= 0 && root < size_, "broadcast: root {} is not a rank of {}", root, size_);
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const std::size_t n = std::min(kMaxChunk, bytes - done);
      check(MPI_Bcast(p + done, static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
      done += n;
    }
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  [[noreturn]] void abort(const std::string& message) override {
    fmt::print(stderr, "error on rank {} of {}: {}\n", rank_, size_, message);
    std::fflush(stderr);
    std::fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; should it, this rank still fails
  }

 private:
  template <class T>
  void all_reduce(T* data, std::size_t count, MPI_Datatype type) {
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kMaxChunk, count - done);
      check(MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(n), type, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
      done += n;
    }
  }

  void check(int code, const char* call) const {
    if (code != MPI_SUCCESS) GCNN_FAIL("rank {} of {}: {} failed: {}", rank_, size_, call, mpi_error_text(code));
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::vector<MPI_Request> pending_;  // started by start_all_reduce_sum, not yet waited for
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

#else

bool mpi_compiled_in() { return false; }

std::unique_ptr<Communicator> make_mpi_communicator() {
  GCNN_FAIL("MPI is not compiled in (configure with libopenmpi-dev installed and GCNN_MPI=ON)");
}

#endif

}  // namespace gcnn
