// libcurl wrappers, URL encoding and retry classification.
#include "data/sdss/http.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <mutex>

#include "kernels/error.h"

namespace gcnn::sdss {

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    GCNN_CHECK(code == CURLE_OK, "curl_global_init failed: {}", curl_easy_strerror(code));
  });
}

std::optional<double> parse_retry_after(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    double seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return kMaxRetryAfterSeconds;
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return std::min(seconds, kMaxRetryAfterSeconds);
  }
  std::string date(value);
  time_t when = curl_getdate(date.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::clamp(std::difftime(when, std::time(nullptr)), 0.0, kMaxRetryAfterSeconds);
}

std::string query_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || std::string_view("-._~,()*!':/@").find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

CurlEasy::CurlEasy() {
  ensure_curl_initialized();
  handle_ = curl_easy_init();
  GCNN_CHECK(handle_ != nullptr, "curl_easy_init failed");
}

CurlEasy::~CurlEasy() {
  if (handle_) curl_easy_cleanup(handle_);
}

size_t CurlEasy::on_body(char* data, size_t size, size_t count, void* self) {
  static_cast<CurlEasy*>(self)->response_.body.append(data, size * count);
  return size * count;
}

size_t CurlEasy::on_header(char* data, size_t size, size_t count, void* self) {
  auto* easy = static_cast<CurlEasy*>(self);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect or 100): forget earlier headers
    easy->response_.retry_after_s.reset();
    easy->response_.body.clear();
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "retry-after") easy->response_.retry_after_s = parse_retry_after(line.substr(colon + 1));
  }
  return size * count;
}

void check_base_url(std::string_view url) {
  std::string scheme(url.substr(0, url.find("://")));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  GCNN_INPUT_CHECK(url.find("://") != std::string_view::npos && (scheme == "http" || scheme == "https"),
                   "--base-url '{}': only http:// and https:// URLs are allowed", url);
}

void CurlEasy::prepare_get(const std::string& url, double timeout_s, double connect_timeout_s) {
  response_ = HttpResponse{};
  error_[0] = '\0';
  curl_easy_setopt(handle_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle_, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(handle_, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle_, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_s * 1000));
  curl_easy_setopt(handle_, CURLOPT_USERAGENT, "gcnn/0.1 (galaxy-cnns; libcurl)");
  curl_easy_setopt(handle_, CURLOPT_ACCEPT_ENCODING, "");  // any encoding curl can decode
  curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, &CurlEasy::on_body);
  curl_easy_setopt(handle_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, &CurlEasy::on_header);
  curl_easy_setopt(handle_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(handle_, CURLOPT_PRIVATE, this);
}

HttpResponse& CurlEasy::finish(CURLcode code) {
  response_.curl_code = code;
  if (code != CURLE_OK) response_.curl_error = error_[0] ? std::string(error_) : curl_easy_strerror(code);
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &response_.status);
  char* type = nullptr;
  curl_easy_getinfo(handle_, CURLINFO_CONTENT_TYPE, &type);
  response_.content_type = type ? type : "";
  return response_;
}

HttpResponse& CurlEasy::perform() { return finish(curl_easy_perform(handle_)); }

CurlMulti::CurlMulti(long max_connections) {
  ensure_curl_initialized();
  handle_ = curl_multi_init();
  GCNN_CHECK(handle_ != nullptr, "curl_multi_init failed");
  // Bounds the open connections per host and in total; idle ones stay cached
  // and are reused by the next transfer to the same host.
  curl_multi_setopt(handle_, CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
  curl_multi_setopt(handle_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
  curl_multi_setopt(handle_, CURLMOPT_MAXCONNECTS, max_connections);
}

CurlMulti::~CurlMulti() {
  if (handle_) curl_multi_cleanup(handle_);
}

void CurlMulti::add(CurlEasy& easy) {
  CURLMcode code = curl_multi_add_handle(handle_, easy.get());
  GCNN_CHECK(code == CURLM_OK, "curl_multi_add_handle failed: {}", curl_multi_strerror(code));
}

void CurlMulti::remove(CurlEasy& easy) { curl_multi_remove_handle(handle_, easy.get()); }

int CurlMulti::perform() {
  int running = 0;
  CURLMcode code = curl_multi_perform(handle_, &running);
  GCNN_CHECK(code == CURLM_OK, "curl_multi_perform failed: {}", curl_multi_strerror(code));
  return running;
}

void CurlMulti::poll(int timeout_ms) {
  CURLMcode code = curl_multi_poll(handle_, nullptr, 0, timeout_ms, nullptr);
  GCNN_CHECK(code == CURLM_OK, "curl_multi_poll failed: {}", curl_multi_strerror(code));
}

bool CurlMulti::next_done(CURL*& easy, CURLcode& code) {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(handle_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    easy = msg->easy_handle;
    code = msg->data.result;
    return true;
  }
  return false;
}

bool is_transient_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
      return true;
    default:
      return false;
  }
}

bool is_transient_http_status(long status) { return status == 408 || status == 429 || status >= 500; }

double retry_delay_s(const RetryPolicy& policy, int attempt, std::optional<double> retry_after_s,
                     std::mt19937_64& rng) {
  double exponential = policy.backoff_base_s * std::ldexp(1.0, std::min(attempt - 1, 30));
  double capped = std::min(policy.backoff_max_s, exponential);
  double jittered = capped * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  return std::max(jittered, retry_after_s.value_or(0.0));
}

std::string summarize_body(std::string_view body, std::size_t max_chars) {
  std::string_view text = body;
  auto lower_find = [&](std::string_view needle) {
    auto it = std::search(body.begin(), body.end(), needle.begin(), needle.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
  };
  std::size_t title = lower_find("<title>");
  if (title != std::string_view::npos) {
    std::size_t end = lower_find("</title>");
    if (end != std::string_view::npos && end > title) text = body.substr(title + 7, end - title - 7);
  }
  std::string out;
  bool in_tag = false, space = false;
  for (char c : text) {
    if (c == '<') in_tag = true;
    if (!in_tag) {
      if (std::isspace(static_cast<unsigned char>(c)) || !std::isprint(static_cast<unsigned char>(c))) {
        space = !out.empty();
      } else {
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
      }
    }
    if (c == '>') in_tag = false;
    if (out.size() >= max_chars) {
      out.resize(max_chars);  // a space and a character may have been added at once
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace gcnn::sdss
