// Boost.Beast HTTP/1.1 server with C++20 coroutines. See http_server.h for the guarantees.
//
// Shape: one io_context run by `threads` threads. Each connection is one coroutine on its own
// strand, so Stop() and the timeout sweeper can reach it safely from any thread; the acceptor, the
// signal set, the sweeper and the drain timer live on a "control" strand.
//
// Hot path, per keep-alive request: one async read (usually the whole request arrives at once),
// Beast's parser fed synchronously from the buffer (async reads only when more bytes are needed),
// the handler inline on the connection's strand (no thread hop; blocking routes hop to the handler
// pool and back), and the response serialised by hand into a per-connection buffer and sent with
// one non-blocking gathered write (async only if the socket buffer is full). Timeouts are per-connection deadlines checked by one sweeper timer,
// not a timer per I/O operation.
#include "server/http_server.h"

#include <utility>  // before Asio's awaitable header (Boost 1.74)

#include <array>
#include <charconv>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "server/errors.h"

namespace gb::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<tcp, Strand>;
using Acceptor = asio::basic_socket_acceptor<tcp, Strand>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Strand>;
template <typename T = void>
using Awaitable = asio::awaitable<T, Strand>;
using Parser = bhttp::request_parser<bhttp::string_body>;
using Clock = std::chrono::steady_clock;

using namespace std::string_view_literals;
constexpr asio::use_awaitable_t<Strand> kUseAwaitable;
constexpr size_t kMinReadBytes = 4096;
constexpr size_t kMaxReadBytes = 64 * 1024;
constexpr size_t kMaxIdleBufferBytes = 16 * 1024;
constexpr size_t kMaxLingerBytes = 1 << 20;
constexpr std::chrono::milliseconds kMaxLinger{2'000};
constexpr std::chrono::milliseconds kStopGrace{1'000};
constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }
int64_t Ns(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

std::string_view SV(beast::string_view s) { return std::string_view(s.data(), s.size()); }

// RFC 9110 IMF-fixdate, cached per thread per second; locale-independent.
std::string_view HttpDate() {
  thread_local time_t cached = -1;
  thread_local char buf[32];
  time_t now = ::time(nullptr);
  if (now != cached) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm t;
    gmtime_r(&now, &t);
    std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t.tm_wday % 7],
                  t.tm_mday, kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
    cached = now;
  }
  return std::string_view(buf, 29);
}

bool IsTokenChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '"': case '(': case ')': case ',': case '/': case ':': case ';': case '<': case '=':
    case '>': case '?': case '@': case '[': case '\\': case ']': case '{': case '}':
      return false;
    default:
      return true;
  }
}

bool IsValidHeaderName(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsValidHeaderValue(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// X-Request-Id from a client is echoed only when short and plain: [A-Za-z0-9-_.]{1,64}.
bool IsSaneRequestId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Headers the server owns: a handler's values for them are dropped.
bool IsServerOwnedHeader(std::string_view name) {
  if (name.empty()) return false;
  switch (name.front() | 0x20) {
    case 'c': return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection");
    case 't': return EqualsIgnoreCase(name, "Transfer-Encoding");
    case 'd': return EqualsIgnoreCase(name, "Date");
    case 's': return EqualsIgnoreCase(name, "Server");
    case 'x': return EqualsIgnoreCase(name, "X-Request-Id");
    case 'k': return EqualsIgnoreCase(name, "Keep-Alive");
    default: return false;
  }
}

void AppendUint(std::string& out, uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof(tmp), v);
  out.append(tmp, static_cast<size_t>(r.ptr - tmp));
}

struct ParsedListen {
  std::string host;
  std::string port;
};

std::optional<ParsedListen> ParseListen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = listen.substr(0, colon);
  std::string_view port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return ParsedListen{std::string(host), std::string(port)};
}

// Feeds buffered bytes to the parser until it reaches `done` (header or whole message), needs
// more input, or fails. Returns true when done; false with !ec when more input is needed.
template <typename Done>
bool Feed(Parser& parser, beast::flat_buffer& buffer, beast::error_code& ec, Done done) {
  ec = {};
  while (!done()) {
    if (buffer.size() == 0) return false;
    size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return false;
    if (used == 0 && !done()) return false;
  }
  return true;
}

// A parse error (answer 400), as opposed to a timeout or the client going away (just close).
bool IsMalformed(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::header_limit && ec != bhttp::error::body_limit;
}

// One open connection, as seen by Stop() and the sweeper. `socket` and `idle` are touched only on
// `strand`; `deadline_ns` (steady clock) is written by the session and read by the sweeper.
struct Conn {
  explicit Conn(Strand s) : strand(std::move(s)) {}
  Strand strand;
  Socket* socket = nullptr;  // null once the session has ended
  bool idle = false;         // waiting for the first byte of the next request
  std::atomic<int64_t> deadline_ns{kNoDeadline};
};

// Runs a handler; an exception becomes a 500 JSON error (logged, never shown to the client).
http::Response CallHandler(const Handler& handler, const http::Request& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    LogError("http.handler_exception", {{"method", request.method},
                                        {"path", request.Path()},
                                        {"request_id", request.request_id},
                                        {"what", e.what()}});
  } catch (...) {
    LogError("http.handler_exception",
             {{"method", request.method}, {"path", request.Path()}, {"request_id", request.request_id}});
  }
  return JsonError(Status(Code::kInternal, "internal", "An internal error occurred."));
}

// Runs `handler` on `pool` and completes on the caller's executor (the connection's strand) with
// the response. The work guard keeps the io_context running while the handler is away, so a
// drain does not mistake a connection waiting on its handler for an idle loop.
template <typename Token>
auto RunOnPool(asio::thread_pool& pool, const Handler* handler, http::Request request, Token&& token) {
  return asio::async_initiate<Token, void(http::Response)>(
      [&pool, handler](auto completion, http::Request req) {
        auto work = asio::make_work_guard(asio::get_associated_executor(completion));
        asio::post(pool, [handler, req = std::move(req), completion = std::move(completion),
                          work = std::move(work)]() mutable {
          http::Response response = CallHandler(*handler, req);
          auto home = work.get_executor();
          asio::post(home, [completion = std::move(completion), response = std::move(response)]() mutable {
            completion(std::move(response));
          });
          work.reset();
        });
      },
      token, std::move(request));
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Router r) : options(std::move(o)), router(std::move(r)) {
    if (options.threads < 1) options.threads = 1;
    ioc.emplace(options.threads);
    if (options.handler_threads > 0) handler_pool.emplace(static_cast<size_t>(options.handler_threads));
    control.emplace(asio::make_strand(*ioc));
    acceptor.emplace(*control);
    drain_timer.emplace(*control);
    sweep_timer.emplace(*control);
    auto shortest = std::min(options.read_timeout, options.idle_timeout);
    sweep_interval = std::clamp<std::chrono::milliseconds>(shortest / 5, std::chrono::milliseconds(5),
                                                           std::chrono::milliseconds(500));
  }

  ~Impl() {
    Stop();
    Join();
    {
      std::unique_lock lock(run_mu);
      run_cv.wait(lock, [this] { return runners == 0; });
    }
    // Destroy the io_context (and with it any coroutine frame that never finished) while every
    // other member is still alive; sessions must not post anything from here on. Strands (the
    // control one, each Conn's) must also go before the io_context's services do.
    // Handlers still running on the pool finish first: they post their answers to strands that
    // must still exist (the answers are then dropped with the io_context).
    if (handler_pool) handler_pool->join();
    destroying = true;
    signals.reset();
    sweep_timer.reset();
    drain_timer.reset();
    acceptor.reset();
    control.reset();
    {
      std::lock_guard lock(conns_mu);
      conns.clear();
    }
    ioc.reset();
  }

  Status Start();
  void RunIo();
  void Stop();
  void Join();
  Awaitable<> AcceptLoop();
  Awaitable<> Sweeper();
  Awaitable<> Session(std::shared_ptr<Conn> conn, Socket socket);
  void OnSessionEnd(const std::shared_ptr<Conn>& conn);
  void ForceCloseAll();
  std::string AllowedMethods(std::string_view path) const;
  // Serialises status line + headers into `out` (an unusable handler status becomes a 500).
  void FormatHead(std::string& out, http::Response& response, std::string_view request_id,
                  bool keep_alive, bool http10, bool head_only) const;

  ServerOptions options;
  Router router;
  std::chrono::milliseconds sweep_interval{100};

  std::optional<asio::io_context> ioc;
  std::optional<asio::thread_pool> handler_pool;  // blocking routes' handlers
  std::optional<Strand> control;
  std::optional<Acceptor> acceptor;          // control strand
  std::optional<asio::signal_set> signals;   // control strand
  std::optional<Timer> drain_timer;          // control strand
  std::optional<Timer> sweep_timer;          // control strand

  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> destroying{false};
  std::atomic<uint16_t> port{0};

  std::mutex conns_mu;
  std::unordered_set<std::shared_ptr<Conn>> conns;  // guarded by conns_mu

  std::mutex threads_mu;
  std::vector<std::thread> threads;  // background threads, guarded by threads_mu

  std::mutex run_mu;
  std::condition_variable run_cv;
  int runners = 0;  // threads inside RunIo, guarded by run_mu
};

Status HttpServer::Impl::Start() {
  if (started.exchange(true)) {
    return Error(Code::kFailedPrecondition, "server.already_started", "The server was already started.");
  }
  auto listen = ParseListen(options.listen);
  if (!listen) {
    return Error(Code::kInvalidArgument, "server.bad_listen",
                 "listen must be host:port (e.g. 127.0.0.1:8787), got \"" + options.listen + "\".");
  }
  beast::error_code ec;
  tcp::resolver resolver(*ioc);
  auto results = resolver.resolve(listen->host, listen->port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error(Code::kInvalidArgument, "server.bad_listen",
                 "Cannot resolve listen address \"" + options.listen + "\": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor->close(ignored);
    return Error(Code::kUnavailable, "server.listen_failed",
                 "Cannot listen on " + options.listen + ": " + ec.message());
  }
  port = acceptor->local_endpoint(ec).port();

  auto log_failure = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (e) LogError(what);
    };
  };
  asio::co_spawn(*control, AcceptLoop(), log_failure("http.accept_loop_failed"));
  asio::co_spawn(*control, Sweeper(), log_failure("http.sweeper_failed"));
  if (options.handle_signals) {
    signals.emplace(*control, SIGINT, SIGTERM);
    signals->async_wait(asio::bind_executor(*control, [this](const beast::error_code& err, int sig) {
      if (err) return;
      LogInfo("server.signal", {{"signal", sig}});
      Stop();
    }));
  }
  LogInfo("server.listening", {{"address", endpoint.address().to_string()}, {"port", port.load()}});
  return Status::Ok();
}

Awaitable<> HttpServer::Impl::AcceptLoop() {
  while (true) {
    Strand strand = asio::make_strand(*ioc);
    Socket socket(strand);
    beast::error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(kUseAwaitable, ec));
    if (stopping.load() || !acceptor->is_open()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      // EMFILE and friends: log and back off a little instead of spinning.
      LogWarn("http.accept_failed", {{"error", ec.message()}});
      Timer pause(*control, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(kUseAwaitable, ec));
      continue;
    }
    auto conn = std::make_shared<Conn>(strand);
    {
      std::lock_guard lock(conns_mu);
      conns.insert(conn);
    }
    asio::co_spawn(strand, Session(conn, std::move(socket)), [](std::exception_ptr e) {
      if (e) LogError("http.session_failed");  // e.g. bad_alloc; the connection is closed
    });
  }
}

// Closes the current operation of every connection whose deadline has passed. One timer for the
// whole server instead of one per read and write.
Awaitable<> HttpServer::Impl::Sweeper() {
  // Runs until the server is stopping and the last connection is gone (timeouts keep applying
  // while draining).
  std::vector<std::shared_ptr<Conn>> expired;
  while (true) {
    sweep_timer->expires_after(sweep_interval);
    beast::error_code ec;
    co_await sweep_timer->async_wait(asio::redirect_error(kUseAwaitable, ec));
    int64_t now = NowNs();
    {
      std::lock_guard lock(conns_mu);
      if (stopping.load() && conns.empty()) break;
      for (const auto& c : conns) {
        if (c->deadline_ns.load(std::memory_order_relaxed) <= now) expired.push_back(c);
      }
    }
    for (auto& c : expired) {
      asio::post(c->strand, [c] {
        // Re-check on the connection's strand: it may have moved on since.
        if (c->socket != nullptr && c->deadline_ns.load(std::memory_order_relaxed) <= NowNs()) {
          beast::error_code ignored;
          c->socket->cancel(ignored);
          c->deadline_ns.store(kNoDeadline, std::memory_order_relaxed);
        }
      });
    }
    expired.clear();
  }
}

void HttpServer::Impl::OnSessionEnd(const std::shared_ptr<Conn>& conn) {
  conn->socket = nullptr;
  if (destroying.load()) return;
  bool drained;
  {
    std::lock_guard lock(conns_mu);
    conns.erase(conn);
    drained = conns.empty() && stopping.load();
  }
  if (drained) {
    asio::post(*control, [this] {
      drain_timer->cancel();
      sweep_timer->cancel();
    });
  }
}

std::string HttpServer::Impl::AllowedMethods(std::string_view path) const {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  std::string allow;
  bool has_get = router.Find("GET", path).handler != nullptr;
  for (std::string_view m : kMethods) {
    bool ok = router.Find(m, path).handler != nullptr || (m == "HEAD" && has_get);
    if (!ok) continue;
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

void HttpServer::Impl::FormatHead(std::string& out, http::Response& response, std::string_view request_id,
                                  bool keep_alive, bool http10, bool head_only) const {
  int status = response.status;
  if (status < 200 || status > 599) {
    LogError("http.bad_handler_status", {{"status", status}});
    response = JsonError(Status(Code::kInternal, "internal", "An internal error occurred."));
    status = response.status;
  }
  bool no_body_status = status == 204 || status == 304;
  if (no_body_status) response.body.clear();
  std::string_view reason = SV(bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status))));
  if (reason.empty() || reason.front() == '<') reason = "Status";

  out.clear();
  out.append("HTTP/1.1 "sv);
  AppendUint(out, static_cast<uint64_t>(status));
  out += ' ';
  out += reason;
  out.append("\r\nServer: "sv);
  out += options.server_name;
  out.append("\r\nDate: "sv);
  out += HttpDate();
  out.append("\r\nX-Request-Id: "sv);
  out += request_id;
  if (!no_body_status) {
    out.append("\r\nContent-Length: "sv);
    AppendUint(out, response.body.size());
  }
  if (!keep_alive) {
    out.append("\r\nConnection: close"sv);
  } else if (http10) {
    out.append("\r\nConnection: keep-alive"sv);
  }
  for (const auto& [name, value] : response.headers.entries()) {
    if (IsServerOwnedHeader(name)) continue;
    if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
      LogWarn("http.bad_response_header", {{"request_id", request_id}});
      continue;
    }
    out.append("\r\n"sv);
    out += name;
    out.append(": "sv);
    out += value;
  }
  out.append("\r\n\r\n"sv);
  if (head_only) response.body.clear();
}

Awaitable<> HttpServer::Impl::Session(std::shared_ptr<Conn> conn, Socket socket) {
  conn->socket = &socket;
  struct EndGuard {
    Impl* self;
    const std::shared_ptr<Conn>& conn;
    ~EndGuard() { self->OnSessionEnd(conn); }
  } end_guard{this, conn};
  auto set_deadline = [&conn](std::chrono::milliseconds d) {
    conn->deadline_ns.store(NowNs() + Ns(d), std::memory_order_relaxed);
  };

  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // synchronous writes below never block
  std::string remote;
  {
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  // Generated request ids: a random per-connection prefix plus a sequence number (no syscall per
  // request).
  const std::string id_prefix = SecureRandom::Instance().Hex(6) + "-";
  uint64_t sequence = 0;

  beast::flat_buffer buffer;
  std::string head;
  head.reserve(512);
  std::string request_id;
  bool first = true;
  bool linger = false;  // close with a lingering read (unread input may be pending)

  // Reads more bytes into `buffer`.
  auto read_more = [&]() -> Awaitable<size_t> {
    size_t want = std::clamp(buffer.capacity() - buffer.size(), kMinReadBytes, kMaxReadBytes);
    size_t n = co_await socket.async_read_some(buffer.prepare(want), asio::redirect_error(kUseAwaitable, ec));
    buffer.commit(n);
    co_return n;
  };

  while (true) {
    // Wait for the next request. A keep-alive connection at rest is "idle": Stop() closes it.
    if (buffer.size() == 0) {
      if (stopping.load(std::memory_order_relaxed)) break;
      if (buffer.capacity() > kMaxIdleBufferBytes) buffer.shrink_to_fit();  // idle connections stay small
      conn->idle = true;
      set_deadline(first ? options.read_timeout : options.idle_timeout);
      co_await read_more();
      conn->idle = false;
      if (ec) break;  // closed by the client, idle timeout, or Stop()
    }
    first = false;
    const Clock::time_point started_at = options.access_log ? Clock::now() : Clock::time_point();
    set_deadline(options.read_timeout);

    // Header, bounded in size (header_limit) and time (read_timeout).
    Parser parser;
    parser.header_limit(static_cast<uint32_t>(std::min<size_t>(options.max_header_bytes, UINT32_MAX)));
    // Real limit set below once the route is known (boost::none is buggy with Content-Length in 1.74).
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    bool header_ok = false;
    while (!(header_ok = Feed(parser, buffer, ec, [&] { return parser.is_header_done(); })) && !ec) {
      co_await read_more();
      if (ec) break;
    }

    http::Response response;
    bool keep_alive = false;
    bool head_only = false;
    bool http10 = false;
    std::string_view method = "-";
    std::string_view path = "-";

    if (!header_ok) {
      if (ec == bhttp::error::header_limit) {
        response = JsonError(431, "http.header_too_large", "The request header block is too large.");
      } else if (IsMalformed(ec)) {
        response = JsonError(Status(Code::kInvalidArgument, "http.bad_request", "The HTTP request is malformed."));
      } else {
        break;  // timeout (slow client), reset, or EOF mid-header: nothing sensible to answer
      }
      request_id = id_prefix;
      AppendUint(request_id, ++sequence);
      linger = true;
    } else {
      auto& msg = parser.get();
      http10 = msg.version() < 11;
      keep_alive = msg.keep_alive();
      method = SV(msg.method_string());
      std::string_view target = SV(msg.target());
      path = target.substr(0, target.find('?'));
      bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;

      auto id_field = msg.find("X-Request-Id");
      if (id_field != msg.end() && IsSaneRequestId(SV(id_field->value()))) {
        request_id.assign(SV(id_field->value()));
      } else {
        request_id = id_prefix;
        AppendUint(request_id, ++sequence);
      }

      Router::Match match;
      if (!target.empty() && target.front() == '/') {
        match = router.Find(method, path);
        head_only = method == "HEAD";  // never a body, whichever route answers
        if (match.handler == nullptr && head_only) match = router.Find("GET", path);
      }

      if (target.empty() || target.front() != '/') {
        response = JsonError(Status(Code::kInvalidArgument, "http.bad_target",
                                    "The request target must be an absolute path."));
        linger = has_body;
      } else if (match.handler == nullptr) {
        if (match.path_known) {
          response = JsonError(405, "http.method_not_allowed",
                               "This endpoint does not support the " + std::string(method) + " method.");
          response.headers.Add("Allow", AllowedMethods(path));
        } else {
          response = JsonError(Status(Code::kNotFound, "http.not_found", "No such endpoint."));
        }
        linger = has_body;
      } else if (parser.content_length() && *parser.content_length() > match.options->max_body_bytes) {
        // Refused before reading a byte of the body.
        response = JsonError(Status(Code::kPayloadTooLarge, "http.body_too_large",
                                    "The request body is larger than " +
                                        std::to_string(match.options->max_body_bytes) + " bytes."));
        linger = true;
      } else {
        bool body_ok = true;
        if (!parser.is_done()) {
          parser.body_limit(match.options->max_body_bytes);
          auto expect = msg.find(bhttp::field::expect);
          if (!http10 && buffer.size() == 0 && expect != msg.end() &&
              EqualsIgnoreCase(SV(expect->value()), "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(socket, asio::buffer(kContinue.data(), kContinue.size()),
                                       asio::redirect_error(kUseAwaitable, ec));
            if (ec) break;
          }
          while (!(body_ok = Feed(parser, buffer, ec, [&] { return parser.is_done(); })) && !ec) {
            co_await read_more();
            if (ec) break;
          }
          if (!body_ok) {
            if (ec == bhttp::error::body_limit) {
              response = JsonError(Status(Code::kPayloadTooLarge, "http.body_too_large",
                                          "The request body is larger than " +
                                              std::to_string(match.options->max_body_bytes) + " bytes."));
              linger = true;
            } else if (IsMalformed(ec)) {
              response = JsonError(Status(Code::kInvalidArgument, "http.bad_request", "The HTTP request is malformed."));
              linger = true;
            } else {
              break;  // timeout or disconnect while sending the body
            }
          }
        }
        if (body_ok) {
          conn->deadline_ns.store(kNoDeadline, std::memory_order_relaxed);  // the handler's time is its own
          http::Request request;
          request.method.assign(method);
          request.target.assign(target);
          for (const auto& field : msg) {
            request.headers.Add(std::string(SV(field.name_string())), std::string(SV(field.value())));
          }
          request.body = std::move(msg.body());
          request.remote_address = remote;
          request.request_id = request_id;
          if (match.options->blocking && handler_pool) {
            response = co_await RunOnPool(*handler_pool, match.handler, std::move(request), kUseAwaitable);
          } else {
            response = CallHandler(*match.handler, request);
          }
        }
      }
    }

    if (response.drop_connection) {
      // Simulated network failure: the client sees the connection close with no answer.
      linger = false;
      ec = asio::error::connection_aborted;
      break;
    }
    keep_alive = keep_alive && !linger && !stopping.load(std::memory_order_relaxed);
    FormatHead(head, response, request_id, keep_alive, http10, head_only);

    // One gathered write; usually the socket takes it all at once and nothing is awaited.
    set_deadline(options.idle_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(response.body)};
    size_t written = socket.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      written = 0;
    }
    if (!ec && written < head.size() + response.body.size()) {
      if (written < head.size()) {
        buffers[0] = asio::buffer(head) + written;
      } else {
        buffers[0] = asio::const_buffer();
        buffers[1] = asio::buffer(response.body) + (written - head.size());
      }
      co_await asio::async_write(socket, buffers, asio::redirect_error(kUseAwaitable, ec));
    }

    if (options.access_log) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_at).count();
      LogInfo("http.access", {{"method", method},
                              {"path", path},
                              {"status", response.status},
                              {"bytes", response.body.size()},
                              {"duration_us", us},
                              {"request_id", request_id},
                              {"remote", remote}});
    }
    if (ec || !keep_alive) break;
  }

  if (linger && !ec) {
    // Half-close and read what the client is still sending (an unread body, a pipelined request),
    // so that our error response is not destroyed by a TCP reset before the client reads it.
    socket.shutdown(tcp::socket::shutdown_send, ec);
    set_deadline(std::min<std::chrono::milliseconds>(options.read_timeout, kMaxLinger));
    size_t drained = 0;
    while (!ec && drained < kMaxLingerBytes) {
      buffer.consume(buffer.size());
      drained += co_await read_more();
    }
  }
  conn->deadline_ns.store(kNoDeadline, std::memory_order_relaxed);
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void HttpServer::Impl::RunIo() {
  {
    std::lock_guard lock(run_mu);
    ++runners;
  }
  while (true) {
    try {
      ioc->run();
      break;
    } catch (const std::exception& e) {
      LogError("server.io_exception", {{"what", e.what()}});
    } catch (...) {
      LogError("server.io_exception");
    }
  }
  {
    std::lock_guard lock(run_mu);
    --runners;
  }
  run_cv.notify_all();
}

void HttpServer::Impl::ForceCloseAll() {
  std::vector<std::shared_ptr<Conn>> open;
  {
    std::lock_guard lock(conns_mu);
    open.assign(conns.begin(), conns.end());
  }
  for (auto& c : open) {
    asio::post(c->strand, [c] {
      if (c->socket != nullptr) {
        beast::error_code ignored;
        c->socket->shutdown(tcp::socket::shutdown_both, ignored);
        c->socket->close(ignored);
      }
    });
  }
}

void HttpServer::Impl::Stop() {
  if (stopping.exchange(true)) return;
  asio::post(*control, [this] {
    beast::error_code ignored;
    acceptor->close(ignored);
    if (signals) signals->cancel(ignored);
    std::vector<std::shared_ptr<Conn>> open;
    {
      std::lock_guard lock(conns_mu);
      open.assign(conns.begin(), conns.end());
    }
    if (open.empty()) {  // nothing to drain: run() returns once the pending ops are gone
      sweep_timer->cancel();
      return;
    }
    // Idle keep-alive connections close now; busy ones finish their request and then close.
    for (auto& c : open) {
      asio::post(c->strand, [c] {
        if (c->idle && c->socket != nullptr) {
          beast::error_code ignored2;
          c->socket->cancel(ignored2);
        }
      });
    }
    drain_timer->expires_after(options.drain_timeout);
    drain_timer->async_wait(asio::bind_executor(*control, [this](const beast::error_code& ec) {
      if (ec) return;  // drained in time
      size_t left;
      {
        std::lock_guard lock(conns_mu);
        left = conns.size();
      }
      LogWarn("server.drain_timeout", {{"open_connections", left}});
      ForceCloseAll();
      // A handler that never returns would keep run() alive; stop the loop after a grace period.
      drain_timer->expires_after(kStopGrace);
      drain_timer->async_wait(asio::bind_executor(*control, [this](const beast::error_code& ec2) {
        if (!ec2) ioc->stop();
      }));
    }));
  });
}

void HttpServer::Impl::Join() {
  std::vector<std::thread> joining;
  {
    std::lock_guard lock(threads_mu);
    joining.swap(threads);
  }
  for (auto& t : joining) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    else if (t.joinable()) t.detach();
  }
}

HttpServer::HttpServer(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::Run() {
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->options.threads; ++i) extra.emplace_back([this] { impl_->RunIo(); });
  impl_->RunIo();
  for (auto& t : extra) t.join();
}

void HttpServer::RunInBackground() {
  std::lock_guard lock(impl_->threads_mu);
  for (int i = 0; i < impl_->options.threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->RunIo(); });
  }
}

void HttpServer::Stop() { impl_->Stop(); }

void HttpServer::Join() { impl_->Join(); }

}  // namespace gb::server
