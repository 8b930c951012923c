// Fuzz target: the downloader's handling of one HTTP response (data/sdss
// judge_cutout_response, parse_retry_after, retry_delay_s). The input is laid
// out as: 2 bytes HTTP status (mod 1000), 1 byte curl result code (mod 100),
// 1 byte n + n bytes Content-Type, 1 byte m + m bytes Retry-After header value,
// then the body. Invariants: a response is accepted only when it is an HTTP
// 200 whose body is a 64x64 colour JPEG that decodes and is not blank; every
// non-200 and every transport error is refused with its status or error named,
// transient exactly for the retryable ones; waits (Retry-After, pauses, retry
// delays) are finite and at most kMaxRetryAfterSeconds or the backoff cap.
#include <algorithm>
#include <cmath>
#include <random>

#include "data/image.h"
#include "data/sdss/download.h"
#include "data/sdss/http.h"
#include "tests/fuzz/fuzz_support.h"

namespace gcnn::fuzz {
namespace {

constexpr int kCutoutSize = 64;

// The next n bytes of input (fewer at its end).
std::string_view take(std::string_view& input, std::size_t n) {
  const std::string_view out = input.substr(0, std::min(n, input.size()));
  input.remove_prefix(out.size());
  return out;
}
unsigned take_byte(std::string_view& input) {
  const std::string_view b = take(input, 1);
  return b.empty() ? 0u : static_cast<unsigned char>(b[0]);
}

}  // namespace

void download_response(std::string_view input) {
  sdss::HttpResponse r;
  const unsigned status_high = take_byte(input);
  r.status = static_cast<long>((status_high << 8 | take_byte(input)) % 1000);
  r.curl_code = static_cast<CURLcode>(take_byte(input) % 100);
  if (!r.transport_ok()) r.curl_error = "transfer failed";
  const unsigned type_length = take_byte(input);
  r.content_type = std::string(take(input, type_length));
  const unsigned retry_after_length = take_byte(input);
  const std::string_view retry_after = take(input, retry_after_length);
  r.retry_after_s = sdss::parse_retry_after(retry_after);
  r.body = std::string(input);
  if (r.retry_after_s)
    FUZZ_REQUIRE(*r.retry_after_s >= 0 && *r.retry_after_s <= sdss::kMaxRetryAfterSeconds,
                 "Retry-After '{}' gave {} s", retry_after, *r.retry_after_s);

  const sdss::CutoutVerdict verdict = sdss::judge_cutout_response(r, kCutoutSize);
  if (!r.transport_ok()) {
    FUZZ_REQUIRE(!verdict.error.empty() && verdict.transient == sdss::is_transient_curl_error(r.curl_code),
                 "curl code {}: '{}', transient {}", static_cast<int>(r.curl_code), verdict.error, verdict.transient);
  } else if (r.status != 200) {
    FUZZ_REQUIRE(verdict.error.starts_with(fmt::format("HTTP {}", r.status)) &&
                     verdict.transient == sdss::is_transient_http_status(r.status),
                 "status {}: '{}', transient {}", r.status, verdict.error, verdict.transient);
  }
  if (verdict.error.empty()) {
    FUZZ_REQUIRE(r.transport_ok() && r.status == 200, "accepted with status {}", r.status);
    const Image image =
        must_accept("an accepted cutout", [&] { return decode_image(r.body, "cutout.jpg"); });
    FUZZ_REQUIRE(image.width == kCutoutSize && image.height == kCutoutSize, "accepted a {}x{} cutout", image.width,
                 image.height);
    const auto [lo, hi] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    FUZZ_REQUIRE(*hi - *lo > 2, "accepted a blank cutout");
  }
  if (verdict.pause_s)
    FUZZ_REQUIRE((r.status == 429 || r.status == 503) && *verdict.pause_s >= 0 &&
                     *verdict.pause_s <= sdss::kMaxRetryAfterSeconds,
                 "pause of {} s after status {}", *verdict.pause_s, r.status);
  const sdss::RetryPolicy policy;
  std::mt19937_64 rng(1);
  for (int attempt = 1; attempt <= 40; attempt += 13) {
    const double delay = sdss::retry_delay_s(policy, attempt, r.retry_after_s, rng);
    FUZZ_REQUIRE(std::isfinite(delay) && delay >= 0 &&
                     delay <= std::max(policy.backoff_max_s, sdss::kMaxRetryAfterSeconds),
                 "retry delay {} s at attempt {}", delay, attempt);
  }
}

}  // namespace gcnn::fuzz

GCNN_FUZZ_TARGET(gcnn::fuzz::download_response)
