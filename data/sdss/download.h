// SDSS image cutout download: reads and validates a catalog of galaxies,
// builds one SkyServer ImgCutout URL per galaxy, and fetches them many at a
// time (curl multi interface) under a concurrency bound and a global request
// rate, retrying transient failures. Only complete JPEGs of the requested size
// are written (temporary name + rename); files already present and valid are
// skipped, so an interrupted run resumes where it stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/sdss/http.h"

namespace gcnn::sdss {

// SDSS imaging pixel scale in arcsec per pixel (the "natural" scale the
// SkyServer finding-chart documentation gives as 0.396127).
inline constexpr double kSdssPixelArcsec = 0.396;
// Field of view used by --scale auto when petroR90_r is missing: 15 arcsec.
inline constexpr double kFallbackFieldArcsec = 15.0;
// The ImgCutout / finding chart service limits width and height to [64, 2048].
inline constexpr int kMinCutoutSize = 64;
inline constexpr int kMaxCutoutSize = 2048;

struct CutoutItem {
  std::string id;  // output file is <id>.jpg
  double ra = 0, dec = 0;
  double scale = 0;  // arcsec per pixel
  std::size_t line = 0;  // catalog line, for messages
};

// How the pixel scale is chosen: a fixed value, or "auto" from petroR90_r.
struct ScaleChoice {
  bool automatic = true;
  double arcsec_per_pixel = 0;  // used when !automatic
};
// Parses "auto" or a positive number of arcsec per pixel; throws otherwise.
ScaleChoice parse_scale(std::string_view text);
// --scale auto: 2 * petroR90_r / (0.396 * size), so the image spans about twice
// the Petrosian R90 radius; 15" / size when petroR90_r is absent, non-finite or <= 0.
double auto_scale(std::optional<double> petro_r90_arcsec, int size);

// Reads the catalog: an id column (objID, objid or id), ra and dec in degrees,
// and for --scale auto optionally petroR90_r (arcsec). Throws naming file:line
// for a missing column, a non-numeric or out-of-range coordinate (ra outside
// [0, 360), dec outside [-90, 90]), an id that is not a safe file name, or a
// repeated id.
std::vector<CutoutItem> read_cutout_catalog(const std::filesystem::path& path, const ScaleChoice& scale, int size);

// <base_url>/<release>/SkyServerWS/ImgCutout/getjpeg?ra=..&dec=..&scale=..&width=size&height=size
std::string cutout_url(std::string_view base_url, std::string_view release, const CutoutItem& item, int size);

// Checks that bytes hold a complete JPEG (SOI at the start, EOI at the end,
// decodable) of size x size with 3 channels, and that it is not blank (one
// flat colour, what the service returns outside the survey footprint).
// Returns an empty string when valid, else the reason.
std::string check_cutout_jpeg(std::string_view bytes, int size);
// What to do with one finished cutout transfer: write it (error empty), retry
// it (transient: timeouts, connection errors, 408/429/5xx, HTML or incomplete
// bodies) or give up (wrong-size or blank images, other 4xx, bad URLs); and,
// for a 429 or 503 with Retry-After, how long no request may start (pause_s).
struct CutoutVerdict {
  std::string error;  // empty: a valid cutout
  bool transient = false;
  std::optional<double> pause_s;
};
CutoutVerdict judge_cutout_response(const HttpResponse& response, int size);

// Cheaper check for files already on disk (written only after a full check):
// JPEG markers at both ends and the header's width, height and channels.
bool existing_cutout_valid(const std::filesystem::path& path, int size);

struct DownloadOptions {
  std::filesystem::path out_dir;
  std::string base_url = "https://skyserver.sdss.org";
  std::string release = "DR16";
  int size = 128;
  int jobs = 8;                  // transfers at once
  double rate_per_s = 10;        // request starts per second, all transfers together (<= 0: unlimited)
  double timeout_s = 60;         // whole transfer
  double connect_timeout_s = 15;
  RetryPolicy retry;
  std::FILE* progress = nullptr;  // where the progress goes (nullptr: silent)
  bool progress_interactive = false;
  double progress_interval_s = 5;
  const std::atomic<bool>* cancel = nullptr;  // set (e.g. by SIGINT) to stop early
  std::uint64_t seed = 0;                     // jitter; 0 = from the clock
};

struct FailedItem {
  std::string id, url, error;
  int attempts = 0;
};

struct DownloadSummary {
  std::size_t total = 0;      // catalog rows
  std::size_t skipped = 0;    // already present and valid
  std::size_t downloaded = 0;
  std::size_t requests = 0;   // HTTP requests sent, retries included
  std::vector<FailedItem> failed;
  bool cancelled = false;
  double elapsed_s = 0;
};

// Downloads every item into options.out_dir/<id>.jpg. Transient failures
// (timeouts, connection errors, 408/429/5xx, HTML or incomplete bodies) are
// retried with backoff; a Retry-After on 429/503 delays that item and pauses
// every new request until it has passed. Wrong-size or blank images and other
// 4xx are permanent. Writes options.out_dir/failed.csv (id,url,attempts,error;
// only the header when nothing failed) atomically. Stale temporary files of
// earlier killed runs are removed first: one download per folder at a time.
DownloadSummary download_cutouts(const std::vector<CutoutItem>& items, const DownloadOptions& options);

// The slowest rate accepted: one request per hour (slower would never finish).
inline constexpr double kMinRatePerSecond = 1.0 / 3600.0;
// Parses "10", "10/s", "600/min", "36000/h" into requests per second; 0 is
// unlimited, other rates below kMinRatePerSecond are refused.
double parse_rate(std::string_view text);

}  // namespace gcnn::sdss
