// Measurement, disabled by default (prints numbers, asserts only correctness):
// download throughput against the loopback server with an artificial
// per-request latency that mimics a remote service, for several --jobs values
// and with the default 10/s rate limit. Run with
//   build/tests/gcnn_tests --gtest_also_run_disabled_tests --gtest_filter='*SdssThroughput*'
// Optional environment: GCNN_SDSS_LATENCY_MS (default 50), GCNN_SDSS_IMAGES (default 200).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "data/sdss/download.h"
#include "tests/sdss/local_http_server.h"

namespace fs = std::filesystem;
using gcnn::testing::HttpReply;
using gcnn::testing::HttpRequest;
using gcnn::testing::LocalHttpServer;
using namespace gcnn::sdss;

namespace {
int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}
}  // namespace

TEST(SdssThroughput, DISABLED_JobsAndRateAgainstSlowServer) {
  const int size = 128;
  const double latency_s = env_int("GCNN_SDSS_LATENCY_MS", 50) / 1000.0;
  const int images = env_int("GCNN_SDSS_IMAGES", 200);
  const std::string jpeg = gcnn::testing::make_test_jpeg(size, size, 5);
  LocalHttpServer server([&](const HttpRequest&) {
    HttpReply reply;
    reply.body = jpeg;
    reply.delay_s = latency_s;
    return reply;
  });
  std::vector<CutoutItem> items;
  for (int i = 0; i < images; ++i) items.push_back({fmt::format("g{}", i), 0.001 * i, 1.0, 0.2, 0});

  struct Case {
    int jobs;
    double rate;
  };
  fmt::print("latency {:.0f} ms per request, {} images of {}x{} ({} bytes each)\n", latency_s * 1000, images, size,
             size, jpeg.size());
  for (Case c : {Case{1, 0}, Case{2, 0}, Case{4, 0}, Case{8, 0}, Case{16, 0}, Case{8, 10}}) {
    fs::path dir = fs::temp_directory_path() / fmt::format("gcnn_sdss_throughput_{}", ::getpid());
    fs::remove_all(dir);
    server.reset_counters();
    DownloadOptions options;
    options.out_dir = dir;
    options.base_url = server.base_url();
    options.size = size;
    options.jobs = c.jobs;
    options.rate_per_s = c.rate;
    DownloadSummary s = download_cutouts(items, options);
    EXPECT_EQ(s.downloaded, items.size());
    EXPECT_LE(server.max_in_flight(), c.jobs);
    fmt::print("--jobs {:2} --rate {:>9}: {:6.1f} images/s ({} images in {:.2f} s, {} connections, max {} in flight)\n",
               c.jobs, c.rate > 0 ? fmt::format("{}/s", c.rate) : std::string("unlimited"), s.downloaded / s.elapsed_s,
               s.downloaded, s.elapsed_s, server.connections(), server.max_in_flight());
    fs::remove_all(dir);
  }
}
