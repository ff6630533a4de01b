#include "lti/jwks_cache.h"

#include <algorithm>

#include "base/log.h"
#include "base/strings.h"

namespace gb::lti {
namespace {

// max-age from Cache-Control; 0 for no-cache/no-store; nullopt when absent.
std::optional<int64_t> MaxAge(const http::Headers& headers) {
  auto cc = headers.Get("Cache-Control");
  if (!cc) return std::nullopt;
  for (auto part : Split(*cc, ',')) {
    std::string p = ToLower(Trim(part));
    if (p == "no-cache" || p == "no-store") return 0;
    if (StartsWith(p, "max-age=")) {
      int64_t v = 0;
      for (char c : p.substr(8)) {
        if (c < '0' || c > '9') return std::nullopt;
        v = std::min<int64_t>(v * 10 + (c - '0'), 10'000'000);
      }
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

JwksCache::JwksCache(http::HttpClient& client, Clock& clock, JwksCacheOptions options)
    : client_(client), clock_(clock), options_(options) {}

int64_t JwksCache::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

Result<std::pair<std::shared_ptr<const jose::Jwks>, std::chrono::seconds>> JwksCache::Fetch(const std::string& url) {
  http::Request req;
  req.method = "GET";
  req.url = url;
  req.headers.Set("Accept", "application/json");
  http::RequestOptions opts;
  opts.total_timeout = std::chrono::seconds(10);
  opts.max_response_bytes = 1024 * 1024;
  auto resp = client_.Send(req, opts);
  if (!resp.ok()) {
    return Error(Code::kUnavailable, "jwks.fetch_failed",
                 "Could not fetch the platform's key set from " + url + ": " + resp.status().message());
  }
  if (resp->status != 200) {
    return Error(Code::kUnavailable, "jwks.fetch_failed",
                 "The platform's key set URL " + url + " answered HTTP " + std::to_string(resp->status) + ".");
  }
  auto jwks = jose::Jwks::Parse(resp->body);
  if (!jwks.ok()) {
    return Error(Code::kUnavailable, "jwks.fetch_failed",
                 "The platform's key set at " + url + " is not a valid JWKS: " + jwks.status().message());
  }
  std::chrono::seconds ttl = options_.default_ttl;
  if (auto age = MaxAge(resp->headers)) ttl = std::chrono::seconds(*age);
  ttl = std::clamp(ttl, options_.min_ttl, options_.max_ttl);
  return std::make_pair(std::make_shared<const jose::Jwks>(std::move(*jwks)), ttl);
}

Result<std::shared_ptr<const jose::Jwks>> JwksCache::Get(const std::string& url, bool force) {
  std::unique_lock lock(mu_);
  for (;;) {
    Entry& e = entries_[url];
    TimePoint now = clock_.Now();
    bool fresh = e.jwks && now < e.expires_at;
    if (force && e.jwks) {
      // Refetch on unknown kid, but at most once per interval per URL.
      if (now - e.last_forced < options_.unknown_kid_refetch_interval) return e.jwks;
    } else if (fresh) {
      return e.jwks;
    }
    if (e.fetching) {
      cv_.wait(lock, [&] { return !entries_[url].fetching; });
      if (force) return entries_[url].jwks ? Result<std::shared_ptr<const jose::Jwks>>(entries_[url].jwks)
                                           : Error(Code::kUnavailable, "jwks.fetch_failed",
                                                   "Could not fetch the platform's key set from " + url + ".");
      continue;
    }
    e.fetching = true;
    if (force) e.last_forced = now;
    ++fetches_;
    lock.unlock();
    auto fetched = Fetch(url);
    lock.lock();
    Entry& after = entries_[url];
    after.fetching = false;
    cv_.notify_all();
    if (!fetched.ok()) {
      LogWarn("jwks.fetch_failed", {{"url", url}, {"reason", fetched.status().message()}});
      if (after.jwks && clock_.Now() - after.fetched_at < options_.max_stale) return after.jwks;
      return fetched.status();
    }
    after.jwks = fetched->first;
    after.fetched_at = clock_.Now();
    after.expires_at = after.fetched_at + fetched->second;
    return after.jwks;
  }
}

Result<jose::RsaPublicKey> JwksCache::FindKey(const Registration& registration, std::string_view kid) {
  GB_ASSIGN_OR_RETURN(auto jwks, Get(registration.jwks_url, false));
  if (const jose::Jwk* k = jwks->Find(kid)) return k->key;
  GB_ASSIGN_OR_RETURN(jwks, Get(registration.jwks_url, true));
  if (const jose::Jwk* k = jwks->Find(kid)) return k->key;
  return Error(Code::kNotFound, "jwks.unknown_kid",
               "The platform's key set has no key with kid \"" + std::string(kid) + "\".");
}

}  // namespace gb::lti
