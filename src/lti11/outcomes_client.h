// OutcomesClient: sends one Basic Outcomes operation (replaceResult, readResult, deleteResult) to
// a platform's lis_outcome_service_url: the POX body is built once, oauth_body_hash is computed
// over exactly those bytes, and the request is signed with OAuth 1.0a HMAC-SHA1 in the
// Authorization header (lti-digest §8.4). Content-Type application/xml (Canvas answers 415 to
// anything else, Moodle refuses form encoding).
//
// The caller has already checked the URL against the registration's allowed hosts. The client
// never interprets success from the HTTP status alone: `pox` holds the parsed answer when the
// body is a POX response (Moodle answers 200 with codeMajor failure; Canvas 422).
// Thread-safe when the HttpClient and Random are.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "http/client.h"
#include "lti11/pox.h"

namespace gb::lti11 {

struct ConsumerCredentials {
  std::string consumer_key;
  std::string secret;
};

struct OutcomeExchange {
  std::string message_id;         // the request's imsx_messageIdentifier
  http::Response response;        // as received
  std::optional<PoxResponse> pox;  // when the body parsed as a POX response
  std::string pox_error;          // why it did not parse, when it did not
};

class OutcomesClient {
 public:
  OutcomesClient(http::HttpClient& http, Clock& clock, Random& random, http::RequestOptions options = {});

  // `request.message_id` is filled in when empty. A transport failure is the HttpClient's Status
  // ("http.transport", "http.timeout", ...); any HTTP answer is an OutcomeExchange.
  Result<OutcomeExchange> Send(const std::string& url, PoxRequest request, const ConsumerCredentials& credentials);

 private:
  http::HttpClient& http_;
  Clock& clock_;
  Random& random_;
  http::RequestOptions options_;
};

}  // namespace gb::lti11
