// Cutout catalog validation, URL construction, JPEG acceptance checks and the
// concurrent download loop (curl multi + token bucket + retry schedule).
#include "data/sdss/download.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <unordered_set>

#include "data/csv.h"
#include "data/image.h"
#include "data/sdss/progress.h"
#include "kernels/error.h"

namespace gcnn::sdss {
namespace fs = std::filesystem;

ScaleChoice parse_scale(std::string_view text) {
  if (text == "auto") return {true, 0};
  double value = 0;
  GCNN_CHECK(parse_finite_double(text, value) && value > 0,
             "--scale '{}': expected 'auto' or a positive number of arcsec per pixel", text);
  return {false, value};
}

double auto_scale(std::optional<double> petro_r90_arcsec, int size) {
  if (petro_r90_arcsec && std::isfinite(*petro_r90_arcsec) && *petro_r90_arcsec > 0)
    return 2.0 * *petro_r90_arcsec / (kSdssPixelArcsec * size);
  return kFallbackFieldArcsec / size;
}

namespace {

int find_column(const CsvTable& table, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    for (std::size_t i = 0; i < table.header.size(); ++i) {
      const std::string& h = table.header[i];
      if (h.size() == name.size() &&
          std::equal(h.begin(), h.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return static_cast<int>(i);
    }
  }
  return -1;
}

bool safe_file_stem(std::string_view id) {
  if (id.empty() || id.size() > 200 || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

std::vector<CutoutItem> read_cutout_catalog(const fs::path& path, const ScaleChoice& scale, int size) {
  GCNN_CHECK(size >= kMinCutoutSize && size <= kMaxCutoutSize, "--size {}: the cutout service takes {}..{} pixels",
             size, kMinCutoutSize, kMaxCutoutSize);
  CsvTable table = read_csv(path);
  const std::string& src = table.source;
  int id_col = find_column(table, {"objID", "id"});
  GCNN_CHECK(id_col >= 0, "{}:1: no id column (objID or id) in the header", src);
  int ra_col = find_column(table, {"ra"});
  int dec_col = find_column(table, {"dec"});
  GCNN_CHECK(ra_col >= 0 && dec_col >= 0, "{}:1: the header needs 'ra' and 'dec' columns (degrees)", src);
  int r90_col = scale.automatic ? find_column(table, {"petroR90_r"}) : -1;

  std::vector<CutoutItem> items;
  items.reserve(table.rows.size());
  std::unordered_set<std::string> seen;
  for (const CsvRow& row : table.rows) {
    CutoutItem item;
    item.line = row.line;
    item.id = row.fields[id_col];
    GCNN_CHECK(safe_file_stem(item.id), "{}:{}: id '{}' is not usable as a file name (letters, digits, _ - .)", src,
               row.line, item.id);
    GCNN_CHECK(seen.insert(item.id).second, "{}:{}: id '{}' appears twice", src, row.line, item.id);
    GCNN_CHECK(parse_finite_double(row.fields[ra_col], item.ra), "{}:{}: ra '{}' is not a number", src, row.line,
               row.fields[ra_col]);
    GCNN_CHECK(parse_finite_double(row.fields[dec_col], item.dec), "{}:{}: dec '{}' is not a number", src,
               row.line, row.fields[dec_col]);
    GCNN_CHECK(item.ra >= 0 && item.ra < 360, "{}:{}: ra {} outside [0, 360) degrees", src, row.line, item.ra);
    GCNN_CHECK(item.dec >= -90 && item.dec <= 90, "{}:{}: dec {} outside [-90, 90] degrees", src, row.line,
               item.dec);
    if (scale.automatic) {
      std::optional<double> r90;
      double value = 0;
      if (r90_col >= 0 && parse_finite_double(row.fields[r90_col], value)) r90 = value;
      item.scale = auto_scale(r90, size);
    } else {
      item.scale = scale.arcsec_per_pixel;
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string cutout_url(std::string_view base_url, std::string_view release, const CutoutItem& item, int size) {
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  // Documented REST resource of the SkyServer image cutout service:
  // /<release>/SkyServerWS/ImgCutout/getjpeg with ra, dec (degrees), scale
  // (arcsec/pixel), width and height (pixels); returns a gri colour JPEG.
  return fmt::format("{}/{}/SkyServerWS/ImgCutout/getjpeg?ra={}&dec={}&scale={}&width={}&height={}", base_url,
                     release, item.ra, item.dec, item.scale, size, size);
}

namespace {

struct JpegVerdict {
  std::string reason;  // empty: accepted
  bool transient = false;
};

bool has_jpeg_markers(std::string_view bytes) {
  while (!bytes.empty() && (bytes.back() == '\0' || std::isspace(static_cast<unsigned char>(bytes.back()))))
    bytes.remove_suffix(1);
  return bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[bytes.size() - 2]) == 0xFF &&
         static_cast<unsigned char>(bytes[bytes.size() - 1]) == 0xD9;
}

bool looks_like_html(std::string_view content_type, std::string_view body) {
  if (content_type.find("html") != std::string_view::npos) return true;
  std::size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  return i < body.size() && body[i] == '<';
}

JpegVerdict judge_jpeg(std::string_view bytes, int size) {
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0xFF ||
      static_cast<unsigned char>(bytes[1]) != 0xD8)
    return {fmt::format("not a JPEG ({} bytes: {})", bytes.size(), summarize_body(bytes, 120)), true};
  if (!has_jpeg_markers(bytes)) return {fmt::format("incomplete JPEG ({} bytes, no end marker)", bytes.size()), true};
  // The header's size first: a body claiming a huge image must not allocate it.
  JpegHeader header;
  try {
    header = read_jpeg_header(bytes, "cutout");
  } catch (const Error& e) {
    return {fmt::format("undecodable JPEG header: {}", e.what()), true};
  }
  if (header.width != size || header.height != size || !header.color)
    return {fmt::format("JPEG is {}x{}{}, expected {}x{} colour", header.width, header.height,
                        header.color ? "" : fmt::format(" {}", header.colorspace), size, size),
            false};
  Image image;
  try {
    image = decode_image(bytes, "cutout.jpg");
  } catch (const Error& e) {
    return {fmt::format("undecodable JPEG: {}", e.what()), true};
  }
  auto [lo, hi] = std::minmax_element(image.pixels.begin(), image.pixels.end());
  if (*hi - *lo <= 2) return {fmt::format("blank image (every pixel {}): outside the survey footprint?", *lo), false};
  return {};
}

}  // namespace

std::string check_cutout_jpeg(std::string_view bytes, int size) { return judge_jpeg(bytes, size).reason; }

CutoutVerdict judge_cutout_response(const HttpResponse& r, int size) {
  CutoutVerdict verdict;
  if (!r.transport_ok()) {
    verdict.error = fmt::format("{} ({})", r.curl_error, curl_easy_strerror(r.curl_code));
    verdict.transient = is_transient_curl_error(r.curl_code);
    return verdict;
  }
  if (r.status != 200) {
    verdict.error = fmt::format("HTTP {}: {}", r.status, summarize_body(r.body, 160));
    verdict.transient = is_transient_http_status(r.status);
    if ((r.status == 429 || r.status == 503) && r.retry_after_s) verdict.pause_s = r.retry_after_s;
  } else if (looks_like_html(r.content_type, r.body)) {
    verdict.error = fmt::format("HTML page with status 200 instead of a JPEG: {}", summarize_body(r.body, 160));
    verdict.transient = true;
  } else {
    JpegVerdict jpeg = judge_jpeg(r.body, size);
    verdict.error = std::move(jpeg.reason);
    verdict.transient = jpeg.transient;
  }
  return verdict;
}

bool existing_cutout_valid(const fs::path& path, int size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (!has_jpeg_markers(bytes)) return false;
  try {
    const JpegHeader header = read_jpeg_header(bytes, path.string());
    return header.width == size && header.height == size && header.color;
  } catch (const Error&) {
    return false;
  }
}

double parse_rate(std::string_view text) {
  std::string_view number = text;
  double per = 1.0;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    number = text.substr(0, slash);
    std::string_view unit = text.substr(slash + 1);
    if (unit == "s") per = 1.0;
    else if (unit == "min") per = 60.0;
    else if (unit == "h") per = 3600.0;
    else GCNN_INPUT_FAIL("--rate '{}': unit must be /s, /min or /h", text);
  }
  double value = 0;
  GCNN_INPUT_CHECK(parse_finite_double(number, value) && value >= 0,
                   "--rate '{}': expected a non-negative number of requests, e.g. 10/s (0 = unlimited)", text);
  GCNN_INPUT_CHECK(value == 0 || value / per >= kMinRatePerSecond,
                   "--rate '{}': below the minimum of 1/h (one request per hour); use 0 for unlimited", text);
  return value / per;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Global request rate: one token per request, refilled at `rate` per second,
// holding at most one, so request starts are spaced by at least 1/rate.
class TokenBucket {
 public:
  explicit TokenBucket(double rate) : rate_(rate) {}
  bool take(Clock::time_point now) {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  double wait_s(Clock::time_point now) {
    if (rate_ <= 0) return 0;
    refill(now);
    return tokens_ >= 1.0 ? 0.0 : (1.0 - tokens_) / rate_;
  }

 private:
  void refill(Clock::time_point now) {
    tokens_ = std::min(1.0, tokens_ + seconds_between(last_, now) * rate_);
    last_ = now;
  }
  double rate_;
  double tokens_ = 1.0;
  Clock::time_point last_ = Clock::now();
};

struct Job {
  const CutoutItem* item = nullptr;
  std::string url;
  int attempts = 0;
};

void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    // write_file_atomic's temporary names: .<name>.tmp.<pid>
    if (name.starts_with('.') && (name.find(".jpg.tmp.") != std::string::npos ||
                                  name.find(".csv.tmp.") != std::string::npos)) {
      std::error_code ignore;
      fs::remove(entry.path(), ignore);
    }
  }
}

void write_failed_csv(const fs::path& path, const std::vector<FailedItem>& failed) {
  std::string text = csv_line({"id", "url", "attempts", "error"});
  for (const FailedItem& f : failed) text += csv_line({f.id, f.url, std::to_string(f.attempts), f.error});
  write_file_atomic(path, text);
}

}  // namespace

DownloadSummary download_cutouts(const std::vector<CutoutItem>& items, const DownloadOptions& options) {
  check_base_url(options.base_url);
  GCNN_CHECK(options.jobs >= 1, "--jobs {}: need at least 1", options.jobs);
  GCNN_CHECK(options.timeout_s > 0, "--timeout {}: must be positive", options.timeout_s);
  GCNN_CHECK(options.retry.retries >= 0, "--retries {}: must be >= 0", options.retry.retries);
  auto start = Clock::now();
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  GCNN_CHECK(!ec, "{}: cannot create output directory: {}", options.out_dir.string(), ec.message());
  remove_stale_temporaries(options.out_dir);

  DownloadSummary summary;
  summary.total = items.size();
  std::vector<Job> jobs;
  jobs.reserve(items.size());
  for (const CutoutItem& item : items) {
    if (existing_cutout_valid(options.out_dir / (item.id + ".jpg"), options.size)) {
      ++summary.skipped;
      continue;
    }
    jobs.push_back({&item, cutout_url(options.base_url, options.release, item, options.size), 0});
  }

  std::deque<Job*> ready;
  for (Job& job : jobs) ready.push_back(&job);
  std::multimap<Clock::time_point, Job*> retry_at;
  // Declared before the easy handles so that, if an error unwinds the loop,
  // each easy handle leaves the multi handle (curl_easy_cleanup does that)
  // before the multi handle is cleaned up.
  CurlMulti multi(options.jobs);
  std::vector<std::unique_ptr<CurlEasy>> handles;
  std::map<CURL*, std::pair<CurlEasy*, Job*>> active;
  std::vector<CurlEasy*> idle;
  for (int i = 0; i < options.jobs; ++i) {
    handles.push_back(std::make_unique<CurlEasy>());
    idle.push_back(handles.back().get());
  }
  TokenBucket bucket(options.rate_per_s);
  std::mt19937_64 rng(options.seed ? options.seed
                                   : static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
  ProgressBar progress(options.progress, options.progress_interactive, options.progress_interval_s);
  ProgressCounts counts;
  counts.total = jobs.size();
  // A Retry-After on 429 or 503 speaks for the whole client: no request
  // starts before it has passed, whichever item it came with.
  Clock::time_point paused_until{};

  auto finish_job = [&](Job* job, CurlEasy* easy, CURLcode code) {
    const HttpResponse& r = easy->finish(code);
    const CutoutVerdict verdict = judge_cutout_response(r, options.size);
    if (verdict.error.empty()) {
      write_file_atomic(options.out_dir / (job->item->id + ".jpg"), r.body);
      ++summary.downloaded;
      ++counts.done;
      return;
    }
    if (verdict.pause_s) {
      paused_until = std::max(paused_until, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                               std::chrono::duration<double>(*verdict.pause_s)));
    }
    if (verdict.transient && job->attempts <= options.retry.retries) {
      double delay = retry_delay_s(options.retry, job->attempts, r.retry_after_s, rng);
      retry_at.emplace(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(delay)),
                       job);
      ++counts.retrying;
      return;
    }
    summary.failed.push_back({job->item->id, job->url, verdict.error, job->attempts});
    ++counts.failed;
  };

  while (true) {
    if (options.cancel && options.cancel->load()) {
      summary.cancelled = true;
      break;
    }
    auto now = Clock::now();
    while (!retry_at.empty() && retry_at.begin()->first <= now) {
      ready.push_back(retry_at.begin()->second);
      retry_at.erase(retry_at.begin());
      --counts.retrying;
    }
    while (now >= paused_until && !idle.empty() && !ready.empty() && bucket.take(now)) {
      Job* job = ready.front();
      ready.pop_front();
      CurlEasy* easy = idle.back();
      idle.pop_back();
      easy->prepare_get(job->url, options.timeout_s, options.connect_timeout_s);
      ++job->attempts;
      ++summary.requests;
      multi.add(*easy);
      active[easy->get()] = {easy, job};
    }
    if (active.empty() && ready.empty() && retry_at.empty()) break;

    multi.perform();
    CURL* done = nullptr;
    CURLcode code = CURLE_OK;
    while (multi.next_done(done, code)) {
      auto it = active.find(done);
      GCNN_CHECK(it != active.end(), "curl reported an unknown transfer");
      auto [easy, job] = it->second;
      multi.remove(*easy);
      active.erase(it);
      idle.push_back(easy);
      finish_job(job, easy, code);
    }
    progress.update(counts);

    // Sleep until socket activity or the next scheduled event, at most 100 ms.
    double wait = 0.1;
    now = Clock::now();
    if (!ready.empty() && !idle.empty())
      wait = std::min(wait, std::max(bucket.wait_s(now), seconds_between(now, paused_until)));
    if (!retry_at.empty()) wait = std::min(wait, std::max(0.0, seconds_between(now, retry_at.begin()->first)));
    if (wait > 0 || !active.empty()) multi.poll(static_cast<int>(std::ceil(wait * 1000)));
  }
  for (auto& [handle, entry] : active) multi.remove(*entry.first);
  progress.finish(counts);

  write_failed_csv(options.out_dir / "failed.csv", summary.failed);
  summary.elapsed_s = seconds_between(start, Clock::now());
  return summary;
}

}  // namespace gcnn::sdss
