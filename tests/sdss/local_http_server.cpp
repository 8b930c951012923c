// Loopback HTTP/1.1 test server with fault injection, and test JPEG makers.
#include "tests/sdss/local_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stb_image_write.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

namespace gcnn::testing {
namespace {

std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

LocalHttpServer::LocalHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error(std::string("bind/listen on 127.0.0.1 failed: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LocalHttpServer::~LocalHttpServer() {
  stop_.store(true);
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& worker : workers_) worker.join();
  ::close(listen_fd_);
}

std::string LocalHttpServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::map<std::string, std::vector<double>> LocalHttpServer::arrivals() const {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

void LocalHttpServer::reset_counters() {
  std::lock_guard lock(mutex_);
  arrivals_.clear();
  requests_ = 0;
  max_in_flight_ = 0;
  connections_ = 0;
}

void LocalHttpServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

// Sleeps up to seconds; returns false early when the server stops or the
// watched socket is closed by the peer.
bool LocalHttpServer::wait_or_stop(double seconds, int fd) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (stop_.load()) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return false;  // peer closed
    }
  }
  return true;
}

void LocalHttpServer::serve(int fd) {
  std::string buffer;
  bool keep = true;
  while (keep && !stop_.load()) {
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 20);
      if (stop_.load()) break;
      if (ready <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        keep = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (!keep || stop_.load() || header_end == std::string::npos) break;
    std::string head = buffer.substr(0, header_end);
    buffer.erase(0, header_end + 4);

    HttpRequest request;
    std::size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    request.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) {
      std::string query = request.target.substr(q + 1);
      std::size_t pos = 0;
      while (pos <= query.size()) {
        std::size_t amp = query.find('&', pos);
        std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        std::size_t eq = pair.find('=');
        if (eq != std::string::npos) request.query[percent_decode(pair.substr(0, eq))] = percent_decode(pair.substr(eq + 1));
        if (amp == std::string::npos) break;
        pos = amp + 1;
      }
    }
    {
      std::lock_guard lock(mutex_);
      auto& times = arrivals_[request.target];
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      request.attempt = static_cast<int>(times.size());
    }
    ++requests_;
    int now_in_flight = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now_in_flight > seen && !max_in_flight_.compare_exchange_weak(seen, now_in_flight)) {
    }

    HttpReply reply = handler_(request);
    bool alive = reply.delay_s <= 0 || wait_or_stop(reply.delay_s, fd);
    using Action = HttpReply::Action;
    if (alive) {
      std::string extra;
      for (auto& [name, value] : reply.headers) extra += name + ": " + value + "\r\n";
      std::string status_line = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) +
                                "\r\nContent-Type: " + reply.content_type + "\r\n" + extra;
      switch (reply.action) {
        case Action::respond:
          keep = send_all(fd, status_line + "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" +
                                  reply.body);
          break;
        case Action::stall:
          wait_or_stop(30.0, fd);
          keep = false;
          break;
        case Action::truncate:
          send_all(fd, status_line + "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" +
                           reply.body.substr(0, reply.body.size() / 2));
          keep = false;
          break;
        case Action::truncate_unframed:
          send_all(fd, status_line + "Connection: close\r\n\r\n" + reply.body.substr(0, reply.body.size() / 2));
          keep = false;
          break;
        case Action::reset: {
          linger hard{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
          keep = false;
          break;
        }
      }
    } else {
      keep = false;
    }
    --in_flight_;
  }
  {
    std::lock_guard lock(mutex_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  }
  ::close(fd);
}

namespace {
void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}
}  // namespace

std::string make_test_jpeg(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 40);
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        pixels[(static_cast<std::size_t>(y) * width + x) * 3 + c] =
            static_cast<unsigned char>((x * 3 + y * 2 + c * 50 + static_cast<int>(seed)) % 200 + noise(rng));
  std::string out;
  stbi_write_jpg_to_func(append_bytes, &out, width, height, 3, pixels.data(), 90);
  return out;
}

ScopedTempDir::ScopedTempDir(const std::string& name)
    : path(std::filesystem::temp_directory_path() / ("gcnn_sdss_" + name + "_" + std::to_string(::getpid()))) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ignore;
  std::filesystem::remove_all(path, ignore);
}

std::string make_blank_jpeg(int width, int height) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3, 0);
  std::string out;
  stbi_write_jpg_to_func(append_bytes, &out, width, height, 3, pixels.data(), 90);
  return out;
}

}  // namespace gcnn::testing
