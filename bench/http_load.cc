#include "http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

namespace gb::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IContains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (IEquals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls f(name, value) for every header line of a header block.
template <typename F>
void ForEachHeader(std::string_view block, F&& f) {
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!f(TrimView(line.substr(0, colon)), TrimView(line.substr(colon + 1)))) return;
  }
}

bool ParseSize(std::string_view s, int base, size_t& out) {
  if (s.empty()) return false;
  size_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (base == 16 && Lower(c) >= 'a' && Lower(c) <= 'f') {
      d = Lower(c) - 'a' + 10;
    } else {
      return false;
    }
    if (v > (SIZE_MAX - static_cast<size_t>(d)) / static_cast<size_t>(base)) return false;
    v = v * static_cast<size_t>(base) + static_cast<size_t>(d);
  }
  out = v;
  return true;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

struct Connection {
  int fd = -1;
  enum class State { kClosed, kConnecting, kActive, kDone } state = State::kClosed;
  uint32_t interest = 0;  // current epoll interest set

  // The request in flight.
  bool in_flight = false;
  size_t index = 0;
  int64_t start_ns = 0;
  std::string out;
  size_t out_off = 0;

  // The response being read.
  std::string in;
  size_t scanned = 0;      // how far "\r\n\r\n" has been searched
  size_t body_start = 0;   // 0 until the header block is parsed
  int status = 0;
  std::string_view header_block;
  enum class BodyMode { kLength, kChunked, kUntilClose } mode = BodyMode::kLength;
  size_t content_length = 0;
  bool server_closes = false;
  std::string dechunked;

  void ResetResponse() {
    in.clear();
    scanned = 0;
    body_start = 0;
    status = 0;
    header_block = {};
    mode = BodyMode::kLength;
    content_length = 0;
    server_closes = false;
    dechunked.clear();
  }
};

// Shared between the driver threads.
struct Shared {
  Shared(const LoadOptions& o, size_t n, const RequestSource& src, const ResponseSink& snk)
      : options(o), total(n), source(src), sink(snk) {}

  const LoadOptions& options;
  size_t total;
  const RequestSource& source;
  const ResponseSink& sink;
  sockaddr_in addr{};
  SteadyClock::time_point deadline;
  std::atomic<size_t> next{0};

  std::mutex mu;  // guards first_error
  std::string first_error;

  void NoteError(std::string text) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = std::move(text);
  }
};

// Per-thread counters, merged at the end.
struct Counters {
  uint64_t completed = 0, ok = 0, wrong_status = 0, transport_errors = 0, reconnects = 0;
  int64_t last_done_ns = 0;
  double cpu_seconds = 0;
  std::vector<uint32_t> latencies_us;
};

class Worker {
 public:
  Worker(Shared& shared, int connections) : shared_(shared), conns_(static_cast<size_t>(connections)) {}

  Counters Run() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      shared_.NoteError(std::string("epoll_create1: ") + std::strerror(errno));
      return std::move(counters_);
    }
    counters_.latencies_us.reserve(shared_.total / std::max<size_t>(1, static_cast<size_t>(shared_.options.threads)) + 16);
    for (size_t i = 0; i < conns_.size(); ++i) Open(i, /*reconnect=*/false);

    std::vector<epoll_event> events(conns_.size() + 1);
    while (live_ > 0) {
      auto now = SteadyClock::now();
      if (now >= shared_.deadline) break;
      int timeout_ms = static_cast<int>(
          std::min<int64_t>(100, std::chrono::duration_cast<std::chrono::milliseconds>(shared_.deadline - now).count() + 1));
      int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        shared_.NoteError(std::string("epoll_wait: ") + std::strerror(errno));
        break;
      }
      for (int k = 0; k < n; ++k) Handle(events[static_cast<size_t>(k)].data.u32, events[static_cast<size_t>(k)].events);
    }
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
      c.fd = -1;
    }
    ::close(epfd_);
    rusage ru{};
    if (::getrusage(RUSAGE_THREAD, &ru) == 0) {
      counters_.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                              static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }
    return std::move(counters_);
  }

 private:
  void SetInterest(size_t i, uint32_t interest) {
    Connection& c = conns_[i];
    if (c.interest == interest) return;
    epoll_event ev{};
    ev.events = interest;
    ev.data.u32 = static_cast<uint32_t>(i);
    int op = c.interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(epfd_, op, c.fd, &ev) != 0) {
      shared_.NoteError(std::string("epoll_ctl: ") + std::strerror(errno));
    }
    c.interest = interest;
  }

  void Retire(size_t i) {
    Connection& c = conns_[i];
    if (c.fd >= 0) ::close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.interest = 0;
    c.state = Connection::State::kDone;
    c.in_flight = false;
    --live_;
  }

  // Opens (or re-opens) connection i, unless there is no work left.
  void Open(size_t i, bool reconnect) {
    Connection& c = conns_[i];
    bool was_live = c.state != Connection::State::kClosed && c.state != Connection::State::kDone;
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.interest = 0;
    c.in_flight = false;
    c.ResetResponse();
    if (!was_live) ++live_;
    c.state = Connection::State::kConnecting;
    if (shared_.next.load(std::memory_order_relaxed) >= shared_.total) {
      Retire(i);
      return;
    }
    if (reconnect) ++counters_.reconnects;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      shared_.NoteError(std::string("socket: ") + std::strerror(errno));
      Retire(i);
      return;
    }
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&shared_.addr), sizeof shared_.addr);
    if (rc == 0) {
      c.state = Connection::State::kActive;
      SetInterest(i, EPOLLIN);
      StartNext(i);
      return;
    }
    if (errno != EINPROGRESS) {
      shared_.NoteError(std::string("connect: ") + std::strerror(errno));
      Retire(i);
      return;
    }
    SetInterest(i, EPOLLOUT);
  }

  // Takes the next request index and starts writing it; retires the connection when none is left.
  void StartNext(size_t i) {
    Connection& c = conns_[i];
    size_t idx = shared_.next.fetch_add(1, std::memory_order_relaxed);
    if (idx >= shared_.total) {
      Retire(i);
      return;
    }
    c.index = idx;
    c.in_flight = true;
    c.out.clear();
    c.out_off = 0;
    shared_.source(idx, c.out);
    c.ResetResponse();
    c.start_ns = NowNs();
    Write(i);
  }

  void Write(size_t i) {
    Connection& c = conns_[i];
    while (c.out_off < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetInterest(i, EPOLLIN | EPOLLOUT);
        return;
      }
      Fail(i, std::string("send: ") + std::strerror(errno));
      return;
    }
    SetInterest(i, EPOLLIN);
  }

  // The request in flight is lost; count it and carry on with a fresh connection.
  void Fail(size_t i, std::string why) {
    Connection& c = conns_[i];
    if (c.in_flight) {
      ++counters_.transport_errors;
      shared_.NoteError("request " + std::to_string(c.index) + ": " + why);
    }
    c.in_flight = false;
    Open(i, /*reconnect=*/true);
  }

  void Handle(uint32_t slot, uint32_t events) {
    size_t i = slot;
    Connection& c = conns_[i];
    if (c.fd < 0) return;
    if (c.state == Connection::State::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        shared_.NoteError(std::string("connect: ") + std::strerror(err != 0 ? err : ECONNREFUSED));
        // The connection never carried a request; still use up one request so that a dead server
        // ends the run instead of making us reconnect forever.
        if (shared_.next.fetch_add(1, std::memory_order_relaxed) < shared_.total) ++counters_.transport_errors;
        Open(i, /*reconnect=*/true);
        return;
      }
      c.state = Connection::State::kActive;
      SetInterest(i, EPOLLIN);
      StartNext(i);
      return;
    }
    if ((events & EPOLLOUT) && c.in_flight && c.out_off < c.out.size()) {
      Write(i);
      if (c.fd < 0 || conns_[i].state != Connection::State::kActive) return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Read(i);
  }

  void Read(size_t i) {
    Connection& c = conns_[i];
    char buf[64 * 1024];
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      Fail(i, std::string("recv: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      if (c.in_flight && c.body_start != 0 && c.mode == Connection::BodyMode::kUntilClose) {
        Complete(i, std::string_view(c.in).substr(c.body_start));
        return;
      }
      if (c.in_flight) {
        Fail(i, "connection closed by the server before the response was complete");
      } else {
        Open(i, /*reconnect=*/true);
      }
      return;
    }
    if (!c.in_flight) {
      Fail(i, "unexpected bytes from the server while idle");
      return;
    }
    c.in.append(buf, static_cast<size_t>(n));
    Parse(i);
  }

  // Checks whether the response in c.in is complete; completes it if so.
  void Parse(size_t i) {
    Connection& c = conns_[i];
    while (c.body_start == 0) {
      size_t from = c.scanned >= 3 ? c.scanned - 3 : 0;
      size_t end = c.in.find("\r\n\r\n", from);
      if (end == std::string::npos) {
        c.scanned = c.in.size();
        if (c.in.size() > kMaxHeaderBytes) Fail(i, "response header block too large");
        return;
      }
      std::string_view head(c.in.data(), end);
      size_t eol = head.find("\r\n");
      std::string_view status_line = head.substr(0, eol);
      if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
        Fail(i, "malformed status line: " + std::string(status_line.substr(0, 80)));
        return;
      }
      size_t status = 0;
      if (!ParseSize(status_line.substr(9, 3), 10, status)) {
        Fail(i, "malformed status line: " + std::string(status_line.substr(0, 80)));
        return;
      }
      if (status >= 100 && status < 200) {  // interim response: drop it and read on
        c.in.erase(0, end + 4);
        c.scanned = 0;
        continue;
      }
      c.status = static_cast<int>(status);
      c.header_block = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      bool has_length = false, chunked = false, bad_length = false;
      bool http10 = status_line[7] == '0';
      bool keep_alive_header = false;
      c.server_closes = false;
      ForEachHeader(c.header_block, [&](std::string_view name, std::string_view value) {
        if (IEquals(name, "content-length")) {
          size_t len = 0;
          if (!ParseSize(value, 10, len)) bad_length = true;
          has_length = true;
          c.content_length = len;
        } else if (IEquals(name, "transfer-encoding")) {
          if (IContains(value, "chunked")) chunked = true;
        } else if (IEquals(name, "connection")) {
          if (IContains(value, "close")) c.server_closes = true;
          if (IContains(value, "keep-alive")) keep_alive_header = true;
        }
        return true;
      });
      if (http10 && !keep_alive_header) c.server_closes = true;
      if (bad_length) {
        Fail(i, "malformed Content-Length");
        return;
      }
      if (c.status == 204 || c.status == 304) {
        c.mode = Connection::BodyMode::kLength;
        c.content_length = 0;
      } else if (chunked) {
        c.mode = Connection::BodyMode::kChunked;
      } else if (has_length) {
        c.mode = Connection::BodyMode::kLength;
        if (c.content_length > kMaxBodyBytes) {
          Fail(i, "response body too large");
          return;
        }
      } else {
        c.mode = Connection::BodyMode::kUntilClose;
        c.server_closes = true;
      }
      c.body_start = end + 4;
    }

    switch (c.mode) {
      case Connection::BodyMode::kLength:
        if (c.in.size() - c.body_start >= c.content_length) {
          Complete(i, std::string_view(c.in).substr(c.body_start, c.content_length));
        }
        return;
      case Connection::BodyMode::kUntilClose:
        if (c.in.size() - c.body_start > kMaxBodyBytes) Fail(i, "response body too large");
        return;
      case Connection::BodyMode::kChunked: {
        // Re-decodes from the start each time; bodies here are small.
        std::string_view rest = std::string_view(c.in).substr(c.body_start);
        c.dechunked.clear();
        while (true) {
          size_t eol = rest.find("\r\n");
          if (eol == std::string_view::npos) return;  // need more
          std::string_view size_text = rest.substr(0, eol);
          size_text = size_text.substr(0, size_text.find(';'));
          size_t size = 0;
          if (!ParseSize(TrimView(size_text), 16, size) || size > kMaxBodyBytes) {
            Fail(i, "malformed chunk size");
            return;
          }
          rest.remove_prefix(eol + 2);
          if (size == 0) {
            // Trailers, then the blank line.
            while (true) {
              size_t t = rest.find("\r\n");
              if (t == std::string_view::npos) return;  // need more
              if (t == 0) {
                Complete(i, c.dechunked);
                return;
              }
              rest.remove_prefix(t + 2);
            }
          }
          if (rest.size() < size + 2) return;  // need more
          c.dechunked.append(rest.substr(0, size));
          rest.remove_prefix(size + 2);
        }
      }
    }
  }

  void Complete(size_t i, std::string_view body) {
    Connection& c = conns_[i];
    int64_t done = NowNs();
    int64_t us = (done - c.start_ns) / 1000;
    counters_.latencies_us.push_back(static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX)));
    counters_.last_done_ns = std::max(counters_.last_done_ns, done);
    ++counters_.completed;
    HttpResponseView view;
    view.status = c.status;
    view.header_block = c.header_block;
    view.body = body;
    if (c.status == shared_.options.expected_status) {
      ++counters_.ok;
    } else {
      ++counters_.wrong_status;
      shared_.NoteError("request " + std::to_string(c.index) + ": status " + std::to_string(c.status) + ": " +
                        std::string(body.substr(0, shared_.options.max_error_body)));
    }
    if (shared_.sink) shared_.sink(c.index, view);
    c.in_flight = false;
    if (c.server_closes) {
      Open(i, /*reconnect=*/true);
    } else {
      StartNext(i);
    }
  }

  Shared& shared_;
  std::vector<Connection> conns_;
  int epfd_ = -1;
  int live_ = 0;
  Counters counters_;
};

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

std::optional<std::string_view> HttpResponseView::Header(std::string_view name) const {
  std::optional<std::string_view> out;
  ForEachHeader(header_block, [&](std::string_view n, std::string_view v) {
    if (!IEquals(n, name)) return true;
    out = v;
    return false;
  });
  return out;
}

std::vector<std::string_view> HttpResponseView::Headers(std::string_view name) const {
  std::vector<std::string_view> out;
  ForEachHeader(header_block, [&](std::string_view n, std::string_view v) {
    if (IEquals(n, name)) out.push_back(v);
    return true;
  });
  return out;
}

LoadResult RunLoad(const LoadOptions& options, size_t total, const RequestSource& source, const ResponseSink& sink) {
  LoadResult result;
  result.requests = total;
  Shared shared(options, total, source, sink);
  shared.addr.sin_family = AF_INET;
  shared.addr.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.host.c_str(), &shared.addr.sin_addr) != 1) {
    result.first_error = "not a numeric IPv4 address: " + options.host;
    result.errors = result.unfinished = total;
    return result;
  }
  int threads = std::max(1, options.threads);
  int connections = std::max(threads, options.connections);
  if (static_cast<size_t>(connections) > total && total > 0) connections = static_cast<int>(total);
  threads = std::min(threads, std::max(1, connections));

  auto start = SteadyClock::now();
  int64_t start_ns = NowNs();
  shared.deadline = start + options.max_duration;

  std::vector<Counters> counters(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    int mine = connections / threads + (t < connections % threads ? 1 : 0);
    pool.emplace_back([&shared, &counters, t, mine] {
      Worker w(shared, mine);
      counters[static_cast<size_t>(t)] = w.Run();
    });
  }
  for (auto& th : pool) th.join();
  result.timed_out = SteadyClock::now() >= shared.deadline;

  std::vector<uint32_t> lat;
  int64_t last_ns = start_ns;
  for (auto& c : counters) {
    result.completed += c.completed;
    result.ok += c.ok;
    result.wrong_status += c.wrong_status;
    result.transport_errors += c.transport_errors;
    result.reconnects += c.reconnects;
    result.client_cpu_seconds += c.cpu_seconds;
    last_ns = std::max(last_ns, c.last_done_ns);
    lat.insert(lat.end(), c.latencies_us.begin(), c.latencies_us.end());
  }
  uint64_t accounted = result.completed + result.transport_errors;
  result.unfinished = accounted < total ? total - accounted : 0;
  result.timed_out = result.timed_out && result.unfinished > 0;
  result.errors = result.wrong_status + result.transport_errors + result.unfinished;
  result.seconds = static_cast<double>(last_ns - start_ns) / 1e9;
  if (!lat.empty()) {
    double sum = 0;
    for (uint32_t v : lat) sum += v;
    result.mean_us = sum / static_cast<double>(lat.size());
    result.max_us = *std::max_element(lat.begin(), lat.end());
    result.p50_us = Percentile(lat, 0.50);
    result.p90_us = Percentile(lat, 0.90);
    result.p99_us = Percentile(lat, 0.99);
  }
  result.first_error = shared.first_error;
  if (result.unfinished > 0 && result.first_error.empty()) {
    result.first_error = std::to_string(result.unfinished) + " requests unanswered at the wall-clock cap";
  }
  return result;
}

std::string BuildGet(std::string_view host_port, std::string_view target, const std::vector<std::string>& extra_headers) {
  std::string out;
  out.reserve(64 + target.size() + host_port.size());
  out.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_port).append("\r\n");
  for (const auto& h : extra_headers) out.append(h).append("\r\n");
  out.append("\r\n");
  return out;
}

std::string BuildPost(std::string_view host_port, std::string_view target, std::string_view content_type,
                      std::string_view body, const std::vector<std::string>& extra_headers) {
  std::string out;
  size_t extra = 0;
  for (const auto& h : extra_headers) extra += h.size() + 2;
  out.reserve(128 + target.size() + host_port.size() + content_type.size() + body.size() + extra);
  out.append("POST ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_port);
  out.append("\r\nContent-Type: ").append(content_type);
  out.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  for (const auto& h : extra_headers) out.append(h).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

}  // namespace gb::bench
