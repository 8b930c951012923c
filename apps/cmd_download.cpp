// gcnn download: fetches one gri JPEG cutout per catalog row from the SDSS
// SkyServer image cutout service, many at once, with retries, resume and a
// failure list. Exit status 1 when anything failed, 130 when interrupted.
#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "apps/command.h"
#include "data/sdss/download.h"
#include "kernels/error.h"

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C stops at once
}

struct DownloadArgs {
  std::string catalog, out, scale = "auto", rate = "10/s";
  bool quiet = false;
  gcnn::sdss::DownloadOptions options;
};

int run_download(DownloadArgs& args) {
  using namespace gcnn::sdss;
  ScaleChoice scale = parse_scale(args.scale);
  args.options.rate_per_s = parse_rate(args.rate);
  args.options.out_dir = args.out;
  std::vector<CutoutItem> items = read_cutout_catalog(args.catalog, scale, args.options.size);
  args.options.progress = args.quiet ? nullptr : stderr;
  args.options.progress_interactive = ::isatty(STDERR_FILENO) == 1;
  args.options.cancel = &g_interrupted;
  std::signal(SIGINT, on_interrupt);
  DownloadSummary s = download_cutouts(items, args.options);
  std::signal(SIGINT, SIG_DFL);

  double rate = s.elapsed_s > 0 ? s.downloaded / s.elapsed_s : 0;
  fmt::print("{} rows: {} downloaded, {} already present, {} failed; {} requests in {:.1f} s ({:.1f} images/s)\n",
             s.total, s.downloaded, s.skipped, s.failed.size(), s.requests, s.elapsed_s, rate);
  std::fflush(stdout);
  std::string failed_csv = (args.options.out_dir / "failed.csv").string();
  if (!s.failed.empty()) {
    fmt::print(stderr, "{} failed (id, url, attempts, last error in {}); first: {}: {}\n", s.failed.size(),
               failed_csv, s.failed.front().id, s.failed.front().error);
  }
  if (s.cancelled) {
    fmt::print(stderr, "interrupted: {} not finished; run the same command again to resume\n",
               s.total - s.skipped - s.downloaded - s.failed.size());
    return 130;
  }
  return s.failed.empty() ? 0 : 1;
}

GCNN_COMMAND("download", "Download SDSS gri JPEG cutouts for every galaxy of a catalog", [](CLI::App& cmd) {
  auto args = std::make_shared<DownloadArgs>();
  auto& o = args->options;
  cmd.add_option("--catalog", args->catalog, "Catalog CSV with objID (or id), ra, dec [, petroR90_r]")
      ->required();
  cmd.add_option("--out", args->out, "Output folder: <id>.jpg and failed.csv")->required();
  cmd.add_option("--size", o.size, "Cutout width and height in pixels")->capture_default_str();
  cmd.add_option("--scale", args->scale,
                 "auto (2 * petroR90_r / (0.396 * size), or a 15\" field without petroR90_r) or arcsec/pixel")
      ->capture_default_str();
  cmd.add_option("--release", o.release, "SDSS data release")->capture_default_str();
  cmd.add_option("--jobs", o.jobs, "Transfers at once")->capture_default_str();
  cmd.add_option("--rate", args->rate, "Request rate for all transfers together: N/s, N/min, N/h (0: unlimited)")
      ->capture_default_str();
  cmd.add_option("--base-url", o.base_url, "SkyServer root URL")->capture_default_str();
  cmd.add_option("--timeout", o.timeout_s, "Seconds allowed for one transfer")->capture_default_str();
  cmd.add_option("--retries", o.retry.retries, "Retries of a transient failure (timeouts, 429, 5xx, ...)")
      ->capture_default_str();
  cmd.add_option("--backoff", o.retry.backoff_base_s, "First retry delay in seconds (doubles each retry)")
      ->capture_default_str();
  cmd.add_option("--backoff-max", o.retry.backoff_max_s, "Cap on the retry delay in seconds")
      ->capture_default_str();
  cmd.add_flag("--quiet", args->quiet, "No progress display");
  return [args] { return run_download(*args); };
});

}  // namespace
