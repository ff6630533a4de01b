#include "app/lti11_launch.h"

#include "app/lti11_keys.h"
#include "base/log.h"
#include "base/strings.h"
#include "lti11/launch11.h"
#include "server/errors.h"

namespace gb::app {

Lti11LaunchEndpoint::Lti11LaunchEndpoint(lti::Lti11ConsumerStore& consumers, lti::RegistrationStore& registrations,
                                         lti::NonceStore& nonces, lti::LaunchHandOff& handoff, Clock& clock,
                                         std::string data_key, int64_t window_seconds)
    : consumers_(consumers),
      registrations_(registrations),
      nonces_(nonces),
      handoff_(handoff),
      clock_(clock),
      data_key_(std::move(data_key)),
      window_seconds_(window_seconds) {}

http::Response Lti11LaunchEndpoint::Handle(const http::Request& req) {
  constexpr std::string_view kTitle = "LTI 1.1 launch refused";
  auto refuse = [&](const Status& s) {
    LogWarn("lti11.launch.rejected", {{"reason", s.reason()}});
    return server::HtmlError(s, kTitle);
  };
  auto ct = req.headers.Get("Content-Type").value_or("");
  if (!StartsWith(ToLower(ct), "application/x-www-form-urlencoded")) {
    return refuse(Error(Code::kInvalidArgument, "request.bad_content_type",
                        "An LTI 1.1 launch is an application/x-www-form-urlencoded form post."));
  }
  auto form = ParseForm(req.body);
  if (!form) return refuse(Error(Code::kInvalidArgument, "request.bad_form", "The form data is not valid url-encoding."));

  lti11::SignedRequest signed_req;
  signed_req.method = "POST";
  signed_req.url = public_url_ + req.Path();
  if (std::string q = req.Query(); !q.empty()) signed_req.url += "?" + q;
  signed_req.form.assign(form->begin(), form->end());
  if (auto auth = req.headers.Get("Authorization"); auth && StartsWith(ToLower(*auth), "oauth ")) {
    signed_req.authorization = *auth;
  }
  lti11::VerifyOptions options;
  options.now = clock_.NowSeconds();
  options.window_seconds = window_seconds_;
  auto secrets = [this](std::string_view key) { return Lti11SecretFor(consumers_, data_key_, key); };
  auto nonces = [this](std::string_view key, std::string_view nonce, int64_t expires_at) {
    return nonces_.ConsumeNonce("lti11:" + std::string(key), nonce, expires_at);
  };
  auto verified = lti11::VerifyLaunch(signed_req, options, secrets, nonces);
  if (!verified.ok()) return refuse(verified.status());

  auto consumer = consumers_.FindLti11Consumer(verified->oauth().consumer_key);
  if (!consumer.ok()) return refuse(consumer.status());
  auto registration = registrations_.GetRegistration(consumer->registration_id);
  if (!registration.ok() || registration->tenant_id != consumer->tenant_id) {
    return refuse(Error(Code::kFailedPrecondition, "lti11.no_registration",
                        "The consumer key's registration no longer exists; ask the administrator to re-add the key."));
  }
  auto done = handoff_.CompleteLaunch(
      [&](std::string id, int64_t now) { return lti11::ToLaunch(*verified, *registration, std::move(id), now); },
      *registration);
  if (!done.ok()) return server::HtmlError(done.status(), "LTI 1.1 launch failed");
  const lti::Launch& l = done->launch;
  LogInfo("lti11.launch.accepted", {{"launch_id", l.id}, {"consumer_key", consumer->consumer_key},
                                    {"registration_id", l.registration_id.str()},
                                    {"outcomes", l.basic_outcome ? "yes" : "no"}});
  if (!done->redirect_url.empty()) return http::Response::Redirect(done->redirect_url, 303);
  std::string body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>LTI 1.1 launch received</title>"
                     "</head><body style=\"font-family:system-ui,sans-serif;margin:2em\"><h1>LTI 1.1 launch received"
                     "</h1><dl>";
  auto row = [&](std::string_view k, std::string_view v) {
    body += "<dt>" + HtmlEscape(k) + "</dt><dd>" + HtmlEscape(v.empty() ? "(not sent)" : v) + "</dd>";
  };
  std::string roles;
  for (const auto& r : l.role_names) roles += (roles.empty() ? "" : ", ") + r;
  row("User", l.user.name.empty() ? l.user.id : l.user.name + " (" + l.user.id + ")");
  row("Role", roles);
  row("Context", l.context ? l.context->id : "");
  row("Resource link", l.resource_link ? l.resource_link->id : "");
  row("Grade passback", l.basic_outcome ? "Basic Outcomes" : "");
  row("Launch id", l.id);
  body += "</dl><p>This registration has no target URL, so the launch stops here.</p></body></html>";
  return http::Response::Html(200, body);
}

}  // namespace gb::app
