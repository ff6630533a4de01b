#include "app/grade_passback.h"

#include <nlohmann/json.hpp>

#include "app/admin.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/url.h"
#include "server/errors.h"

namespace gb::app {
namespace {

using nlohmann::json;

Status Invalid(const char* reason, std::string message) {
  return Error(Code::kInvalidArgument, reason, std::move(message));
}

Status BadCredentials() {
  return Error(Code::kUnauthenticated, "grade_passback.bad_credentials", "The passback key or secret is not valid.");
}

Result<std::string> RequiredString(const json& body, const char* key) {
  GB_ASSIGN_OR_RETURN(std::string value, OptionalString(body, key));
  if (value.empty()) return Invalid("grade_passback.missing_field", std::string(key) + " is required.");
  return value;
}

// Compared against when the key id is unknown, so that path costs the same hash and compare.
constexpr std::string_view kNoSuchKeyHash = "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace

GradePassbackApi::GradePassbackApi(lti::PassbackKeyStore& keys, lti::RegistrationStore& registrations,
                                   ScoreApi& scores, Clock& clock)
    : keys_(keys), registrations_(registrations), scores_(scores), clock_(clock) {}

Result<lti::PassbackKey> GradePassbackApi::Authenticate(const http::Request& req) {
  auto auth = req.headers.Get("Authorization");
  if (!auth || !StartsWith(ToLower(*auth), "basic ")) {
    return Error(Code::kUnauthenticated, "grade_passback.missing_credentials",
                 "Send a passback key pair as HTTP Basic credentials (key:secret).");
  }
  auto decoded = Base64Decode(Trim(std::string_view(*auth).substr(6)));
  if (!decoded) return BadCredentials();
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return BadCredentials();
  const std::string id = decoded->substr(0, colon);
  const std::string presented = HashSecret(std::string_view(*decoded).substr(colon + 1));
  auto key = keys_.FindPassbackKey(id);
  if (!key.ok() && key.status().code() != Code::kNotFound) return key.status();  // storage trouble: 503/500
  const bool match = ConstantTimeEquals(presented, key.ok() ? key->secret_hash : kNoSuchKeyHash);
  if (!key.ok() || !match) return BadCredentials();
  return key;
}

Result<passback::ScoreRecord> GradePassbackApi::Parse(const http::Request& req, const lti::PassbackKey& key) {
  auto ct = ToLower(req.headers.Get("Content-Type").value_or(""));
  if (!StartsWith(ct, "application/json")) {
    return Error(Code::kUnsupported, "grade_passback.bad_content_type", "Send the passback as application/json.");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Invalid("grade_passback.bad_json", "The body is not a JSON object.");

  // Learnosity echoes the key it authenticated with; a different one means a misconfiguration.
  GB_ASSIGN_OR_RETURN(std::string consumer_key, OptionalString(body, "oauth_consumer_key"));
  if (!consumer_key.empty() && consumer_key != key.id) {
    return Invalid("grade_passback.consumer_key_mismatch",
                   "oauth_consumer_key does not match the key in the Authorization header.");
  }
  GB_ASSIGN_OR_RETURN(std::string client_id, RequiredString(body, "client_id"));
  GB_ASSIGN_OR_RETURN(std::string token_url, RequiredString(body, "token_url"));
  GB_ASSIGN_OR_RETURN(std::string lineitems, RequiredString(body, "lineitems"));
  GB_ASSIGN_OR_RETURN(std::string user_id, RequiredString(body, "user_id"));

  passback::ScoreRecord s;
  s.tenant_id = key.tenant_id;
  s.user_id = user_id;
  s.lineitems_url = lineitems;
  GB_ASSIGN_OR_RETURN(s.lineitem_url, OptionalString(body, "lineitem"));
  GB_ASSIGN_OR_RETURN(s.resource_link_id, OptionalString(body, "resource_link_id"));
  GB_ASSIGN_OR_RETURN(s.context_id, OptionalString(body, "context_id"));
  // A container URL alone names no grade column; coalescing on it would let one activity's
  // score supersede another's for the same learner.
  if (s.lineitem_url.empty() && s.resource_link_id.empty()) {
    return Invalid("grade_passback.missing_target",
                   "lineitems is the line items container; also send lineitem (the launch's line item URL) or "
                   "resource_link_id in lis_data, so the grade column can be found or created.");
  }

  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) {
    return Invalid("grade_passback.missing_field", "data {score, max_score} is required.");
  }
  GB_ASSIGN_OR_RETURN(s.score_given, OptionalNumber(*data, "score"));
  GB_ASSIGN_OR_RETURN(s.score_maximum, OptionalNumber(*data, "max_score"));
  if (!s.score_given || !s.score_maximum) {
    return Invalid("grade_passback.missing_field", "data.score and data.max_score are required.");
  }
  GB_ASSIGN_OR_RETURN(s.graded_by, ParseGradedBy(body, passback::GradedBy{"system", "learnosity", ""}));
  s.activity_progress = "Completed";
  s.grading_progress = "FullyGraded";
  // Learnosity sends no grading time; acceptance time keeps a late retry from rolling a newer
  // grade back (DESIGN §7).
  s.timestamp_ms = clock_.NowMillis();
  if (auto k = req.headers.Get("Idempotency-Key"); k && !k->empty()) {
    s.idempotency_key = std::string(kIdempotencyPrefix) + *k;
  }

  // The registration: this tenant's, for this client_id at this token endpoint.
  GB_ASSIGN_OR_RETURN(std::vector<lti::Registration> regs, registrations_.ListRegistrations(key.tenant_id));
  const lti::Registration* reg = nullptr;
  for (const auto& r : regs) {
    if (r.client_id != client_id || r.token_url != token_url) continue;
    if (reg) {
      return Error(Code::kConflict, "grade_passback.ambiguous_registration",
                   "Several registrations of this tenant have client_id " + client_id + " and token_url " +
                       token_url + ".");
    }
    reg = &r;
  }
  if (!reg) {
    return Error(Code::kNotFound, "grade_passback.unknown_registration",
                 "No registration of this key's tenant has client_id " + client_id + " and token_url " + token_url +
                     ".");
  }
  s.registration_id = reg->id;
  // Outbound URLs must belong to the registration: no request to an unregistered host, ever.
  for (const std::string* u : {&s.lineitems_url, &s.lineitem_url}) {
    if (!u->empty() && !HostAllowed(*reg, *u)) {
      return Error(Code::kPermissionDenied, "grade_passback.host_not_allowed",
                   "The URL " + *u + " is not on a host of the registration for client_id " + client_id + ".");
    }
  }
  return s;
}

http::Response GradePassbackApi::Handle(const http::Request& req) {
  auto key = Authenticate(req);
  if (!key.ok()) {
    http::Response resp = server::JsonError(key.status());
    if (key.status().code() == Code::kUnauthenticated) {
      resp.headers.Set("WWW-Authenticate", "Basic realm=\"gradebridge\"");
    }
    return resp;
  }
  auto score = Parse(req, *key);
  if (!score.ok()) {
    LogWarn("grade_passback.rejected", {{"reason", score.status().reason()}, {"key", key->id}});
    return server::JsonError(score.status());
  }
  auto registration = registrations_.GetRegistration(score->registration_id);
  if (!registration.ok()) return server::JsonError(registration.status());
  auto accepted = scores_.Accept(std::move(*score), passback::ScorePolicy::For(*registration));
  if (!accepted.ok()) {
    LogWarn("grade_passback.rejected", {{"reason", accepted.status().reason()}, {"key", key->id}});
    return server::JsonError(accepted.status());
  }
  return http::Response::Json(200, accepted->body.dump());
}

}  // namespace gb::app
