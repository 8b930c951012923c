// A small RAII layer over libcurl: an easy handle (one transfer, its body and
// headers), a multi handle (many transfers at once, shared connection cache),
// URL encoding, and the retry classification shared by `gcnn query` and
// `gcnn download` (what is worth retrying and how long to wait).
#pragma once

#include <curl/curl.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace gcnn::sdss {

// Result of one HTTP transfer. curl_code is CURLE_OK when an HTTP response
// arrived completely (whatever its status); otherwise curl_error says why.
struct HttpResponse {
  CURLcode curl_code = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string content_type;
  std::optional<double> retry_after_s;  // from a Retry-After header
  std::string body;

  bool transport_ok() const { return curl_code == CURLE_OK; }
};

// The longest wait a Retry-After may impose: longer ones are cut to this, so a
// server asking for years neither hangs a download nor overflows the clock.
inline constexpr double kMaxRetryAfterSeconds = 3600;

// Seconds from a Retry-After value: delta-seconds ("120") or an HTTP date
// (RFC 9110, section 10.2.3), in [0, kMaxRetryAfterSeconds]. nullopt when it
// is neither.
std::optional<double> parse_retry_after(std::string_view value);

// Encodes a query-string value compactly (SQL goes into a URL): RFC 3986
// unreserved characters and , ( ) * ! ' : / @ stay, a space becomes '+'
// (form encoding), everything else is percent-encoded.
std::string query_encode(std::string_view text);

// Throws an InputError naming --base-url unless url is http:// or https://
// (libcurl would also read file://, ftp://, ... URLs).
void check_base_url(std::string_view url);

// One easy handle with the body and the headers we read collected into an
// HttpResponse. Reused across requests so that curl keeps its connection.
class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  CURL* get() const { return handle_; }
  // Prepares a GET of url: total timeout, connect timeout, redirects, user agent.
  void prepare_get(const std::string& url, double timeout_s, double connect_timeout_s);
  // Fills status, content type and the transfer result after the transfer ended.
  HttpResponse& finish(CURLcode code);
  // Runs the prepared transfer in this thread (curl_easy_perform).
  HttpResponse& perform();

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  static size_t on_header(char* data, size_t size, size_t count, void* self);

  CURL* handle_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
  HttpResponse response_;
};

// A multi handle: transfers added here run concurrently on one thread.
class CurlMulti {
 public:
  explicit CurlMulti(long max_connections);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  void add(CurlEasy& easy);
  void remove(CurlEasy& easy);
  // Drives transfers; returns the number still running.
  int perform();
  // Waits for socket activity, at most timeout_ms.
  void poll(int timeout_ms);
  // Next finished transfer (its easy handle and result), if any.
  bool next_done(CURL*& easy, CURLcode& code);

 private:
  CURLM* handle_ = nullptr;
};

// Retry policy: which outcomes are transient and the backoff between attempts.
struct RetryPolicy {
  int retries = 5;              // attempts after the first
  double backoff_base_s = 1.0;  // first delay; doubles each attempt
  double backoff_max_s = 60.0;  // cap on the exponential part
};

// True for transport failures that may pass: timeouts, refused or reset
// connections, partial bodies, name resolution. False for malformed URLs,
// unsupported protocols, TLS certificate problems and the like.
bool is_transient_curl_error(CURLcode code);
// True for HTTP statuses worth retrying: 408, 429 and every 5xx.
bool is_transient_http_status(long status);

// Delay before attempt `attempt` (1 = first retry): "equal jitter"
// exponential backoff, uniform in [d/2, d] with d = min(max, base * 2^(attempt-1)),
// and never less than the server's Retry-After.
double retry_delay_s(const RetryPolicy& policy, int attempt, std::optional<double> retry_after_s,
                     std::mt19937_64& rng);

// The HTML <title> or the first text of an HTML or plain-text body, tags
// removed and whitespace collapsed, at most max_chars: for error messages.
std::string summarize_body(std::string_view body, std::size_t max_chars = 300);

// Ensures curl_global_init ran once in this process.
void ensure_curl_initialized();

}  // namespace gcnn::sdss
