#include "lti11/oauth1.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "base/strings.h"
#include "base/url.h"
#include "jose/jose.h"

namespace gb::lti11 {
namespace {

Status Unauth(std::string reason, std::string message) {
  return Error(Code::kUnauthenticated, std::move(reason), std::move(message));
}

constexpr size_t kMaxNonce = 128;

}  // namespace

std::string OAuthEncode(std::string_view text) { return PercentEncode(text); }

Result<std::string> BaseStringUri(std::string_view text) {
  auto url = Url::Parse(text);
  if (!url.ok()) return Error(Code::kInvalidArgument, "oauth.bad_url", "The signed URL is not a valid http(s) URL.");
  std::string out = url->scheme + "://" + url->host;
  const bool default_port = (url->scheme == "http" && url->port == 80) || (url->scheme == "https" && url->port == 443);
  if (!default_port) out += ":" + std::to_string(url->port);
  out += url->path.empty() ? "/" : url->path;
  return out;
}

std::string NormalizeParameters(const Params& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    if (name == "oauth_signature" || name == "realm") continue;
    encoded.emplace_back(OAuthEncode(name), OAuthEncode(value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string SignatureBaseString(std::string_view method, std::string_view base_uri, const Params& params) {
  std::string m(method);
  for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return m + "&" + OAuthEncode(base_uri) + "&" + OAuthEncode(NormalizeParameters(params));
}

std::string HmacSha1Signature(std::string_view base_string, std::string_view consumer_secret,
                              std::string_view token_secret) {
  const std::string key = OAuthEncode(consumer_secret) + "&" + OAuthEncode(token_secret);
  return Base64Encode(jose::HmacSha1(key, base_string));
}

std::string BodyHash(std::string_view body) { return Base64Encode(jose::Sha1(body)); }

Result<Params> ParseAuthorizationHeader(std::string_view header) {
  auto bad = [](std::string why) {
    return Error(Code::kInvalidArgument, "oauth.bad_header", "Malformed OAuth Authorization header: " + why + ".");
  };
  std::string_view h = Trim(header);
  if (h.size() < 6 || !EqualsIgnoreCase(h.substr(0, 5), "OAuth") || (h[5] != ' ' && h[5] != '\t')) {
    return bad("the scheme is not OAuth");
  }
  h.remove_prefix(6);
  Params out;
  size_t i = 0;
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == ',')) ++i;
    if (i >= h.size()) break;
    size_t eq = h.find('=', i);
    if (eq == std::string_view::npos) return bad("a parameter has no value");
    std::string_view name = Trim(h.substr(i, eq - i));
    if (name.empty()) return bad("a parameter has no name");
    size_t v = eq + 1;
    if (v >= h.size() || h[v] != '"') return bad("a value is not quoted");
    size_t close = h.find('"', v + 1);
    if (close == std::string_view::npos) return bad("a quoted value is not closed");
    auto dn = PercentDecode(name, false);
    auto dv = PercentDecode(h.substr(v + 1, close - v - 1), false);
    if (!dn || !dv) return bad("a bad percent-escape");
    out.emplace_back(std::move(*dn), std::move(*dv));
    i = close + 1;
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
    if (i < h.size() && h[i] != ',') return bad("parameters are not separated by commas");
  }
  return out;
}

std::string BuildAuthorizationHeader(const Params& oauth_params) {
  std::string out = "OAuth ";
  bool first = true;
  for (const auto& [name, value] : oauth_params) {
    if (!first) out += ", ";
    first = false;
    out += OAuthEncode(name) + "=\"" + OAuthEncode(value) + "\"";
  }
  return out;
}

Params ProtocolParams(std::string_view consumer_key, int64_t timestamp, std::string_view nonce) {
  return {{"oauth_consumer_key", std::string(consumer_key)},
          {"oauth_signature_method", "HMAC-SHA1"},
          {"oauth_timestamp", std::to_string(timestamp)},
          {"oauth_nonce", std::string(nonce)},
          {"oauth_version", "1.0"}};
}

namespace {

// The query parameters of `url`, decoded, for the base string.
Result<Params> QueryParams(std::string_view text) {
  auto url = Url::Parse(text);
  if (!url.ok()) return Error(Code::kInvalidArgument, "oauth.bad_url", "The signed URL is not a valid http(s) URL.");
  if (url->query.empty()) return Params{};
  auto fields = ParseForm(url->query);
  if (!fields) return Error(Code::kInvalidArgument, "oauth.bad_url", "The signed URL has a malformed query.");
  return Params(fields->begin(), fields->end());
}

}  // namespace

Result<Params> SignForm(std::string_view method, std::string_view url, Params fields, std::string_view consumer_key,
                        std::string_view consumer_secret, int64_t timestamp, std::string_view nonce) {
  GB_ASSIGN_OR_RETURN(std::string base_uri, BaseStringUri(url));
  GB_ASSIGN_OR_RETURN(Params all, QueryParams(url));
  for (auto& p : ProtocolParams(consumer_key, timestamp, nonce)) fields.push_back(std::move(p));
  all.insert(all.end(), fields.begin(), fields.end());
  fields.emplace_back("oauth_signature",
                      HmacSha1Signature(SignatureBaseString(method, base_uri, all), consumer_secret));
  return fields;
}

Result<std::string> SignBodyRequest(std::string_view method, std::string_view url, std::string_view body,
                                    std::string_view consumer_key, std::string_view consumer_secret,
                                    int64_t timestamp, std::string_view nonce) {
  GB_ASSIGN_OR_RETURN(std::string base_uri, BaseStringUri(url));
  GB_ASSIGN_OR_RETURN(Params all, QueryParams(url));
  Params oauth = ProtocolParams(consumer_key, timestamp, nonce);
  oauth.emplace_back("oauth_body_hash", BodyHash(body));
  all.insert(all.end(), oauth.begin(), oauth.end());
  oauth.emplace_back("oauth_signature",
                     HmacSha1Signature(SignatureBaseString(method, base_uri, all), consumer_secret));
  return BuildAuthorizationHeader(oauth);
}

Result<Verified> Verify(const SignedRequest& request, const VerifyOptions& options, const SecretLookup& secrets,
                        const NonceConsumer& nonces) {
  GB_ASSIGN_OR_RETURN(std::string base_uri, BaseStringUri(request.url));
  GB_ASSIGN_OR_RETURN(Params params, QueryParams(request.url));
  params.insert(params.end(), request.form.begin(), request.form.end());
  bool header_has_oauth = false;
  if (request.authorization) {
    GB_ASSIGN_OR_RETURN(Params header, ParseAuthorizationHeader(*request.authorization));
    for (auto& p : header) {
      if (StartsWith(p.first, "oauth_")) header_has_oauth = true;
      params.push_back(std::move(p));
    }
  }
  // Each protocol parameter once, and from one place (§3.5: "MUST NOT" use more than one method).
  std::set<std::string> seen;
  for (const auto& [name, value] : params) {
    if (!StartsWith(name, "oauth_")) continue;
    if (!seen.insert(name).second) {
      return Error(Code::kInvalidArgument, "oauth.bad_request",
                   "The OAuth parameter " + name + " appears more than once.");
    }
  }
  if (header_has_oauth) {
    for (const auto& [name, value] : request.form) {
      if (StartsWith(name, "oauth_")) {
        return Error(Code::kInvalidArgument, "oauth.bad_request",
                     "OAuth parameters were sent both in the Authorization header and in the body.");
      }
    }
  }
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return std::nullopt;
  };

  Verified out;
  auto key = get("oauth_consumer_key");
  if (!key || key->empty()) return Unauth("oauth.missing_consumer_key", "The request names no oauth_consumer_key.");
  out.consumer_key = *key;
  auto method = get("oauth_signature_method");
  if (!method || *method != "HMAC-SHA1") {
    return Unauth("oauth.bad_signature_method", "Only the HMAC-SHA1 signature method is accepted.");
  }
  if (auto version = get("oauth_version"); version && *version != "1.0") {
    return Unauth("oauth.bad_version", "oauth_version must be 1.0 when present.");
  }
  auto ts = get("oauth_timestamp");
  int64_t timestamp = 0;
  if (!ts || ts->empty() || ts->size() > 12) {
    return Unauth("oauth.bad_timestamp", "oauth_timestamp is missing or not a number of seconds.");
  }
  auto [ptr, ec] = std::from_chars(ts->data(), ts->data() + ts->size(), timestamp);
  if (ec != std::errc() || ptr != ts->data() + ts->size() || timestamp < 0) {
    return Unauth("oauth.bad_timestamp", "oauth_timestamp is missing or not a number of seconds.");
  }
  if (timestamp < options.now - options.window_seconds || timestamp > options.now + options.window_seconds) {
    return Unauth("oauth.stale_timestamp",
                  "oauth_timestamp is more than " + std::to_string(options.window_seconds) +
                      " seconds away from this server's clock (replayed request, or a clock out of sync).");
  }
  out.timestamp = timestamp;
  auto nonce = get("oauth_nonce");
  if (!nonce || nonce->empty() || nonce->size() > kMaxNonce) {
    return Unauth("oauth.missing_nonce", "oauth_nonce is missing or longer than 128 characters.");
  }
  out.nonce = *nonce;
  auto signature = get("oauth_signature");
  if (!signature || signature->empty()) return Unauth("oauth.bad_signature", "The request is not signed.");

  Result<std::string> secret = secrets(out.consumer_key);
  if (!secret.ok()) {
    if (secret.status().code() == Code::kNotFound) {
      return Unauth("oauth.unknown_consumer", "The consumer key is not registered with this tool.");
    }
    return secret.status();
  }
  const std::string expected = HmacSha1Signature(SignatureBaseString(request.method, base_uri, params), *secret);
  if (!ConstantTimeEquals(expected, *signature)) {
    return Unauth("oauth.bad_signature",
                  "The OAuth signature does not match (wrong secret, or the URL or parameters changed in transit).");
  }
  auto body_hash = get("oauth_body_hash");
  if (options.require_body_hash && !body_hash) {
    return Unauth("oauth.missing_body_hash", "The request carries no oauth_body_hash.");
  }
  if (body_hash && request.body && !ConstantTimeEquals(BodyHash(*request.body), *body_hash)) {
    return Unauth("oauth.bad_body_hash", "oauth_body_hash does not match the body received.");
  }
  if (body_hash && !request.body && options.require_body_hash) {
    return Unauth("oauth.bad_body_hash", "oauth_body_hash cannot be checked: no body.");
  }
  Status consumed = nonces(out.consumer_key, out.nonce, options.now + 2 * options.window_seconds + 1);
  if (!consumed.ok()) {
    if (consumed.code() == Code::kConflict) {
      return Unauth("oauth.nonce_replayed", "This oauth_nonce was already used: the request is a replay.");
    }
    return consumed;
  }
  for (auto& p : params) {
    if (p.first != "oauth_signature") out.params.push_back(std::move(p));
  }
  return out;
}

}  // namespace gb::lti11
