#include "lti11/outcomes_client.h"

#include "lti11/oauth1.h"

namespace gb::lti11 {

OutcomesClient::OutcomesClient(http::HttpClient& http, Clock& clock, Random& random, http::RequestOptions options)
    : http_(http), clock_(clock), random_(random), options_(options) {}

Result<OutcomeExchange> OutcomesClient::Send(const std::string& url, PoxRequest request,
                                             const ConsumerCredentials& credentials) {
  OutcomeExchange out;
  if (request.message_id.empty()) request.message_id = "gb-" + random_.Hex(16);
  out.message_id = request.message_id;
  http::Request req;
  req.method = "POST";
  req.url = url;
  req.body = BuildRequest(request);
  GB_ASSIGN_OR_RETURN(std::string authorization,
                      SignBodyRequest("POST", url, req.body, credentials.consumer_key, credentials.secret,
                                      clock_.NowSeconds(), random_.Hex(16)));
  req.headers.Set("Authorization", std::move(authorization));
  req.headers.Set("Content-Type", "application/xml");
  req.headers.Set("Accept", "application/xml");
  GB_ASSIGN_OR_RETURN(out.response, http_.Send(req, options_));
  if (!out.response.body.empty()) {
    auto pox = ParseResponse(out.response.body);
    if (pox.ok()) out.pox = std::move(*pox);
    else out.pox_error = pox.status().message();
  } else {
    out.pox_error = "The answer has no body.";
  }
  return out;
}

}  // namespace gb::lti11
