#include "lti/oidc_login.h"

#include "base/url.h"

namespace gb::lti {
namespace {

std::optional<std::string> NonEmpty(const FormFields& f, std::string_view key) {
  auto v = FormValue(f, key);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

bool SameOrigin(std::string_view a, std::string_view b) {
  auto ua = Url::Parse(a);
  auto ub = Url::Parse(b);
  return ua.ok() && ub.ok() && ua->Origin() == ub->Origin();
}

}  // namespace

Result<LoginRequest> LoginRequest::FromForm(const FormFields& f) {
  LoginRequest r;
  auto iss = NonEmpty(f, "iss");
  if (!iss) return Error(Code::kInvalidArgument, "login.missing_iss", "The login request has no issuer (iss).");
  auto hint = NonEmpty(f, "login_hint");
  if (!hint) return Error(Code::kInvalidArgument, "login.missing_login_hint", "The login request has no login_hint.");
  auto target = NonEmpty(f, "target_link_uri");
  if (!target) {
    return Error(Code::kInvalidArgument, "login.missing_target_link_uri", "The login request has no target_link_uri.");
  }
  r.iss = *iss;
  r.login_hint = *hint;
  r.target_link_uri = *target;
  r.lti_message_hint = FormValue(f, "lti_message_hint");
  r.lti_deployment_id = NonEmpty(f, "lti_deployment_id");
  r.client_id = NonEmpty(f, "client_id");
  r.lti_storage_target = NonEmpty(f, "lti_storage_target");
  return r;
}

OidcLogin::OidcLogin(RegistrationStore& registrations, const LoginStateCodec& codec, Clock& clock,
                     Random& random, LoginSettings settings)
    : registrations_(registrations), codec_(codec), clock_(clock), random_(random), settings_(std::move(settings)) {}

Result<LoginResult> OidcLogin::Start(const LoginRequest& req) {
  Registration reg;
  if (req.client_id) {
    auto found = registrations_.FindRegistration(req.iss, *req.client_id);
    if (!found.ok()) {
      if (found.status().code() != Code::kNotFound) return found.status();
      auto by_issuer = registrations_.FindRegistrationsByIssuer(req.iss);
      if (by_issuer.ok() && by_issuer->empty()) {
        return Error(Code::kNotFound, "login.unknown_issuer",
                     "No registration for the platform issuer \"" + req.iss + "\". Register it first.");
      }
      return Error(Code::kNotFound, "login.unknown_client",
                   "The platform \"" + req.iss + "\" is registered, but not with client_id \"" + *req.client_id + "\".");
    }
    reg = std::move(*found);
  } else {
    GB_ASSIGN_OR_RETURN(auto regs, registrations_.FindRegistrationsByIssuer(req.iss));
    if (regs.empty()) {
      return Error(Code::kNotFound, "login.unknown_issuer",
                   "No registration for the platform issuer \"" + req.iss + "\". Register it first.");
    }
    if (regs.size() > 1) {
      return Error(Code::kInvalidArgument, "login.ambiguous_client",
                   "Several registrations share the issuer \"" + req.iss +
                       "\"; the platform must send client_id in the login request.");
    }
    reg = std::move(regs.front());
  }
  if (req.lti_deployment_id && !reg.HasDeployment(*req.lti_deployment_id)) {
    return Error(Code::kPermissionDenied, "login.unknown_deployment",
                 "Deployment \"" + *req.lti_deployment_id + "\" is not registered for this platform.");
  }
  bool allowed = SameOrigin(req.target_link_uri, settings_.tool_origin) ||
                 (!reg.target_url.empty() && SameOrigin(req.target_link_uri, reg.target_url));
  if (!allowed) {
    return Error(Code::kPermissionDenied, "login.target_not_allowed",
                 "The target_link_uri does not point at this tool.");
  }

  LoginState s;
  s.state = random_.Token(24);
  s.nonce = random_.Token(24);
  s.registration_id = reg.id.str();
  s.target_link_uri = req.target_link_uri;
  s.login_deployment_id = req.lti_deployment_id.value_or("");
  s.expires_at = clock_.NowSeconds() + settings_.state_ttl.count();

  FormFields q = {{"scope", "openid"},
                  {"response_type", "id_token"},
                  {"response_mode", "form_post"},
                  {"prompt", "none"},
                  {"client_id", reg.client_id},
                  {"redirect_uri", settings_.redirect_uri},
                  {"login_hint", req.login_hint},
                  {"state", s.state},
                  {"nonce", s.nonce}};
  if (req.lti_message_hint) q.emplace_back("lti_message_hint", *req.lti_message_hint);

  LoginResult out;
  out.auth_url = reg.auth_url + (reg.auth_url.find('?') == std::string::npos ? "?" : "&") + EncodeForm(q);
  out.state = s.state;
  out.cookie_name = std::string(kStateCookiePrefix) + s.state;
  out.cookie_value = codec_.Seal(s);
  out.cookie_max_age = static_cast<int>(settings_.state_ttl.count());
  return out;
}

}  // namespace gb::lti
