#include "http/curl/curl_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"

namespace gb::http {
namespace {

constexpr size_t kMaxPooledEasyHandles = 64;

Status InsecureUrl(std::string_view why) {
  return Error(Code::kPermissionDenied, "http.insecure_url",
               std::string("Refusing an insecure URL: ") + std::string(why) +
                   " (allowed only in dev mode)");
}

// Hosts that name the local machine or "any address" without needing DNS.
bool IsLocalHostName(std::string_view host) {
  if (IsLoopbackHost(host)) return true;
  if (host.ends_with(".")) host.remove_suffix(1);  // "localhost."
  if (host == "localhost" || host.ends_with(".localhost")) return true;  // RFC 6761 §6.3
  if (host == "0.0.0.0" || host == "[::]" || host == "[0:0:0:0:0:0:0:0]" || host == "[::1]" ||
      host == "[0:0:0:0:0:0:0:1]") {
    return true;
  }
  // IPv4-mapped IPv6 loopback: [::ffff:127.0.0.1] (and curl's normalised [::ffff:7f00:1]).
  if (StartsWith(host, "[::ffff:127.") || StartsWith(host, "[::ffff:7f")) return true;
  return false;
}

bool IsLoopbackOrAnyAddress(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    uint32_t a = ntohl(in->sin_addr.s_addr);
    return (a >> 24) == 127 || a == 0;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const in6_addr& a = in6->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      uint8_t first = a.s6_addr[12];
      bool zero = a.s6_addr[12] == 0 && a.s6_addr[13] == 0 && a.s6_addr[14] == 0 && a.s6_addr[15] == 0;
      return first == 127 || zero;
    }
  }
  return false;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
    if (std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr) return false;
  }
  return true;
}

bool IsSafeHeaderValue(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

struct Transfer {
  Request request;
  RequestOptions options;
  HttpClient::Callback done;
  std::optional<Status> immediate_error;  // completes without touching the network
  std::string authority;                  // "host:port", for error messages (never path/query)

  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Response response;
  std::vector<std::pair<std::string, std::string>> header_entries;  // of the final response
  size_t received_bytes = 0;  // headers + body, bounded by max_response_bytes
  bool too_large = false;
  bool blocked_address = false;
  bool allow_insecure = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

size_t OnWrite(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->received_bytes + n > t->options.max_response_bytes) {
    t->too_large = true;
    return 0;  // != n: curl aborts the transfer with CURLE_WRITE_ERROR
  }
  t->received_bytes += n;
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nitems;
  if (t->received_bytes + n > t->options.max_response_bytes) {
    t->too_large = true;
    return 0;
  }
  t->received_bytes += n;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.empty()) return n;  // end of a header block
  if (StartsWith(line, "HTTP/")) {
    // A new status line: an interim 1xx or a proxy CONNECT reply came before. Keep only the
    // headers of the final response.
    t->header_entries.clear();
    return n;
  }
  if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
    if (!t->header_entries.empty()) {
      t->header_entries.back().second += ' ';
      t->header_entries.back().second += Trim(line);
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->header_entries.emplace_back(std::string(Trim(line.substr(0, colon))),
                                 std::string(Trim(line.substr(colon + 1))));
  return n;
}

curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && !t->allow_insecure &&
      IsLoopbackOrAnyAddress(&address->addr)) {
    t->blocked_address = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlClientOptions options) : options_(std::move(options)) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options_.max_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_connections_per_host));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.connection_cache_size));
    thread_ = std::thread([this] { Loop(); });
  }

  ~CurlHttpClient() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    thread_.join();
    for (CURL* easy : idle_easies_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
  }

  Result<Response> Send(const Request& request, const RequestOptions& options) override {
    if (std::this_thread::get_id() == thread_.get_id()) {
      return Error(Code::kFailedPrecondition, "http.reentrant",
                   "HttpClient::Send called from the client's own I/O thread (use SendAsync).");
    }
    auto promise = std::make_shared<std::promise<Result<Response>>>();
    auto future = promise->get_future();
    SendAsync(request, options, [promise](Result<Response> r) { promise->set_value(std::move(r)); });
    return future.get();
  }

  void SendAsync(Request request, RequestOptions options, Callback done) override {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->options = options;
    t->done = std::move(done);
    t->allow_insecure = options_.allow_insecure;
    if (Status s = Validate(*t); !s.ok()) t->immediate_error = std::move(s);
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        queue_.push_back(std::move(t));
      }
    }
    if (t) {  // client shutting down: complete here, there is no I/O thread any more
      t->done(Error(Code::kUnavailable, "http.transport", "The HTTP client is shutting down."));
      return;
    }
    curl_multi_wakeup(multi_);
  }

 private:
  Status Validate(Transfer& t) const {
    auto url = Url::Parse(t.request.url);
    if (!url.ok()) return url.status();
    t.authority = url->Authority();
    if (!options_.allow_insecure) {
      if (url->scheme != "https") return InsecureUrl("plain http");
      if (IsLocalHostName(url->host)) return InsecureUrl("loopback host " + url->host);
    }
    if (t.request.method.empty()) t.request.method = "GET";
    if (!IsToken(t.request.method)) {
      return Error(Code::kInvalidArgument, "http.invalid_method", "Invalid HTTP method.");
    }
    for (const auto& [name, value] : t.request.headers.entries()) {
      if (!IsToken(name) || !IsSafeHeaderValue(value)) {
        return Error(Code::kInvalidArgument, "http.invalid_header",
                     "Invalid request header name or value (control characters).");
      }
    }
    return Status::Ok();
  }

  void Loop() {
    std::vector<std::unique_ptr<Transfer>> incoming;
    while (true) {
      bool stop;
      {
        std::lock_guard lock(mu_);
        incoming.swap(queue_);
        stop = stopping_;
      }
      for (auto& t : incoming) {
        if (stop) {
          Complete(std::move(t), Error(Code::kUnavailable, "http.transport",
                                       "The HTTP client was shut down before the request was sent."));
        } else {
          Start(std::move(t));
        }
      }
      incoming.clear();
      if (stop) break;
      int running = 0;
      curl_multi_perform(multi_, &running);
      ReapCompleted();
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    // Shutdown: every transfer still in flight gets an error callback.
    std::vector<std::unique_ptr<Transfer>> left;
    for (auto& [easy, t] : active_) {
      curl_multi_remove_handle(multi_, easy);
      left.push_back(std::move(t));
    }
    active_.clear();
    for (auto& t : left) {
      ReleaseEasy(*t);
      Complete(std::move(t), Error(Code::kUnavailable, "http.transport",
                                   "The HTTP client was shut down before the response arrived."));
    }
  }

  void Start(std::unique_ptr<Transfer> t) {
    if (t->immediate_error) {
      Status s = std::move(*t->immediate_error);
      Complete(std::move(t), std::move(s));
      return;
    }
    if (!idle_easies_.empty()) {
      t->easy = idle_easies_.back();
      idle_easies_.pop_back();
    } else {
      t->easy = curl_easy_init();
    }
    if (t->easy == nullptr) {
      Complete(std::move(t), Error(Code::kInternal, "http.transport", "curl_easy_init failed."));
      return;
    }
    CURLcode rc = Prepare(*t);
    if (rc == CURLE_OK && curl_multi_add_handle(multi_, t->easy) != CURLM_OK) rc = CURLE_FAILED_INIT;
    if (rc != CURLE_OK) {
      ReleaseEasy(*t);
      Status s = Error(Code::kInternal, "http.transport",
                       std::string("Could not set up the request: ") + curl_easy_strerror(rc));
      Complete(std::move(t), std::move(s));
      return;
    }
    CURL* easy = t->easy;
    active_.emplace(easy, std::move(t));
  }

  CURLcode Prepare(Transfer& t) {
    CURL* e = t.easy;
    const Request& r = t.request;
    const char* protocols = options_.allow_insecure ? "http,https" : "https";
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption opt, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, value);
    };
    set(CURLOPT_URL, r.url.c_str());
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PROTOCOLS_STR, protocols);
    set(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, t.options.connect_timeout.count())));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, t.options.total_timeout.count())));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.options.max_response_bytes));
    set(CURLOPT_WRITEFUNCTION, &OnWrite);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_HEADERFUNCTION, &OnHeader);
    set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
    set(CURLOPT_ERRORBUFFER, t.errbuf);
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    if (!options_.allow_insecure) {
      set(CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
      set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&t));
    }

    bool has_body = !r.body.empty();
    if (r.method == "GET" && !has_body) {
      set(CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else {
      if (r.method == "POST") {
        set(CURLOPT_POST, 1L);
      } else {
        set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
      }
      if (has_body || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
        set(CURLOPT_POSTFIELDS, r.body.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      }
    }

    // Headers: the caller's, plus suppression of curl's own defaults we do not want.
    bool has_content_type = false;
    for (const auto& [name, value] : r.headers.entries()) {
      if (EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
      std::string line = name;
      if (value.empty()) {
        line += ';';  // curl's syntax for "send this header with an empty value"
      } else {
        line += ": ";
        line += value;
      }
      AppendHeader(t, line.c_str());
    }
    AppendHeader(t, "Expect:");  // no 100-continue round trip (and no 1 s stall on servers without it)
    if (!has_content_type) AppendHeader(t, "Content-Type:");  // no implicit form content type
    set(CURLOPT_HTTPHEADER, t.header_list);
    return rc;
  }

  static void AppendHeader(Transfer& t, const char* line) {
    curl_slist* next = curl_slist_append(t.header_list, line);
    if (next != nullptr) t.header_list = next;
  }

  void ReapCompleted() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      auto it = active_.find(easy);
      if (it == active_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      active_.erase(it);
      curl_multi_remove_handle(multi_, easy);
      Result<Response> result = Outcome(*t, code);
      ReleaseEasy(*t);
      Complete(std::move(t), std::move(result));
    }
  }

  Result<Response> Outcome(Transfer& t, CURLcode code) {
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      t.response.status = static_cast<int>(status);
      for (auto& [name, value] : t.header_entries) t.response.headers.Add(std::move(name), std::move(value));
      return std::move(t.response);
    }
    if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return Error(Code::kPayloadTooLarge, "http.response_too_large",
                   "The response from " + t.authority + " is larger than " +
                       std::to_string(t.options.max_response_bytes) + " bytes.");
    }
    if (t.blocked_address) return InsecureUrl(t.authority + " resolves to a loopback address");
    std::string detail = t.errbuf[0] != '\0' ? std::string(t.errbuf) : std::string(curl_easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return Error(Code::kDeadlineExceeded, "http.timeout",
                   "The request to " + t.authority + " timed out: " + detail);
    }
    return Error(Code::kUnavailable, "http.transport",
                 "The request to " + t.authority + " failed: " + detail);
  }

  void ReleaseEasy(Transfer& t) {
    if (t.header_list != nullptr) {
      curl_slist_free_all(t.header_list);
      t.header_list = nullptr;
    }
    if (t.easy == nullptr) return;
    if (idle_easies_.size() < kMaxPooledEasyHandles) {
      curl_easy_reset(t.easy);
      idle_easies_.push_back(t.easy);
    } else {
      curl_easy_cleanup(t.easy);
    }
    t.easy = nullptr;
  }

  static void Complete(std::unique_ptr<Transfer> t, Result<Response> result) {
    Callback done = std::move(t->done);
    t.reset();
    try {
      if (done) done(std::move(result));
    } catch (const std::exception& e) {
      LogError("http.client_callback_threw", {{"what", e.what()}});
    } catch (...) {
      LogError("http.client_callback_threw");
    }
  }

  const CurlClientOptions options_;
  CURLM* multi_ = nullptr;

  std::mutex mu_;
  std::vector<std::unique_ptr<Transfer>> queue_;  // guarded by mu_
  bool stopping_ = false;                         // guarded by mu_

  // I/O thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
  std::vector<CURL*> idle_easies_;

  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(CurlClientOptions options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlHttpClient>(std::move(options));
}

}  // namespace gb::http
