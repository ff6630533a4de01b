// Test-only: a scripted HttpClient for lti/ service client tests. Records every request and
// answers from a queue of canned responses (or a handler). Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/client.h"

namespace gb::lti::testing {

class ScriptedHttpClient final : public http::HttpClient {
 public:
  using Handler = std::function<Result<http::Response>(const http::Request&)>;

  // Queues a response; the queue is consumed in order.
  void Push(Result<http::Response> response) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(response));
  }
  void Push(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    for (auto& [k, v] : headers) r.headers.Add(k, v);
    Push(Result<http::Response>(std::move(r)));
  }
  void PushTransportError(std::string reason = "http.transport") {
    Push(Result<http::Response>(Error(Code::kUnavailable, std::move(reason), "connection refused")));
  }
  // Answers when the queue is empty (default: 599 "unscripted").
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  void SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delay_ = delay;
  }

  Result<http::Response> Send(const http::Request& request, const http::RequestOptions&) override {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      delay = delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    if (!script_.empty()) {
      auto r = std::move(script_.front());
      script_.pop_front();
      return r;
    }
    if (handler_) return handler_(request);
    http::Response r;
    r.status = 599;
    r.body = "unscripted request";
    return r;
  }
  void SendAsync(http::Request request, http::RequestOptions options, Callback done) override {
    done(Send(request, options));
  }

  std::vector<http::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  http::Request last() const {
    std::lock_guard lock(mu_);
    return requests_.back();
  }
  size_t pending() const {
    std::lock_guard lock(mu_);
    return script_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<http::Response>> script_;
  std::vector<http::Request> requests_;
  Handler handler_;
  std::chrono::milliseconds delay_{0};
};

}  // namespace gb::lti::testing
