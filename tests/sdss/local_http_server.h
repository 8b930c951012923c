// Test support: a small HTTP/1.1 server on 127.0.0.1 (ephemeral port) run by
// the tests in-process. A handler decides each reply from the request and how
// many times that exact target was asked for, which lets tests inject faults:
// error statuses, Retry-After, stalls, truncated bodies, connection resets.
// The server counts requests and the most requests in flight at once.
// Also: test JPEG makers and a temporary folder removed at scope exit.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gcnn::testing {

struct HttpRequest {
  std::string target;  // path?query as sent
  std::string path;
  std::map<std::string, std::string> query;  // percent-decoded parameters
  int attempt = 1;                           // 1 + earlier requests for the same target
};

struct HttpReply {
  enum class Action {
    respond,            // a complete response (keep-alive)
    stall,              // say nothing until the client gives up
    truncate,           // Content-Length of the whole body, then half of it and close
    truncate_unframed,  // no Content-Length, half of the body, close (looks complete to HTTP)
    reset,              // close with a TCP reset before answering
  };
  Action action = Action::respond;
  int status = 200;
  std::string content_type = "image/jpeg";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  double delay_s = 0;  // wait this long before answering (simulated latency)
};

class LocalHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;
  explicit LocalHttpServer(Handler handler);
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  std::string base_url() const;  // http://127.0.0.1:<port>
  int requests() const { return requests_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  int connections() const { return connections_.load(); }
  // Seconds since server start at which each request arrived, per target.
  std::map<std::string, std::vector<double>> arrivals() const;
  void reset_counters();

 private:
  void accept_loop();
  void serve(int fd);
  bool wait_or_stop(double seconds, int fd_to_watch);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0}, in_flight_{0}, max_in_flight_{0}, connections_{0};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<double>> arrivals_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// A size x size colour JPEG with a gradient and noise (never blank).
std::string make_test_jpeg(int width, int height, unsigned seed);
// A flat one-colour JPEG (what the cutout service sends outside the footprint).
std::string make_blank_jpeg(int width, int height);

// A fresh, empty folder under the system temporary directory (name and process
// id in its name), removed with everything in it at scope exit.
struct ScopedTempDir {
  explicit ScopedTempDir(const std::string& name);
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  std::filesystem::path path;
};

}  // namespace gcnn::testing
