#include "lti/login_state.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "jose/jose.h"

namespace gb::lti {

std::string LoginStateCodec::Seal(const LoginState& s) const {
  nlohmann::json j = {{"s", s.state}, {"n", s.nonce}, {"r", s.registration_id},
                      {"t", s.target_link_uri}, {"d", s.login_deployment_id}, {"x", s.expires_at}};
  std::string payload = Base64UrlEncode(j.dump());
  return payload + "." + Base64UrlEncode(jose::HmacSha256(key_, payload));
}

Result<LoginState> LoginStateCodec::Open(std::string_view value, int64_t now) const {
  auto bad = [] {
    return Error(Code::kUnauthenticated, "launch.state_cookie_invalid",
                 "The launch session cookie is damaged or was not issued by this server.");
  };
  size_t dot = value.find('.');
  if (dot == std::string_view::npos || value.size() > 8192) return bad();
  std::string_view payload = value.substr(0, dot);
  auto mac = Base64UrlDecode(value.substr(dot + 1));
  if (!mac || !ConstantTimeEquals(*mac, jose::HmacSha256(key_, payload))) return bad();
  auto json_text = Base64UrlDecode(payload);
  if (!json_text) return bad();
  auto j = nlohmann::json::parse(*json_text, nullptr, false);
  if (!j.is_object()) return bad();
  LoginState s;
  s.state = j.value("s", "");
  s.nonce = j.value("n", "");
  s.registration_id = j.value("r", "");
  s.target_link_uri = j.value("t", "");
  s.login_deployment_id = j.value("d", "");
  s.expires_at = j.value("x", int64_t{0});
  if (now >= s.expires_at) {
    return Error(Code::kUnauthenticated, "launch.state_expired",
                 "The launch took too long between login and launch; please launch again.");
  }
  return s;
}

}  // namespace gb::lti
