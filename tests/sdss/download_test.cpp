// gcnn download library: catalog validation, scale and URL rules, JPEG
// acceptance, and the download loop against a loopback server that injects
// faults (statuses, Retry-After, stalls, truncation, resets, bad images).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <unistd.h>

#include <fmt/format.h>

#include "data/csv.h"
#include "data/sdss/download.h"
#include "kernels/error.h"
#include "tests/sdss/local_http_server.h"

namespace fs = std::filesystem;
using gcnn::testing::HttpReply;
using gcnn::testing::HttpRequest;
using gcnn::testing::LocalHttpServer;
using namespace gcnn::sdss;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const gcnn::Error& e) {
    return e.what();
  }
  return "";
}

// Items whose ra encodes their index (ra = 10 + i), so the server knows which is asked.
std::vector<CutoutItem> numbered_items(int n, int size) {
  std::vector<CutoutItem> items;
  for (int i = 0; i < n; ++i) items.push_back({fmt::format("g{}", i), 10.0 + i, 1.5, 15.0 / size, 0});
  return items;
}

int index_of(const HttpRequest& request) { return static_cast<int>(std::stod(request.query.at("ra"))) - 10; }

HttpReply jpeg_reply(const HttpRequest& request, int size) {
  HttpReply reply;
  reply.body = gcnn::testing::make_test_jpeg(size, size, static_cast<unsigned>(index_of(request)));
  return reply;
}

DownloadOptions fast_options(const fs::path& dir, const LocalHttpServer& server, int size) {
  DownloadOptions o;
  o.out_dir = dir;
  o.base_url = server.base_url();
  o.size = size;
  o.jobs = 4;
  o.rate_per_s = 0;
  o.timeout_s = 2.0;
  o.connect_timeout_s = 2.0;
  o.retry = {3, 0.01, 0.05};
  o.seed = 7;
  return o;
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

}  // namespace

TEST(SdssCatalog, ReadsIdsCoordinatesAndScales) {
  gcnn::testing::ScopedTempDir scoped("catalog_ok");
  const fs::path& dir = scoped.path;
  write_text(dir / "c.csv", "objID,ra,dec,petroR90_r\n1237,10.5,-3.25,12.5\n1238,359.9,89.5,\n1239,0,-90,nan\n");
  auto items = read_cutout_catalog(dir / "c.csv", parse_scale("auto"), 128);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].id, "1237");
  EXPECT_DOUBLE_EQ(items[0].ra, 10.5);
  EXPECT_DOUBLE_EQ(items[0].dec, -3.25);
  EXPECT_DOUBLE_EQ(items[0].scale, 2 * 12.5 / (0.396 * 128));  // twice R90 across the image
  EXPECT_DOUBLE_EQ(items[1].scale, 15.0 / 128);                 // empty petroR90_r: 15" field
  EXPECT_DOUBLE_EQ(items[2].scale, 15.0 / 128);                 // non-finite petroR90_r
  EXPECT_EQ(items[2].line, 4u);

  auto fixed = read_cutout_catalog(dir / "c.csv", parse_scale("0.2"), 64);
  EXPECT_DOUBLE_EQ(fixed[0].scale, 0.2);
  write_text(dir / "noradius.csv", "id,RA,Dec\nabc,1,2\n");  // no petroR90_r column; names in any case
  EXPECT_DOUBLE_EQ(read_cutout_catalog(dir / "noradius.csv", parse_scale("auto"), 64)[0].scale, 15.0 / 64);
}

TEST(SdssCatalog, BadCatalogsNameFileAndLine) {
  gcnn::testing::ScopedTempDir scoped("catalog_bad");
  const fs::path& dir = scoped.path;
  auto check = [&](const std::string& name, const std::string& text, const std::string& expected) {
    write_text(dir / name, text);
    std::string error = error_of([&] { read_cutout_catalog(dir / name, parse_scale("auto"), 128); });
    EXPECT_NE(error.find(name + ":" + expected), std::string::npos) << error;
  };
  check("nora.csv", "objID,dec\n1,2\n", "1: the header needs 'ra' and 'dec'");
  check("nodec.csv", "objID,ra\n1,2\n", "1: the header needs 'ra' and 'dec'");
  check("noid.csv", "ra,dec\n1,2\n", "1: no id column");
  check("text.csv", "objID,ra,dec\n1,1,2\n2,abc,3\n", "3: ra 'abc' is not a number");
  check("decnum.csv", "objID,ra,dec\n1,1,north\n", "2: dec 'north' is not a number");
  check("dec.csv", "objID,ra,dec\n1,1,2\n2,3,4\n3,5,95\n", "4: dec 95 outside [-90, 90]");
  check("decneg.csv", "objID,ra,dec\n1,1,-90.5\n", "2: dec -90.5 outside");
  check("ra.csv", "objID,ra,dec\n1,360,0\n", "2: ra 360 outside [0, 360)");
  check("raneg.csv", "objID,ra,dec\n1,-1,0\n", "2: ra -1 outside");
  check("dup.csv", "objID,ra,dec\n1,1,0\n1,2,0\n", "3: id '1' appears twice");
  check("path.csv", "objID,ra,dec\n../x,1,0\n", "2: id '../x' is not usable as a file name");
  EXPECT_NE(error_of([&] { read_cutout_catalog(dir / "dec.csv", parse_scale("auto"), 32); }).find("--size 32"),
            std::string::npos);
}

TEST(SdssDownloadRules, ScaleRateAndUrl) {
  EXPECT_TRUE(parse_scale("auto").automatic);
  EXPECT_DOUBLE_EQ(parse_scale("0.396").arcsec_per_pixel, 0.396);
  EXPECT_THROW(parse_scale("-1"), gcnn::Error);
  EXPECT_THROW(parse_scale("big"), gcnn::Error);
  EXPECT_DOUBLE_EQ(auto_scale(20.0, 128), 40.0 / (0.396 * 128));
  EXPECT_DOUBLE_EQ(auto_scale(std::nullopt, 128), 15.0 / 128);
  EXPECT_DOUBLE_EQ(auto_scale(-9999.0, 100), 0.15);
  EXPECT_DOUBLE_EQ(parse_rate("10/s"), 10);
  EXPECT_DOUBLE_EQ(parse_rate("5"), 5);
  EXPECT_DOUBLE_EQ(parse_rate("120/min"), 2);
  EXPECT_DOUBLE_EQ(parse_rate("7200/h"), 2);
  EXPECT_DOUBLE_EQ(parse_rate("0"), 0);
  EXPECT_THROW(parse_rate("10/day"), gcnn::Error);
  CutoutItem item{"1", 180.25, -0.5, 0.25, 2};
  EXPECT_EQ(cutout_url("https://skyserver.sdss.org/", "DR16", item, 128),
            "https://skyserver.sdss.org/DR16/SkyServerWS/ImgCutout/getjpeg?ra=180.25&dec=-0.5&scale=0.25&width=128"
            "&height=128");
}

TEST(SdssDownloadRules, RetryDelaysAndRetryAfter) {
  RetryPolicy policy{5, 1.0, 8.0};
  std::mt19937_64 rng(1);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    double cap = std::min(8.0, std::ldexp(1.0, attempt - 1));
    for (int k = 0; k < 50; ++k) {
      double d = retry_delay_s(policy, attempt, std::nullopt, rng);
      EXPECT_GE(d, cap / 2);
      EXPECT_LE(d, cap);
    }
  }
  EXPECT_GE(retry_delay_s(policy, 1, 30.0, rng), 30.0);  // Retry-After wins when longer
  EXPECT_EQ(parse_retry_after(" 120 "), 120.0);
  EXPECT_FALSE(parse_retry_after("soon").has_value());
  auto past = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT");
  ASSERT_TRUE(past.has_value());
  EXPECT_EQ(*past, 0.0);
  EXPECT_TRUE(is_transient_http_status(429));
  EXPECT_TRUE(is_transient_http_status(503));
  EXPECT_FALSE(is_transient_http_status(404));
  EXPECT_FALSE(is_transient_http_status(400));
  EXPECT_TRUE(is_transient_curl_error(CURLE_OPERATION_TIMEDOUT));
  EXPECT_FALSE(is_transient_curl_error(CURLE_URL_MALFORMAT));
}

TEST(SdssDownloadRules, AcceptsOnlyCompleteJpegsOfTheRequestedSize) {
  std::string good = gcnn::testing::make_test_jpeg(64, 64, 3);
  EXPECT_EQ(check_cutout_jpeg(good, 64), "");
  EXPECT_NE(check_cutout_jpeg(good, 128).find("64x64"), std::string::npos);
  EXPECT_NE(check_cutout_jpeg(good.substr(0, good.size() / 2), 64).find("incomplete"), std::string::npos);
  EXPECT_NE(check_cutout_jpeg("<html><title>Server Error</title></html>", 64).find("Server Error"),
            std::string::npos);
  EXPECT_NE(check_cutout_jpeg(gcnn::testing::make_blank_jpeg(64, 64), 64).find("blank"), std::string::npos);
  std::string corrupt = good;
  for (std::size_t i = 200; i < corrupt.size() - 2; ++i) corrupt[i] = static_cast<char>(0xFF);
  EXPECT_NE(check_cutout_jpeg(corrupt, 64), "");
}

TEST(SdssDownload, RetriesTransientFaultsAndListsPermanentOnes) {
  constexpr int size = 64;
  using Action = HttpReply::Action;
  LocalHttpServer server([&](const HttpRequest& r) {
    int i = index_of(r);
    HttpReply ok = jpeg_reply(r, size);
    HttpReply bad = ok;
    switch (i) {
      case 5: bad.status = 500; bad.body = "oops"; return r.attempt <= 2 ? bad : ok;
      case 6: bad.status = 503; bad.content_type = "text/html"; bad.body = "<title>busy</title>"; return r.attempt == 1 ? bad : ok;
      case 7: bad.status = 429; bad.body = "slow down"; bad.headers = {{"Retry-After", "1"}}; return r.attempt == 1 ? bad : ok;
      case 8: bad.action = Action::stall; return r.attempt == 1 ? bad : ok;
      case 9: bad.action = Action::truncate; return r.attempt == 1 ? bad : ok;
      case 10: bad.action = Action::truncate_unframed; return r.attempt == 1 ? bad : ok;
      case 11: bad.content_type = "text/html"; bad.body = "<html><title>Error page</title></html>"; return r.attempt == 1 ? bad : ok;
      case 12: bad.action = Action::reset; return r.attempt == 1 ? bad : ok;
      case 13: bad.status = 404; bad.body = "no such thing"; return bad;
      case 14: bad.body = gcnn::testing::make_test_jpeg(size * 2, size, 1); return bad;
      case 15: bad.status = 500; bad.body = "always broken"; return bad;
      case 16: bad.body = gcnn::testing::make_blank_jpeg(size, size); return bad;
      default: return ok;
    }
  });
  gcnn::testing::ScopedTempDir scoped("faults");
  const fs::path& dir = scoped.path;
  auto items = numbered_items(17, size);
  DownloadOptions options = fast_options(dir, server, size);
  options.timeout_s = 0.5;  // the stalled response times out
  DownloadSummary s = download_cutouts(items, options);

  EXPECT_EQ(s.downloaded, 13u);
  EXPECT_EQ(s.skipped, 0u);
  ASSERT_EQ(s.failed.size(), 4u);
  for (int i = 0; i <= 12; ++i) EXPECT_TRUE(existing_cutout_valid(dir / fmt::format("g{}.jpg", i), size)) << i;
  std::set<std::string> expected_files{"failed.csv"};
  for (int i = 0; i <= 12; ++i) expected_files.insert(fmt::format("g{}.jpg", i));
  EXPECT_EQ(files_in(dir), expected_files);  // no partial, invalid or temporary file

  gcnn::CsvTable failed = gcnn::read_csv(dir / "failed.csv");
  ASSERT_EQ(failed.rows.size(), 4u);
  std::map<std::string, std::string> errors;
  for (const auto& row : failed.rows) {
    errors[row.fields[failed.require_column("id")]] = row.fields[failed.require_column("error")];
    EXPECT_NE(row.fields[failed.require_column("url")].find("/SkyServerWS/ImgCutout/getjpeg?ra="), std::string::npos);
  }
  EXPECT_NE(errors["g13"].find("HTTP 404"), std::string::npos) << errors["g13"];
  EXPECT_NE(errors["g14"].find("128x64"), std::string::npos) << errors["g14"];
  EXPECT_NE(errors["g15"].find("HTTP 500: always broken"), std::string::npos) << errors["g15"];
  EXPECT_NE(errors["g16"].find("blank"), std::string::npos) << errors["g16"];

  auto arrivals = server.arrivals();
  auto attempts = [&](int i) {
    for (auto& [target, times] : arrivals)
      if (target.find(fmt::format("ra={}&", 10 + i)) != std::string::npos) return times;
    return std::vector<double>{};
  };
  EXPECT_EQ(attempts(13).size(), 1u);  // 404: no retry
  EXPECT_EQ(attempts(14).size(), 1u);  // wrong size: no retry
  EXPECT_EQ(attempts(15).size(), 4u);  // 500: first try + 3 retries
  EXPECT_EQ(attempts(5).size(), 3u);  // 500 twice, then the image
  for (int i = 6; i <= 12; ++i) EXPECT_EQ(attempts(i).size(), 2u) << i;  // one fault each, then the image
  ASSERT_EQ(attempts(7).size(), 2u);
  EXPECT_GE(attempts(7)[1] - attempts(7)[0], 0.95);  // Retry-After: 1 honoured
  // curl itself may resend a request once when a reused connection dies
  // before any answer (the reset fault), so the server can count more.
  EXPECT_GE(static_cast<std::size_t>(server.requests()), s.requests);
}

TEST(SdssDownload, RetryAfterPausesEveryRequest) {
  constexpr int size = 64;
  LocalHttpServer server([&](const HttpRequest& r) {
    HttpReply reply = jpeg_reply(r, size);
    if (index_of(r) == 0 && r.attempt == 1) {
      reply.status = 429;
      reply.body = "too many requests";
      reply.headers = {{"Retry-After", "1"}};
    }
    return reply;
  });
  gcnn::testing::ScopedTempDir scoped("retry_after");
  DownloadOptions options = fast_options(scoped.path, server, size);
  options.jobs = 1;
  DownloadSummary s = download_cutouts(numbered_items(3, size), options);
  EXPECT_EQ(s.downloaded, 3u);
  std::vector<double> starts;
  for (auto& [target, times] : server.arrivals()) starts.insert(starts.end(), times.begin(), times.end());
  ASSERT_EQ(starts.size(), 4u);
  std::sort(starts.begin(), starts.end());
  EXPECT_GE(starts[1] - starts[0], 0.95);  // the next item waited too, not only the throttled one
}

TEST(SdssDownload, ResumeFetchesOnlyWhatIsMissingOrInvalid) {
  constexpr int size = 64;
  LocalHttpServer server([&](const HttpRequest& r) { return jpeg_reply(r, size); });
  gcnn::testing::ScopedTempDir scoped("resume");
  const fs::path& dir = scoped.path;
  auto items = numbered_items(20, size);
  DownloadOptions options = fast_options(dir, server, size);
  DownloadSummary first = download_cutouts(items, options);
  ASSERT_EQ(first.downloaded, 20u);
  EXPECT_EQ(server.requests(), 20);

  for (int i : {1, 4, 9, 15, 19}) fs::remove(dir / fmt::format("g{}.jpg", i));
  fs::resize_file(dir / "g7.jpg", 100);                              // a damaged file is fetched again
  write_text(dir / ".g3.jpg.tmp.99999", "partial bytes of a killed run");  // stale temporary
  server.reset_counters();
  DownloadSummary second = download_cutouts(items, options);
  EXPECT_EQ(second.skipped, 14u);
  EXPECT_EQ(second.downloaded, 6u);
  EXPECT_EQ(server.requests(), 6);
  EXPECT_FALSE(fs::exists(dir / ".g3.jpg.tmp.99999"));
  for (const auto& item : items) EXPECT_TRUE(existing_cutout_valid(dir / (item.id + ".jpg"), size)) << item.id;

  server.reset_counters();
  DownloadSummary third = download_cutouts(items, options);
  EXPECT_EQ(third.skipped, 20u);
  EXPECT_EQ(server.requests(), 0);
}

TEST(SdssDownload, ConcurrencyNeverExceedsJobs) {
  constexpr int size = 64;
  LocalHttpServer server([&](const HttpRequest& r) {
    HttpReply reply = jpeg_reply(r, size);
    reply.delay_s = 0.05;
    return reply;
  });
  gcnn::testing::ScopedTempDir scoped("jobs");
  const fs::path& dir = scoped.path;
  DownloadOptions options = fast_options(dir, server, size);
  options.jobs = 3;
  DownloadSummary s = download_cutouts(numbered_items(24, size), options);
  EXPECT_EQ(s.downloaded, 24u);
  EXPECT_LE(server.max_in_flight(), 3);
  EXPECT_GE(server.max_in_flight(), 2);  // the transfers did overlap
  EXPECT_LE(server.connections(), 3);    // connections are reused, not one per image
}

TEST(SdssDownload, GlobalRateLimitSpacesRequestStarts) {
  constexpr int size = 64;
  LocalHttpServer server([&](const HttpRequest& r) { return jpeg_reply(r, size); });
  gcnn::testing::ScopedTempDir scoped("rate");
  const fs::path& dir = scoped.path;
  DownloadOptions options = fast_options(dir, server, size);
  options.jobs = 4;
  options.rate_per_s = 20;
  DownloadSummary s = download_cutouts(numbered_items(11, size), options);
  EXPECT_EQ(s.downloaded, 11u);
  std::vector<double> starts;
  for (auto& [target, times] : server.arrivals()) starts.insert(starts.end(), times.begin(), times.end());
  ASSERT_EQ(starts.size(), 11u);
  std::sort(starts.begin(), starts.end());
  // 11 requests at 20/s with a burst of one: at least 10 intervals of 50 ms.
  EXPECT_GE(starts.back() - starts.front(), 0.45);
}

TEST(SdssDownload, CancelStopsEarlyAndKeepsOnlyCompleteFiles) {
  constexpr int size = 64;
  std::atomic<bool> cancel{false};
  std::atomic<int> served{0};
  LocalHttpServer server([&](const HttpRequest& r) {
    if (++served == 5) cancel.store(true);
    HttpReply reply = jpeg_reply(r, size);
    reply.delay_s = 0.02;
    return reply;
  });
  gcnn::testing::ScopedTempDir scoped("cancel");
  const fs::path& dir = scoped.path;
  DownloadOptions options = fast_options(dir, server, size);
  options.jobs = 2;
  options.cancel = &cancel;
  DownloadSummary s = download_cutouts(numbered_items(40, size), options);
  EXPECT_TRUE(s.cancelled);
  EXPECT_LT(s.downloaded, 40u);
  for (const auto& name : files_in(dir)) {
    if (name == "failed.csv") continue;
    EXPECT_TRUE(existing_cutout_valid(dir / name, size)) << name;
  }
  DownloadSummary resumed = download_cutouts(numbered_items(40, size), fast_options(dir, server, size));
  EXPECT_EQ(resumed.skipped + resumed.downloaded, 40u);
  EXPECT_EQ(resumed.skipped, s.downloaded);
}
