// OAuth 1.0a (RFC 5849) as LTI 1.1 uses it: two-legged, HMAC-SHA1 only, no token secret.
//
//   - percent-encoding (§3.6), the signature base string (§3.4.1: method, base string URI with
//     scheme and host lowercased and default ports dropped, normalised parameters sorted by
//     encoded name then value), HMAC-SHA1 signatures (§3.4.2, key "secret&"), the Authorization
//     header (§3.5.1) and the body hash extension (oauth_body_hash = base64 SHA-1 of the raw body);
//   - Verify(): the checks an inbound signed request must pass, in this order, each with its own
//     reason: consumer key present, signature method HMAC-SHA1, version absent or "1.0",
//     timestamp a number inside the window, nonce present, consumer key known, signature
//     (constant-time compare), body hash (when required), and last the nonce consumed once — after
//     the signature, so a forger cannot burn other people's nonces.
//
// Pure functions apart from Verify's two callbacks; thread-safe. Digests come from jose/
// (OpenSSL stays there). Secrets and signatures are never put into Status messages.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace gb::lti11 {

using Params = std::vector<std::pair<std::string, std::string>>;

// RFC 5849 §3.6: UTF-8 bytes, everything but ALPHA DIGIT - . _ ~ as %XX (uppercase).
std::string OAuthEncode(std::string_view text);

// §3.4.1.2: "scheme://host[:port]/path" — scheme and host lowercased, port only when not the
// scheme's default, no query, no fragment. kInvalidArgument "oauth.bad_url" when unparseable.
Result<std::string> BaseStringUri(std::string_view url);

// §3.4.1.3.2: encodes every name and value, drops "oauth_signature" and "realm", sorts by name
// then value (bytewise), joins "name=value" with '&'. Duplicates are kept.
std::string NormalizeParameters(const Params& params);

// §3.4.1.1: METHOD & enc(base string URI) & enc(normalised parameters).
std::string SignatureBaseString(std::string_view method, std::string_view base_uri, const Params& params);

// §3.4.2: base64(HMAC-SHA1(enc(consumer_secret) "&" enc(token_secret), base_string)).
std::string HmacSha1Signature(std::string_view base_string, std::string_view consumer_secret,
                              std::string_view token_secret = "");

// oauth_body_hash: base64(SHA-1(body)) over the exact bytes.
std::string BodyHash(std::string_view body);

// Parses `Authorization: OAuth realm="x", oauth_consumer_key="…", …` (§3.5.1): the scheme is
// case-insensitive, values are double-quoted and percent-decoded. Returns every parameter
// (realm included; NormalizeParameters drops it). kInvalidArgument "oauth.bad_header" otherwise.
Result<Params> ParseAuthorizationHeader(std::string_view header);
// `OAuth ` followed by name="enc(value)" pairs joined with ", ", in the order given.
std::string BuildAuthorizationHeader(const Params& oauth_params);

// The oauth_* protocol parameters for a new signature (without oauth_signature).
Params ProtocolParams(std::string_view consumer_key, int64_t timestamp, std::string_view nonce);

// Signs a form POST (an LTI 1.1 launch): returns `fields` plus the protocol parameters and
// oauth_signature, ready to be form-encoded.
Result<Params> SignForm(std::string_view method, std::string_view url, Params fields, std::string_view consumer_key,
                        std::string_view consumer_secret, int64_t timestamp, std::string_view nonce);

// Signs a request with a non-form body (a Basic Outcomes POX call): adds oauth_body_hash of
// `body` and returns the Authorization header value. Query parameters of `url` are signed.
Result<std::string> SignBodyRequest(std::string_view method, std::string_view url, std::string_view body,
                                    std::string_view consumer_key, std::string_view consumer_secret,
                                    int64_t timestamp, std::string_view nonce);

// One inbound request, as the verifier needs it.
struct SignedRequest {
  std::string method;  // "POST"
  std::string url;     // the absolute URL the sender signed (query included)
  std::optional<std::string> authorization;  // the Authorization header, if any
  Params form;         // form body fields (only for application/x-www-form-urlencoded bodies)
  std::optional<std::string> body;  // raw body when the body hash must be checked
};

struct VerifyOptions {
  int64_t now = 0;               // unix seconds
  int64_t window_seconds = 300;  // |now - oauth_timestamp| must not exceed this
  bool require_body_hash = false;
};

struct Verified {
  std::string consumer_key;
  std::string nonce;
  int64_t timestamp = 0;
  Params params;  // every signed parameter (query, form, header), oauth_signature excluded
};

// Looks the secret up by consumer key; kNotFound (any reason) when unknown.
using SecretLookup = std::function<Result<std::string>(std::string_view consumer_key)>;
// Consumes (consumer key, nonce) once, keeping it until expires_at; kConflict when replayed.
using NonceConsumer = std::function<Status(std::string_view consumer_key, std::string_view nonce, int64_t expires_at)>;

// Reasons, all kUnauthenticated except where noted:
//   oauth.bad_request (kInvalidArgument: malformed header, duplicate protocol parameter,
//   parameters both in the header and the body), oauth.missing_consumer_key,
//   oauth.bad_signature_method, oauth.bad_version, oauth.bad_timestamp, oauth.stale_timestamp,
//   oauth.missing_nonce, oauth.unknown_consumer, oauth.bad_signature, oauth.missing_body_hash,
//   oauth.bad_body_hash, oauth.nonce_replayed; a lookup or nonce store failure other than
//   not-found / conflict is passed through.
Result<Verified> Verify(const SignedRequest& request, const VerifyOptions& options, const SecretLookup& secrets,
                        const NonceConsumer& nonces);

}  // namespace gb::lti11
