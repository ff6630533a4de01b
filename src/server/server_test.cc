#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "http/curl/curl_client.h"

namespace gb::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Raw TCP client for what curl will not do (half requests, pipelining, garbage).
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(std::string_view data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  // Reads until the peer closes or `limit` passes. Returns what arrived; `closed` tells which.
  std::string ReadUntilClosed(std::chrono::milliseconds limit, bool* closed = nullptr) {
    std::string out;
    auto deadline = Clock::now() + limit;
    if (closed) *closed = false;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `count` occurrences of "HTTP/1.1 " response starts and their bodies have arrived
  // (bodies here are small; waits for `quiet` of silence).
  std::string ReadFor(std::chrono::milliseconds quiet) {
    std::string out;
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int CountOf(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

Router TestRouter(std::atomic<int>* slow_started = nullptr) {
  Router r;
  r.Add("GET", "/hello", [](const http::Request&) { return http::Response::Text(200, "hello"); });
  r.Add("POST", "/echo", [](const http::Request& req) {
    auto resp = http::Response::Text(200, req.body);
    resp.headers.Add("X-Method", req.method);
    return resp;
  }, RouteOptions{.max_body_bytes = 1024});
  r.Add("GET", "/id", [](const http::Request& req) { return http::Response::Text(200, req.request_id); });
  r.Add("GET", "/drop", [](const http::Request&) {
    auto resp = http::Response::Text(502, "never sent");
    resp.drop_connection = true;
    return resp;
  });
  r.Add("GET", "/query", [](const http::Request& req) { return http::Response::Text(200, req.Query()); });
  r.Add("GET", "/remote", [](const http::Request& req) { return http::Response::Text(200, req.remote_address); });
  r.Add("GET", "/throw", [](const http::Request&) -> http::Response { throw std::runtime_error("boom"); });
  r.Add("GET", "/throw-int", [](const http::Request&) -> http::Response { throw 42; });
  r.Add("GET", "/slow", [slow_started](const http::Request&) {
    if (slow_started) ++*slow_started;
    std::this_thread::sleep_for(400ms);
    return http::Response::Text(200, "slow done");
  });
  r.Add("GET", "/bad-header", [](const http::Request&) {
    auto resp = http::Response::Text(200, "x");
    resp.headers.Add("X-Evil", "a\r\nSet-Cookie: pwned=1");
    resp.headers.Add("Content-Length", "999");
    return resp;
  });
  r.Add("GET", "/no-content", [](const http::Request&) { return http::Response::Text(204, "ignored"); });
  r.Add("HEAD", "/head-explicit", [](const http::Request&) { return http::Response::Text(200, "must not be sent"); });
  r.Add("POST", "/only-post", [](const http::Request&) { return http::Response::Text(200, "posted"); });
  r.Add("DELETE", "/only-post", [](const http::Request&) { return http::Response::Text(200, "deleted"); });
  r.AddPrefix("GET", "/api/", [](const http::Request& req) { return http::Response::Text(200, "api:" + req.Path()); });
  // Blocking routes: run on the handler pool when the server has one.
  RouteOptions blocking{.max_body_bytes = 1024, .blocking = true};
  r.Add("POST", "/wait", [slow_started](const http::Request& req) {
    if (slow_started) ++*slow_started;
    std::this_thread::sleep_for(300ms);
    return http::Response::Text(200, "waited:" + req.body);
  }, blocking);
  r.Add("GET", "/wait-throw", [](const http::Request&) -> http::Response { throw std::runtime_error("pool boom"); },
        blocking);
  return r;
}

ServerOptions TestOptions() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 2;
  o.max_header_bytes = 8 * 1024;
  o.read_timeout = 300ms;
  o.idle_timeout = 2'000ms;
  o.drain_timeout = 2'000ms;
  o.access_log = false;
  return o;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(TestOptions()); }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      server_->Join();
    }
  }

  void StartServer(ServerOptions o) {
    server_ = std::make_unique<HttpServer>(std::move(o), TestRouter(&slow_started_));
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
    server_->RunInBackground();
    http::CurlClientOptions co;
    co.allow_insecure = true;
    client_ = http::MakeCurlHttpClient(co);
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  Result<http::Response> Get(std::string_view path, http::Headers headers = {}) {
    http::Request r;
    r.method = "GET";
    r.url = Url(path);
    r.headers = std::move(headers);
    return client_->Send(r);
  }

  Result<http::Response> Post(std::string_view path, std::string body) {
    http::Request r;
    r.method = "POST";
    r.url = Url(path);
    r.headers.Add("Content-Type", "text/plain");
    r.body = std::move(body);
    return client_->Send(r);
  }

  std::atomic<int> slow_started_{0};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

nlohmann::json JsonBody(const http::Response& r) { return nlohmann::json::parse(r.body); }

TEST_F(ServerTest, GetAndPost) {
  auto r = Get("/hello");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->headers.Get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->headers.Get("Server"), "gradebridge");
  EXPECT_TRUE(r->headers.Has("Date"));
  EXPECT_TRUE(r->headers.Has("X-Request-Id"));

  auto p = Post("/echo", "ping body");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(p->body, "ping body");
  EXPECT_EQ(p->headers.Get("X-Method"), "POST");

  auto q = Get("/query?a=1&b=two");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->body, "a=1&b=two");

  auto remote = Get("/remote");
  ASSERT_TRUE(remote.ok());
  EXPECT_EQ(remote->body, "127.0.0.1");
}

TEST_F(ServerTest, DropConnectionClosesWithoutAnswering) {
  auto r = Get("/drop");
  ASSERT_FALSE(r.ok()) << r->status << " " << r->body;
  EXPECT_EQ(r.status().reason(), "http.transport");
  RawClient raw(server_->port());
  raw.Send("GET /drop HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  EXPECT_EQ(raw.ReadUntilClosed(std::chrono::seconds(5), &closed), "");
  EXPECT_TRUE(closed);
  auto after = Get("/hello");  // the server carries on
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

TEST_F(ServerTest, PrefixRoute) {
  auto r = Get("/api/v1/launches/abc?x=1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "api:/api/v1/launches/abc");
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  // Generated ids are "<per-connection prefix>-<sequence>": one prefix means one connection.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = Get("/id");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->headers.Get("X-Request-Id"), r->body);
    EXPECT_FALSE(r->headers.Has("Connection"));
    ids.push_back(r->body);
  }
  std::string prefix = ids[0].substr(0, ids[0].find('-'));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(ids[i], prefix + "-" + std::to_string(i + 1));
  }
}

TEST_F(ServerTest, PerRouteBodyLimitGives413) {
  auto r = Post("/echo", std::string(2000, 'x'));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(JsonBody(*r)["error"], "http.body_too_large");
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  auto ok = Post("/echo", std::string(1024, 'y'));  // exactly at the limit
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, ChunkedBodyOverLimitGives413) {
  RawClient c(server_->port());
  std::string chunk(600, 'z');
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk + "\r\n258\r\n" +
         chunk + "\r\n0\r\n\r\n");
  std::string out = c.ReadUntilClosed(1500ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 413 ")) << out;
}

TEST_F(ServerTest, ChunkedBodyWithinLimit) {
  RawClient c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  std::string out = c.ReadFor(300ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 200 ")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nhello world")) << out;
}

TEST_F(ServerTest, OversizedHeadersGive431) {
  http::Headers h;
  h.Add("X-Big", std::string(10'000, 'h'));
  auto r = Get("/hello", h);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(JsonBody(*r)["error"], "http.header_too_large");
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreJson) {
  auto nf = Get("/nope");
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(nf->headers.Get("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(JsonBody(*nf)["error"], "http.not_found");

  auto na = Get("/only-post");
  ASSERT_TRUE(na.ok());
  EXPECT_EQ(na->status, 405);
  EXPECT_EQ(na->headers.Get("Allow"), "POST, DELETE");
  EXPECT_EQ(JsonBody(*na)["error"], "http.method_not_allowed");
  EXPECT_FALSE(JsonBody(*na)["message"].get<std::string>().empty());
}

TEST_F(ServerTest, ThrowingHandlerGives500AndServerSurvives) {
  std::string log;
  SetLogSink(&log);
  auto r = Get("/throw");
  auto r2 = Get("/throw-int");
  SetLogSink(nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":"internal","message":"An internal error occurred."})");
  EXPECT_EQ(r->body.find("boom"), std::string::npos);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 500);
  EXPECT_NE(log.find("http.handler_exception"), std::string::npos) << log;
  auto after = Get("/hello");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

TEST_F(ServerTest, RequestIdEchoedOnlyWhenSane) {
  http::Headers h;
  h.Add("X-Request-Id", "trace-ABC_123.x");
  auto r = Get("/id", h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "trace-ABC_123.x");
  EXPECT_EQ(r->headers.Get("X-Request-Id"), "trace-ABC_123.x");

  for (std::string bad : {std::string("has space"), std::string(65, 'a'), std::string("semi;colon"), std::string("")}) {
    http::Headers hb;
    hb.Add("X-Request-Id", bad);
    auto rb = Get("/id", hb);
    ASSERT_TRUE(rb.ok());
    EXPECT_NE(rb->body, bad);
    EXPECT_FALSE(rb->body.empty());
    EXPECT_EQ(rb->headers.Get("X-Request-Id"), rb->body);
  }
}

TEST_F(ServerTest, HandlerCannotInjectOrOverrideFraming) {
  auto r = Get("/bad-header");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "x");
  EXPECT_FALSE(r->headers.Has("Set-Cookie"));
  EXPECT_FALSE(r->headers.Has("X-Evil"));
  EXPECT_EQ(r->headers.GetAll("Content-Length"), (std::vector<std::string>{"1"}));
}

TEST_F(ServerTest, HeadUsesGetRouteWithoutBody) {
  RawClient c(server_->port());
  c.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /no-content HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = c.ReadFor(300ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("hello"), std::string::npos) << out;
  // The pipelined second request follows directly: 204 with no body and no Content-Length.
  size_t second = out.find("HTTP/1.1 204 No Content\r\n");
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
  EXPECT_EQ(out.find("Content-Length", second), std::string::npos) << out;

  RawClient d(server_->port());
  d.Send("HEAD /head-explicit HTTP/1.1\r\nHost: x\r\n\r\n");
  out = d.ReadFor(200ms);
  EXPECT_NE(out.find("Content-Length: 16\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient c(server_->port());
  std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  c.Send(req + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + req);
  std::string out = c.ReadFor(300ms);
  EXPECT_EQ(CountOf(out, "HTTP/1.1 200 OK"), 3) << out;
  EXPECT_LT(out.find("hello"), out.find("abc"));
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAlive) {
  {
    RawClient c(server_->port());
    c.Send("GET /hello HTTP/1.0\r\n\r\n");
    bool closed = false;
    std::string out = c.ReadUntilClosed(1000ms, &closed);
    EXPECT_TRUE(closed);
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  }
  {
    RawClient c(server_->port());
    c.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::string out = c.ReadFor(200ms);
    EXPECT_NE(out.find("Connection: keep-alive"), std::string::npos) << out;
  }
}

TEST_F(ServerTest, MalformedRequestGets400) {
  RawClient c(server_->port());
  c.Send("GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n");
  std::string out = c.ReadUntilClosed(1000ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 400 ")) << out;
  EXPECT_NE(out.find("http.bad_request"), std::string::npos) << out;

  RawClient d(server_->port());
  d.Send("GET http://evil.example/hello HTTP/1.1\r\nHost: x\r\n\r\n");
  out = d.ReadFor(300ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 400 ")) << out;
  EXPECT_NE(out.find("http.bad_target"), std::string::npos) << out;
}

TEST_F(ServerTest, SlowlorisIsDisconnectedAfterReadTimeout) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  auto start = Clock::now();
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  std::this_thread::sleep_for(100ms);
  c.Send("a");  // trickling bytes does not extend the deadline
  bool closed = false;
  std::string out = c.ReadUntilClosed(1500ms, &closed);
  auto took = Clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1200ms);
}

TEST_F(ServerTest, TricklingBodyIsDisconnectedAfterReadTimeout) {
  RawClient c(server_->port());
  auto start = Clock::now();
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  bool closed = false;
  std::string out = c.ReadUntilClosed(1500ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_LT(Clock::now() - start, 1200ms);
}

TEST_F(ServerTest, ExpectContinue) {
  RawClient c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = c.ReadFor(100ms);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("hello");
  std::string out = c.ReadFor(100ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nhello")) << out;

  // Too large: 413 at once, no 100 Continue, body never read.
  RawClient d(server_->port());
  d.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  out = d.ReadFor(100ms);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 413 ")) << out;
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  server_->Stop();
  server_->Join();
  auto o = TestOptions();
  o.idle_timeout = 200ms;
  o.read_timeout = 2'000ms;
  StartServer(o);
  RawClient c(server_->port());
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto start = Clock::now();
  bool closed = false;
  std::string out = c.ReadUntilClosed(1500ms, &closed);
  EXPECT_TRUE(StartsWith(out, "HTTP/1.1 200 OK")) << out;
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - start, 150ms);
  EXPECT_LT(Clock::now() - start, 1000ms);
}

TEST_F(ServerTest, SilentConnectionIsClosedAfterReadTimeout) {
  RawClient c(server_->port());
  auto start = Clock::now();
  bool closed = false;
  c.ReadUntilClosed(1500ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, 1200ms);
}

TEST_F(ServerTest, GracefulStopLetsInFlightRequestFinish) {
  std::promise<Result<http::Response>> got;
  http::Request req;
  req.method = "GET";
  req.url = Url("/slow");
  client_->SendAsync(req, {}, [&](Result<http::Response> r) { got.set_value(std::move(r)); });
  for (int i = 0; i < 200 && slow_started_.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(slow_started_.load(), 1);

  // An idle keep-alive connection must not hold up the drain.
  RawClient idle(server_->port());
  idle.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(StartsWith(idle.ReadFor(100ms), "HTTP/1.1 200"));

  auto start = Clock::now();
  server_->Stop();
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  bool closed = false;
  idle.ReadUntilClosed(500ms, &closed);
  EXPECT_TRUE(closed);
  server_->Join();
  EXPECT_LT(Clock::now() - start, 1500ms);  // well under drain_timeout
  // No longer accepting.
  RawClient late(server_->port());
  EXPECT_FALSE(late.connected());
  server_.reset();
}

TEST_F(ServerTest, StopIsIdempotentAndWorksWithRunOnCallerThread) {
  server_->Stop();
  server_->Stop();
  server_->Join();
  server_.reset();

  HttpServer s(TestOptions(), TestRouter());
  ASSERT_TRUE(s.Start().ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    s.Stop();
  });
  auto start = Clock::now();
  s.Run();  // returns after Stop
  EXPECT_LT(Clock::now() - start, 1s);
  stopper.join();
}

TEST_F(ServerTest, DrainTimeoutForceClosesStuckConnections) {
  server_->Stop();
  server_->Join();
  auto o = TestOptions();
  o.drain_timeout = 100ms;
  o.read_timeout = 5'000ms;
  StartServer(o);
  RawClient c(server_->port());
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n");  // half a request: busy, not idle
  std::this_thread::sleep_for(50ms);
  auto start = Clock::now();
  server_->Stop();
  server_->Join();
  EXPECT_LT(Clock::now() - start, 1000ms);
  bool closed = false;
  c.ReadUntilClosed(500ms, &closed);
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, AccessLogOmitsQueryString) {
  server_->Stop();
  server_->Join();
  auto o = TestOptions();
  o.access_log = true;
  StartServer(o);
  std::string log;
  SetLogSink(&log);
  http::Headers h;
  h.Add("X-Request-Id", "log-test-1");
  auto r = Get("/query?token=SECRET-VALUE", h);
  server_->Stop();
  server_->Join();
  SetLogSink(nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(log.find("http.access"), std::string::npos) << log;
  EXPECT_NE(log.find("path=/query "), std::string::npos) << log;
  EXPECT_NE(log.find("status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("request_id=log-test-1"), std::string::npos) << log;
  EXPECT_NE(log.find("method=GET"), std::string::npos) << log;
  EXPECT_NE(log.find("duration_us="), std::string::npos) << log;
  EXPECT_NE(log.find("remote=127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
}

TEST(ServerStartTest, BadListenAndPortInUse) {
  ServerOptions o = TestOptions();
  o.listen = "nonsense";
  HttpServer bad(o, Router{});
  EXPECT_EQ(bad.Start().reason(), "server.bad_listen");

  HttpServer first(TestOptions(), Router{});
  ASSERT_TRUE(first.Start().ok());
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(o, Router{});
  Status s = second.Start();
  EXPECT_EQ(s.reason(), "server.listen_failed") << s.ToString();
  EXPECT_EQ(first.Start().reason(), "server.already_started");
}

TEST(ServerStartTest, SigtermStopsServerWhenHandlingSignals) {
  ServerOptions o = TestOptions();
  o.handle_signals = true;
  HttpServer s(o, TestRouter());
  ASSERT_TRUE(s.Start().ok());  // the handler is installed from here on
  std::thread runner([&] { s.Run(); });
  std::this_thread::sleep_for(50ms);
  auto start = Clock::now();
  ASSERT_EQ(::raise(SIGTERM), 0);
  runner.join();  // Run() returns because of the signal alone
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST(ServerStartTest, DestroyWithoutRunOrStop) {
  HttpServer s(TestOptions(), Router{});
  ASSERT_TRUE(s.Start().ok());
}

TEST(ServerStartTest, ManyConcurrentClients) {
  HttpServer s(TestOptions(), TestRouter());
  ASSERT_TRUE(s.Start().ok());
  s.RunInBackground();
  http::CurlClientOptions co;
  co.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(co);
  std::atomic<int> ok{0};
  std::promise<void> all;
  std::atomic<int> done{0};
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) {
    http::Request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(s.port()) + "/echo";
    r.body = "n" + std::to_string(i);
    client->SendAsync(r, {}, [&, body = r.body](Result<http::Response> res) {
      if (res.ok() && res->status == 200 && res->body == body) ++ok;
      if (++done == kN) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kN);
  s.Stop();
  s.Join();
}

// With a handler pool, blocking handlers neither run on nor stall the single I/O thread: several
// wait at once, and a plain route answers meanwhile.
TEST(ServerHandlerPoolTest, BlockingRoutesRunConcurrentlyOffTheIoThread) {
  std::atomic<int> started{0};
  ServerOptions o = TestOptions();
  o.threads = 1;
  o.handler_threads = 4;
  HttpServer s(o, TestRouter(&started));
  ASSERT_TRUE(s.Start().ok());
  s.RunInBackground();
  http::CurlClientOptions co;
  co.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(co);
  const std::string base = "http://127.0.0.1:" + std::to_string(s.port());

  constexpr int kN = 4;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> all;
  auto t0 = Clock::now();
  for (int i = 0; i < kN; ++i) {
    http::Request r;
    r.method = "POST";
    r.url = base + "/wait";
    r.body = std::to_string(i);
    client->SendAsync(r, {}, [&, body = r.body](Result<http::Response> res) {
      if (res.ok() && res->status == 200 && res->body == "waited:" + body) ++ok;
      if (++done == kN) all.set_value();
    });
  }
  for (int i = 0; i < 200 && started.load() < kN; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(started.load(), kN);  // all four are waiting at the same time
  http::Request hello;
  hello.method = "GET";
  hello.url = base + "/hello";
  auto quick = client->Send(hello);
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->status, 200);
  EXPECT_EQ(done.load(), 0);  // answered while every blocking handler was still waiting

  ASSERT_EQ(all.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kN);
  EXPECT_LT(Clock::now() - t0, 4 * 300ms);  // concurrent, not one after another

  http::Request boom;
  boom.method = "GET";
  boom.url = base + "/wait-throw";
  auto failed = client->Send(boom);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(JsonBody(*failed)["error"], "internal");
  EXPECT_EQ(failed->body.find("pool boom"), std::string::npos);
  s.Stop();
  s.Join();
}

TEST(ServerHandlerPoolTest, GracefulStopWaitsForBlockingHandler) {
  std::atomic<int> started{0};
  ServerOptions o = TestOptions();
  o.handler_threads = 2;
  HttpServer s(o, TestRouter(&started));
  ASSERT_TRUE(s.Start().ok());
  s.RunInBackground();
  http::CurlClientOptions co;
  co.allow_insecure = true;
  auto client = http::MakeCurlHttpClient(co);
  std::promise<Result<http::Response>> got;
  http::Request r;
  r.method = "POST";
  r.url = "http://127.0.0.1:" + std::to_string(s.port()) + "/wait";
  r.body = "x";
  client->SendAsync(r, {}, [&](Result<http::Response> res) { got.set_value(std::move(res)); });
  for (int i = 0; i < 200 && started.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(started.load(), 1);
  s.Stop();
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  auto res = f.get();
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "waited:x");
  EXPECT_EQ(res->headers.Get("Connection"), "close");
  s.Join();
}

}  // namespace
}  // namespace gb::server
