#include "http/curl/curl_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace gb::http {
namespace {

using namespace std::chrono_literals;

// A tiny blocking HTTP/1.1 server on 127.0.0.1:0, one thread per connection, keep-alive. The
// handler gets the raw request (head + body) and returns raw response bytes, or nullopt to never
// answer (the connection is held until the client gives up).
class RawServer {
 public:
  using Handler = std::function<std::optional<std::string>(const std::string&)>;

  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 256), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~RawServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    accept_thread_.join();
    ::close(fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    for (int c : conns_) ::close(c);
  }

  uint16_t port() const { return port_; }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stop_) break;
        continue;
      }
      ++accepted_;
      std::lock_guard lock(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { Serve(c); });
    }
  }

  void Serve(int c) {
    std::string buf;
    char chunk[16384];
    while (true) {
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(c, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      size_t content_length = 0;
      std::string lower = ToLower(buf.substr(0, head_end));
      size_t cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) content_length = std::stoul(lower.substr(cl + 17));
      size_t total = head_end + 4 + content_length;
      while (buf.size() < total) {
        ssize_t n = ::recv(c, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      std::string request = buf.substr(0, total);
      buf.erase(0, total);
      std::optional<std::string> response = handler_(request);
      if (!response) {
        while (::recv(c, chunk, sizeof(chunk), 0) > 0) {
        }
        return;
      }
      size_t sent = 0;
      while (sent < response->size()) {
        ssize_t n = ::send(c, response->data() + sent, response->size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
    }
  }

  Handler handler_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
};

std::string Reply(int status, std::string_view body, std::string_view extra_headers = "") {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n";
  out += body;
  return out;
}

std::unique_ptr<HttpClient> InsecureClient() {
  CurlClientOptions o;
  o.allow_insecure = true;
  return MakeCurlHttpClient(o);
}

Request Get(std::string url) {
  Request r;
  r.method = "GET";
  r.url = std::move(url);
  return r;
}

TEST(CurlClientTest, RefusesInsecureUrlsUnlessDevMode) {
  auto client = MakeCurlHttpClient();
  for (const char* url : {"http://platform.example.edu/jwks", "https://127.0.0.1/x", "https://127.1.2.3:8443/",
                          "https://localhost/x", "https://LOCALHOST./x", "https://app.localhost/x",
                          "https://[::1]/x", "https://0.0.0.0/x", "https://[::ffff:127.0.0.1]/x"}) {
    auto r = client->Send(Get(url));
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().reason(), "http.insecure_url") << url;
    EXPECT_EQ(r.status().code(), Code::kPermissionDenied) << url;
  }
  auto bad = client->Send(Get("not a url"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "url.invalid");
}

TEST(CurlClientTest, RefusesHostsThatResolveToLoopback) {
  // Numeric shorthand for 127.0.0.1 passes the name check but is caught at connect time.
  RawServer server([](const std::string&) { return Reply(200, "should not get here"); });
  auto client = MakeCurlHttpClient();
  auto r = client->Send(Get("https://2130706433:" + std::to_string(server.port()) + "/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.insecure_url") << r.status().ToString();
  EXPECT_EQ(server.accepted(), 0);
}

TEST(CurlClientTest, GetCollectsAllHeadersAndSendsUserAgent) {
  std::string seen;
  std::mutex mu;
  RawServer server([&](const std::string& req) {
    std::lock_guard lock(mu);
    seen = req;
    return Reply(200, "hello",
                 "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                 "Link: <https://x.example/p2>; rel=\"next\"\r\nLink: <https://x.example/p9>; rel=\"last\"\r\n"
                 "X-Folded: one\r\n two\r\n");
  });
  auto client = InsecureClient();
  auto r = client->Send(Get(server.url("/path?q=1")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->headers.GetAll("set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(FindLink(r->headers, "next"), "https://x.example/p2");
  EXPECT_EQ(FindLink(r->headers, "last"), "https://x.example/p9");
  EXPECT_EQ(r->headers.Get("X-Folded"), "one two");
  EXPECT_EQ(r->headers.Get("Content-Length"), "5");
  std::lock_guard lock(mu);
  EXPECT_TRUE(StartsWith(seen, "GET /path?q=1 HTTP/1.1\r\n")) << seen;
  EXPECT_NE(seen.find("User-Agent: gradebridge/"), std::string::npos) << seen;
}

TEST(CurlClientTest, ReusesConnections) {
  RawServer server([](const std::string&) { return Reply(200, "ok"); });
  auto client = InsecureClient();
  for (int i = 0; i < 5; ++i) {
    auto r = client->Send(Get(server.url("/")));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(CurlClientTest, PostAndCustomMethodsSendBodyAndHeaders) {
  RawServer server([](const std::string& req) {
    size_t body_at = req.find("\r\n\r\n") + 4;
    std::string first_line = req.substr(0, req.find("\r\n"));
    bool has_form_type = req.find("application/x-www-form-urlencoded") != std::string::npos;
    bool has_expect = ToLower(req).find("expect:") != std::string::npos;
    std::string ct = req.find("Content-Type: application/vnd.ims.lis.v1.score+json") != std::string::npos ? "score" : "none";
    return Reply(200, first_line + "|" + req.substr(body_at) + "|" + ct + "|" + (has_form_type ? "form" : "") +
                          (has_expect ? "expect" : ""));
  });
  auto client = InsecureClient();
  Request post;
  post.method = "POST";
  post.url = server.url("/scores");
  post.headers.Add("Content-Type", "application/vnd.ims.lis.v1.score+json");
  post.body = std::string(3000, 'x');  // big enough that curl would otherwise send Expect: 100-continue
  auto r = client->Send(post);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "POST /scores HTTP/1.1|" + std::string(3000, 'x') + "|score|");

  Request put = post;
  put.method = "PUT";
  put.body = "{}";
  put.headers = Headers();
  r = client->Send(put);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "PUT /scores HTTP/1.1|{}|none|");  // no implicit form content type

  Request del = Get(server.url("/item"));
  del.method = "DELETE";
  r = client->Send(del);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "DELETE /item HTTP/1.1||none|");
}

TEST(CurlClientTest, RejectsHeaderInjection) {
  auto client = InsecureClient();
  Request r = Get("http://127.0.0.1:1/");
  r.headers.Add("X-Evil", "a\r\nHost: other");
  auto result = client->Send(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().reason(), "http.invalid_header");
}

TEST(CurlClientTest, RedirectsAreReturnedNotFollowed) {
  RawServer server([](const std::string&) { return Reply(302, "", "Location: https://elsewhere.example/\r\n"); });
  auto client = InsecureClient();
  auto r = client->Send(Get(server.url("/")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->headers.Get("Location"), "https://elsewhere.example/");
}

TEST(CurlClientTest, HttpErrorStatusIsAnOkResult) {
  RawServer server([](const std::string&) { return Reply(503, "busy", "Retry-After: 3\r\n"); });
  auto client = InsecureClient();
  auto r = client->Send(Get(server.url("/")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers.Get("retry-after"), "3");
}

TEST(CurlClientTest, Timeout) {
  RawServer server([](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  auto client = InsecureClient();
  RequestOptions o;
  o.total_timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  auto r = client->Send(Get(server.url("/")), o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.timeout");
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_LT(took, 1500ms);
}

TEST(CurlClientTest, ResponseTooLargeWithContentLength) {
  RawServer server([](const std::string&) { return Reply(200, std::string(100'000, 'a')); });
  auto client = InsecureClient();
  RequestOptions o;
  o.max_response_bytes = 10'000;
  auto r = client->Send(Get(server.url("/")), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.response_too_large");
}

TEST(CurlClientTest, ResponseTooLargeChunked) {
  RawServer server([](const std::string&) {
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) out += "1000\r\n" + std::string(4096, 'b') + "\r\n";
    out += "0\r\n\r\n";
    return out;
  });
  auto client = InsecureClient();
  RequestOptions o;
  o.max_response_bytes = 10'000;
  auto r = client->Send(Get(server.url("/")), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.response_too_large");
  o.max_response_bytes = 200'000;
  r = client->Send(Get(server.url("/")), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body.size(), 20u * 4096u);
}

TEST(CurlClientTest, ConnectionRefusedIsTransportError) {
  uint16_t port;
  {
    RawServer server([](const std::string&) { return Reply(200, ""); });
    port = server.port();
  }
  auto client = InsecureClient();
  auto r = client->Send(Get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "http.transport");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message().find('?'), std::string::npos);
}

TEST(CurlClientTest, FiftyConcurrentAsyncRequests) {
  RawServer server([](const std::string& req) {
    std::this_thread::sleep_for(100ms);  // all 50 must be in flight at once to finish in time
    std::string path = req.substr(4, req.find(' ', 4) - 4);
    return Reply(200, path);
  });
  auto client = InsecureClient();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    std::string path = "/r" + std::to_string(i);
    client->SendAsync(Get(server.url(path)), {}, [&, path](Result<Response> r) {
      std::lock_guard lock(mu);
      if (r.ok() && r->status == 200 && r->body == path) ++ok;
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return done == 50; }));
  EXPECT_EQ(ok, 50);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(CurlClientTest, DestructionFailsInFlightRequests) {
  RawServer server([](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  std::promise<Status> got;
  auto future = got.get_future();
  {
    auto client = InsecureClient();
    client->SendAsync(Get(server.url("/hang")), {}, [&](Result<Response> r) { got.set_value(r.status()); });
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(future.wait_for(1s), std::future_status::ready);
  Status s = future.get();
  EXPECT_EQ(s.reason(), "http.transport");
}

TEST(CurlClientTest, SendFromCallbackThreadIsRefusedNotDeadlocked) {
  RawServer server([](const std::string&) { return Reply(200, "ok"); });
  auto client = InsecureClient();
  std::promise<Status> got;
  client->SendAsync(Get(server.url("/")), {}, [&](Result<Response>) {
    got.set_value(client->Send(Get(server.url("/"))).status());
  });
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(f.get().reason(), "http.reentrant");
}

TEST(CurlClientTest, ManyThreadsCallSend) {
  RawServer server([](const std::string&) { return Reply(200, "ok"); });
  auto client = InsecureClient();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = client->Send(Get(server.url("/")));
        if (r.ok() && r->body == "ok") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
}

}  // namespace
}  // namespace gb::http
