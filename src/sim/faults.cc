#include "sim/faults.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "sim/platform.h"

namespace gb::sim {
namespace {

using nlohmann::json;

Status Invalid(std::string message) {
  return Error(Code::kInvalidArgument, "sim.invalid_faults", std::move(message));
}

// Reads a number member into `out` when present; checks [lo, hi].
Status ReadNumber(const json& obj, const char* key, double lo, double hi, double& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number() || !std::isfinite(it->get<double>())) return Invalid(std::string(key) + " must be a number");
  double v = it->get<double>();
  if (v < lo || v > hi) {
    return Invalid(std::string(key) + " must be between " + FormatRateNumber(lo) + " and " + FormatRateNumber(hi));
  }
  out = v;
  return Status::Ok();
}

Status ReadInt(const json& obj, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_integer()) return Invalid(std::string(key) + " must be an integer");
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return Invalid(std::string(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  out = v;
  return Status::Ok();
}

Status CheckKeys(const json& obj, std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto& [k, v] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Invalid("unknown member \"" + k + "\"" + (where.empty() ? "" : " in " + std::string(where)));
    }
  }
  return Status::Ok();
}

http::Response FaultJson(int status, std::string_view error, std::string_view message) {
  return http::Response::Json(status, json{{"error", error}, {"message", message}}.dump());
}

}  // namespace

std::string FormatRateNumber(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", value);
  return buf;
}

http::Response DropConnectionResponse() {
  http::Response r = http::Response::Text(
      502, "simulated dropped connection\n");
  r.drop_connection = true;  // over sockets, server::HttpServer closes without answering
  r.headers.Set(kDropConnectionHeader, "1");
  return r;
}

bool IsDropConnection(const http::Response& response) { return response.headers.Has(kDropConnectionHeader); }

json FaultConfigToJson(const FaultConfig& c) {
  return {{"latency_ms", c.latency_ms},
          {"latency_jitter_ms", c.latency_jitter_ms},
          {"error_429_probability", c.error_429_probability},
          {"retry_after_seconds", c.retry_after_seconds},
          {"error_500_probability", c.error_500_probability},
          {"drop_probability", c.drop_probability},
          {"token_lifetime_seconds", c.token_lifetime_seconds ? json(*c.token_lifetime_seconds) : json(nullptr)},
          {"rate_limit",
           {{"enabled", c.rate_limit.enabled},
            {"capacity", c.rate_limit.capacity},
            {"leak_per_second", c.rate_limit.leak_per_second},
            {"cost_min", c.rate_limit.cost_min},
            {"cost_max", c.rate_limit.cost_max},
            {"token_surcharge", c.rate_limit.token_surcharge}}}};
}

Status MergeFaultConfig(const json& patch, FaultConfig& config) {
  if (!patch.is_object()) return Invalid("the fault configuration must be a JSON object");
  GB_RETURN_IF_ERROR(CheckKeys(patch,
                               {"latency_ms", "latency_jitter_ms", "error_429_probability", "retry_after_seconds",
                                "error_500_probability", "drop_probability", "token_lifetime_seconds",
                                "rate_limit", "reset", "reset_counters"},
                               ""));
  FaultConfig c = config;
  constexpr int64_t kMaxMs = 600'000;
  GB_RETURN_IF_ERROR(ReadInt(patch, "latency_ms", 0, kMaxMs, c.latency_ms));
  GB_RETURN_IF_ERROR(ReadInt(patch, "latency_jitter_ms", 0, kMaxMs, c.latency_jitter_ms));
  GB_RETURN_IF_ERROR(ReadNumber(patch, "error_429_probability", 0, 1, c.error_429_probability));
  GB_RETURN_IF_ERROR(ReadInt(patch, "retry_after_seconds", 0, 86'400, c.retry_after_seconds));
  GB_RETURN_IF_ERROR(ReadNumber(patch, "error_500_probability", 0, 1, c.error_500_probability));
  GB_RETURN_IF_ERROR(ReadNumber(patch, "drop_probability", 0, 1, c.drop_probability));
  if (auto it = patch.find("token_lifetime_seconds"); it != patch.end()) {
    if (it->is_null()) {
      c.token_lifetime_seconds.reset();
    } else {
      int64_t v = 0;
      GB_RETURN_IF_ERROR(ReadInt(patch, "token_lifetime_seconds", 0, 86'400, v));
      c.token_lifetime_seconds = v;
    }
  }
  if (auto it = patch.find("rate_limit"); it != patch.end()) {
    const json& rl = *it;
    if (!rl.is_object()) return Invalid("rate_limit must be an object");
    GB_RETURN_IF_ERROR(CheckKeys(
        rl, {"enabled", "capacity", "leak_per_second", "cost_min", "cost_max", "token_surcharge"}, "rate_limit"));
    if (auto e = rl.find("enabled"); e != rl.end()) {
      if (!e->is_boolean()) return Invalid("rate_limit.enabled must be a boolean");
      c.rate_limit.enabled = e->get<bool>();
    }
    GB_RETURN_IF_ERROR(ReadNumber(rl, "capacity", 1, 1e9, c.rate_limit.capacity));
    GB_RETURN_IF_ERROR(ReadNumber(rl, "leak_per_second", 0, 1e9, c.rate_limit.leak_per_second));
    GB_RETURN_IF_ERROR(ReadNumber(rl, "cost_min", 0, 1e9, c.rate_limit.cost_min));
    GB_RETURN_IF_ERROR(ReadNumber(rl, "cost_max", 0, 1e9, c.rate_limit.cost_max));
    GB_RETURN_IF_ERROR(ReadNumber(rl, "token_surcharge", 0, 1e9, c.rate_limit.token_surcharge));
    if (c.rate_limit.cost_min > c.rate_limit.cost_max) return Invalid("rate_limit.cost_min exceeds cost_max");
  }
  for (const char* flag : {"reset", "reset_counters"}) {
    if (auto it = patch.find(flag); it != patch.end() && !it->is_boolean()) {
      return Invalid(std::string(flag) + " must be a boolean");
    }
  }
  config = c;
  return Status::Ok();
}

FaultInjector::FaultInjector(const Clock& clock, Uniform01 uniform, Sleeper sleeper)
    : clock_(clock), uniform_(std::move(uniform)), sleeper_(std::move(sleeper)) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

FaultConfig FaultInjector::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

void FaultInjector::SetConfig(FaultConfig config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
}

Status FaultInjector::Apply(const json& patch) {
  std::lock_guard lock(mu_);
  auto flag = [&](const char* key) {
    if (!patch.is_object()) return false;
    auto it = patch.find(key);
    return it != patch.end() && it->is_boolean() && it->get<bool>();
  };
  const bool reset = flag("reset");
  FaultConfig c = reset ? FaultConfig{} : config_;
  GB_RETURN_IF_ERROR(MergeFaultConfig(patch, c));
  config_ = c;
  if (reset || flag("reset_counters")) counters_ = {};
  if (reset || !config_.rate_limit.enabled) buckets_.clear();
  return Status::Ok();
}

FaultCounters FaultInjector::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

void FaultInjector::LeakLocked(Bucket& bucket, int64_t now_ms) const {
  if (now_ms > bucket.updated_ms) {
    double leaked = config_.rate_limit.leak_per_second * static_cast<double>(now_ms - bucket.updated_ms) / 1000.0;
    bucket.level = std::max(0.0, bucket.level - leaked);
  }
  bucket.updated_ms = std::max(bucket.updated_ms, now_ms);
}

json FaultInjector::ToJson() const {
  std::lock_guard lock(mu_);
  json buckets = json::object();
  const int64_t now = clock_.NowMillis();
  for (const auto& [key, b] : buckets_) {
    Bucket copy = b;
    LeakLocked(copy, now);
    buckets[key] = {{"level", copy.level}, {"remaining", std::max(0.0, config_.rate_limit.capacity - copy.level)}};
  }
  const FaultCounters& k = counters_;
  return {{"config", FaultConfigToJson(config_)},
          {"counters",
           {{"requests", k.requests},
            {"delayed", k.delayed},
            {"delay_ms_total", k.delay_ms_total},
            {"dropped", k.dropped},
            {"http_429", k.http_429},
            {"http_500", k.http_500},
            {"rate_limited", k.rate_limited},
            {"early_token_expiry", k.early_token_expiry}}},
          {"buckets", buckets}};
}

std::optional<http::Response> FaultInjector::Admit(std::string_view client_key, MeteredKind kind, Ticket& ticket) {
  ticket = {};
  int64_t delay_ms = 0;
  {
    std::lock_guard lock(mu_);
    ++counters_.requests;
    delay_ms = config_.latency_ms;
    if (config_.latency_jitter_ms > 0) {
      delay_ms += static_cast<int64_t>(uniform_() * static_cast<double>(config_.latency_jitter_ms + 1));
    }
    if (delay_ms > 0) {
      ++counters_.delayed;
      counters_.delay_ms_total += static_cast<uint64_t>(delay_ms);
    }
  }
  // Sleep without the lock: other requests are delayed independently.
  if (delay_ms > 0) sleeper_(std::chrono::milliseconds(delay_ms));

  std::lock_guard lock(mu_);
  const FaultConfig& c = config_;
  if (c.drop_probability > 0 && uniform_() < c.drop_probability) {
    ++counters_.dropped;
    return DropConnectionResponse();
  }
  if (c.error_429_probability > 0 && uniform_() < c.error_429_probability) {
    ++counters_.http_429;
    http::Response r = FaultJson(429, "rate_limited", "Too many requests (simulated)");
    r.headers.Set("Retry-After", std::to_string(c.retry_after_seconds));
    return r;
  }
  if (c.rate_limit.enabled) {
    const int64_t now = clock_.NowMillis();
    Bucket& bucket = buckets_[std::string(client_key)];
    if (bucket.updated_ms == 0) bucket.updated_ms = now;
    LeakLocked(bucket, now);
    if (bucket.level >= c.rate_limit.capacity) {
      // Canvas: text/plain, remaining 0.0, no X-Request-Cost and no Retry-After.
      ++counters_.rate_limited;
      http::Response r = http::Response::Text(403, "403 Forbidden (Rate Limit Exceeded)\n");
      r.headers.Set("Content-Type", "text/plain; charset=utf-8");
      r.headers.Set("X-Rate-Limit-Remaining", "0.0");
      return r;
    }
    double cost = c.rate_limit.cost_min + uniform_() * (c.rate_limit.cost_max - c.rate_limit.cost_min);
    if (kind == MeteredKind::kToken) cost += c.rate_limit.token_surcharge;
    bucket.level += cost;
    ticket.metered = true;
    ticket.cost = cost;
    ticket.remaining = std::max(0.0, c.rate_limit.capacity - bucket.level);
  }
  if (c.error_500_probability > 0 && uniform_() < c.error_500_probability) {
    ++counters_.http_500;
    http::Response r = FaultJson(500, "internal", "Internal server error (simulated)");
    Decorate(r, ticket);
    return r;
  }
  return std::nullopt;
}

void FaultInjector::Decorate(http::Response& response, const Ticket& ticket) {
  if (!ticket.metered) return;
  char cost[64];
  std::snprintf(cost, sizeof cost, "%.2f", ticket.cost);
  response.headers.Set("X-Request-Cost", cost);
  response.headers.Set("X-Rate-Limit-Remaining", FormatRateNumber(ticket.remaining));
}

bool FaultInjector::ExpiredEarly(int64_t issued_ms, int64_t real_expiry_ms, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (!config_.token_lifetime_seconds) return false;
  int64_t early = issued_ms + *config_.token_lifetime_seconds * 1000;
  if (now_ms < early || now_ms >= real_expiry_ms) return false;
  ++counters_.early_token_expiry;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Platform handlers: GET/POST /sim/api/faults

http::Response Platform::HandleGetFaults(const http::Request&) const {
  return http::Response::Json(200, faults_->ToJson().dump());
}

http::Response Platform::HandleSetFaults(const http::Request& request) {
  auto content_type = request.headers.Get("Content-Type");
  if (!content_type || !StartsWith(ToLower(Trim(*content_type)), "application/json")) {
    return FaultJson(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  json patch = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (patch.is_discarded() || !patch.is_object()) {
    return FaultJson(400, "invalid_request", "The body must be a JSON object");
  }
  Status s = faults_->Apply(patch);
  if (!s.ok()) return FaultJson(400, "invalid_request", s.message());
  LogInfo("sim.faults_changed", {{"config", FaultConfigToJson(faults_->config()).dump()}});
  return http::Response::Json(200, faults_->ToJson().dump());
}

}  // namespace gb::sim
