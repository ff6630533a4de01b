#include "app/score_api.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "base/url.h"
#include "lti/claims.h"
#include "lti/launch.h"
#include "server/errors.h"

namespace gb::app {
namespace {

using nlohmann::json;

Status Invalid(const char* reason, std::string message) {
  return Error(Code::kInvalidArgument, reason, std::move(message));
}

}  // namespace

// A JSON number that is a real number; NaN/Infinity never parse as JSON, but a string "NaN" or a
// bool must not sneak through either.
Result<std::optional<double>> OptionalNumber(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return Invalid("score.not_a_number", std::string(key) + " must be a JSON number.");
  return std::optional<double>(it->get<double>());
}

Result<std::string> OptionalString(const json& body, const char* key, const std::string& fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Invalid("score.bad_field", std::string(key) + " must be a string.");
  return it->get<std::string>();
}

Result<passback::GradedBy> ParseGradedBy(const json& body, const passback::GradedBy& fallback) {
  auto by = body.find("graded_by");
  if (by == body.end() || by->is_null()) return fallback;
  if (!by->is_object()) return Invalid("score.bad_graded_by", "graded_by must be an object {kind, id, model}.");
  passback::GradedBy out;
  GB_ASSIGN_OR_RETURN(out.kind, OptionalString(*by, "kind", "system"));
  GB_ASSIGN_OR_RETURN(out.id, OptionalString(*by, "id"));
  GB_ASSIGN_OR_RETURN(out.model, OptionalString(*by, "model"));
  return out;
}

// The same rule AgsClient applies before sending, so a URL accepted here is not refused at
// delivery for its host (service_hosts included, ports as Registration::AllowsUrl says).
bool HostAllowed(const lti::Registration& reg, const std::string& url) {
  auto u = Url::Parse(url);
  return u.ok() && reg.AllowsUrl(*u);
}

json ScoreToJson(const passback::ScoreRecord& s) {
  json j = {{"id", s.id},
            {"status", std::string(passback::StateName(s.state))},
            {"registration_id", s.registration_id.str()},
            {"user_id", s.user_id},
            {"context_id", s.context_id},
            {"resource_link_id", s.resource_link_id},
            {"lineitem_url", s.lineitem_url},
            {"activity_progress", s.activity_progress},
            {"grading_progress", s.grading_progress},
            {"graded_by", {{"kind", s.graded_by.kind}, {"id", s.graded_by.id}, {"model", s.graded_by.model}}},
            {"timestamp", FormatIso8601Millis(TimePoint(std::chrono::milliseconds(s.timestamp_ms)))},
            {"attempts", s.attempts},
            {"idempotency_key", s.idempotency_key},
            {"created_at", FormatIso8601Millis(TimePoint(std::chrono::milliseconds(s.created_at_ms)))}};
  j["score_given"] = s.score_given ? json(*s.score_given) : json(nullptr);
  j["score_maximum"] = s.score_maximum ? json(*s.score_maximum) : json(nullptr);
  if (!s.launch_id.empty()) j["launch_id"] = s.launch_id;
  j["protocol"] = s.result_sourcedid.empty() ? "ags" : "lti11";
  if (s.last_http_status) j["last_platform_status"] = s.last_http_status;
  if (!s.last_response.empty()) j["last_platform_response"] = s.last_response;
  if (!s.diagnosis.empty()) j["diagnosis"] = s.diagnosis;
  if (!s.superseded_by.empty()) j["superseded_by"] = s.superseded_by;
  if (s.state == passback::ScoreState::kQueued && s.next_attempt_at_ms) {
    j["next_attempt_at"] = FormatIso8601Millis(TimePoint(std::chrono::milliseconds(s.next_attempt_at_ms)));
  }
  if (s.delivered_at_ms) {
    j["delivered_at"] = FormatIso8601Millis(TimePoint(std::chrono::milliseconds(s.delivered_at_ms)));
  }
  return j;
}

ScoreApi::ScoreApi(lti::RegistrationStore& registrations, lti::LaunchStore& launches, passback::QueueStore& queue,
                   Clock& clock, Random& random, Authenticator authenticate)
    : registrations_(registrations),
      launches_(launches),
      queue_(queue),
      clock_(clock),
      random_(random),
      authenticate_(std::move(authenticate)) {}

Result<passback::ScoreRecord> ScoreApi::ParseLti11Target(const lti::Launch& launch, const lti::Tenant& tenant,
                                                          const std::string& user_id, passback::ScoreRecord& s,
                                                          lti::Registration& registration) {
  // LTI 1.1 Basic Outcomes: the launch's sourcedid names exactly one cell (this user on this
  // resource link), and the value is a fraction, so a score is required and nobody else's.
  if (!user_id.empty() && user_id != launch.user.id) {
    return Invalid("score.lti11_other_user",
                   "An LTI 1.1 launch's lis_result_sourcedid is the launching user's gradebook cell; a score for "
                   "another user needs that user's own launch.");
  }
  if (!s.score_given) {
    return Invalid("score.lti11_needs_score",
                   "LTI 1.1 Basic Outcomes carries only a score: give score_given and score_maximum.");
  }
  auto reg = registrations_.GetRegistration(launch.registration_id);
  if (!reg.ok() || reg->tenant_id != tenant.id) {
    return Error(Code::kNotFound, "score.unknown_registration",
                 "The registration of launch " + launch.id + " no longer exists.");
  }
  if (!HostAllowed(*reg, launch.basic_outcome->service_url)) {
    return Error(Code::kPermissionDenied, "score.host_not_allowed",
                 "The launch's lis_outcome_service_url " + launch.basic_outcome->service_url +
                     " is not on a host of this registration; add the platform's host with "
                     "`gradebridge registration update --add-service-host`.");
  }
  registration = std::move(*reg);
  s.launch_id = launch.id;
  s.registration_id = launch.registration_id;
  s.lineitem_url = launch.basic_outcome->service_url;
  s.result_sourcedid = launch.basic_outcome->sourcedid;
  s.context_id = launch.context ? launch.context->id : "";
  s.resource_link_id = launch.resource_link ? launch.resource_link->id : "";
  s.user_id = launch.user.id;
  return s;
}

Result<passback::ScoreRecord> ScoreApi::Parse(const http::Request& req, const lti::Tenant& tenant,
                                              lti::Registration& registration) {
  auto ct = ToLower(req.headers.Get("Content-Type").value_or(""));
  if (!StartsWith(ct, "application/json")) {
    return Error(Code::kUnsupported, "score.bad_content_type", "Send the score as application/json.");
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Invalid("score.bad_json", "The body is not a JSON object.");

  passback::ScoreRecord s;
  s.tenant_id = tenant.id;
  GB_ASSIGN_OR_RETURN(s.score_given, OptionalNumber(body, "score_given"));
  GB_ASSIGN_OR_RETURN(s.score_maximum, OptionalNumber(body, "score_maximum"));
  GB_ASSIGN_OR_RETURN(s.activity_progress, OptionalString(body, "activity_progress", "Completed"));
  GB_ASSIGN_OR_RETURN(s.grading_progress, OptionalString(body, "grading_progress", "FullyGraded"));
  GB_ASSIGN_OR_RETURN(s.comment, OptionalString(body, "comment"));
  GB_ASSIGN_OR_RETURN(std::string user_id, OptionalString(body, "user_id"));

  // graded_by: who set this grade (audit). Default: the tool's system.
  GB_ASSIGN_OR_RETURN(s.graded_by, ParseGradedBy(body, passback::GradedBy{"system", "", ""}));

  // The grading time: the tool's, when it sends one; otherwise acceptance time. Never send time.
  const int64_t now_ms = clock_.NowMillis();
  GB_ASSIGN_OR_RETURN(std::string ts, OptionalString(body, "timestamp"));
  if (!ts.empty()) {
    auto t = ParseIso8601(ts);
    if (!t) return Invalid("score.bad_timestamp", "timestamp must be ISO 8601 with a zone, e.g. 2026-11-25T08:00:00.000Z.");
    s.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    if (s.timestamp_ms > now_ms + 60'000) {
      return Invalid("score.timestamp_in_future", "timestamp is more than a minute in the future.");
    }
  } else {
    s.timestamp_ms = now_ms;
  }

  // Idempotency: header wins over body; without either, the score is accepted once per request.
  std::string key = req.headers.Get("Idempotency-Key").value_or("");
  if (key.empty()) {
    GB_ASSIGN_OR_RETURN(key, OptionalString(body, "idempotency_key"));
  }
  s.idempotency_key = key;

  // Target: a launch from the hand-off, or an explicit registration + line item.
  GB_ASSIGN_OR_RETURN(std::string launch_id, OptionalString(body, "launch_id"));
  if (!launch_id.empty()) {
    auto stored = launches_.GetLaunch(launch_id);
    if (!stored.ok() || stored->tenant_id != tenant.id) {
      return Error(Code::kNotFound, "score.unknown_launch", "No launch " + launch_id + " for this tenant.");
    }
    GB_ASSIGN_OR_RETURN(lti::Launch launch, lti::Launch::FromJson(json::parse(stored->launch_json, nullptr, false)));
    if (launch.basic_outcome) return ParseLti11Target(launch, tenant, user_id, s, registration);
    if (!launch.ags || (launch.ags->lineitem.empty() && launch.ags->lineitems.empty())) {
      return Error(Code::kUnsupported, "score.no_ags",
                   "The platform did not offer grade passback (AGS) for this launch; check the tool's "
                   "placement and the developer key's scopes.");
    }
    const auto& scopes = launch.ags->scopes;
    if (std::find(scopes.begin(), scopes.end(), lti::kScopeScore) == scopes.end()) {
      return Error(Code::kUnsupported, "score.no_score_scope",
                   "The platform did not grant the AGS score scope for this launch.");
    }
    // The registration's passback policy applies; a launch outlives a removed registration, but
    // a score for it could never be delivered.
    auto reg = registrations_.GetRegistration(launch.registration_id);
    if (!reg.ok() || reg->tenant_id != tenant.id) {
      return Error(Code::kNotFound, "score.unknown_registration",
                   "The registration of launch " + launch_id + " no longer exists.");
    }
    registration = std::move(*reg);
    s.launch_id = launch.id;
    s.registration_id = launch.registration_id;
    s.lineitem_url = launch.ags->lineitem;
    s.lineitems_url = launch.ags->lineitems;
    s.context_id = launch.context ? launch.context->id : "";
    s.resource_link_id = launch.resource_link ? launch.resource_link->id : "";
    s.user_id = user_id.empty() ? launch.user.id : user_id;
  } else {
    GB_ASSIGN_OR_RETURN(std::string reg_id, OptionalString(body, "registration_id"));
    if (reg_id.empty()) {
      return Invalid("score.missing_target", "Name a launch_id, or a registration_id with a lineitem_url or a "
                                             "lineitems_url + resource_link_id.");
    }
    auto reg = registrations_.GetRegistration(lti::RegistrationId(reg_id));
    if (!reg.ok() || reg->tenant_id != tenant.id) {
      return Error(Code::kNotFound, "score.unknown_registration", "No registration " + reg_id + " for this tenant.");
    }
    s.registration_id = reg->id;
    GB_ASSIGN_OR_RETURN(s.lineitem_url, OptionalString(body, "lineitem_url"));
    GB_ASSIGN_OR_RETURN(s.lineitems_url, OptionalString(body, "lineitems_url"));
    GB_ASSIGN_OR_RETURN(s.context_id, OptionalString(body, "context_id"));
    GB_ASSIGN_OR_RETURN(s.resource_link_id, OptionalString(body, "resource_link_id"));
    if (s.lineitem_url.empty() && (s.lineitems_url.empty() || s.resource_link_id.empty())) {
      return Invalid("score.missing_target", "Give a lineitem_url, or a lineitems_url with a resource_link_id.");
    }
    // Outbound URLs must belong to the registration: no request to an unregistered host, ever.
    for (const std::string* u : {&s.lineitem_url, &s.lineitems_url}) {
      if (!u->empty() && !HostAllowed(*reg, *u)) {
        return Error(Code::kPermissionDenied, "score.host_not_allowed",
                     "The URL " + *u + " is not on a host of this registration.");
      }
    }
    s.user_id = user_id;
    registration = std::move(*reg);
  }
  return s;
}

Result<ScoreApi::Accepted> ScoreApi::Accept(passback::ScoreRecord score, const passback::ScorePolicy& policy) {
  if (score.idempotency_key.empty()) score.idempotency_key = "auto:" + random_.Token(16);
  GB_RETURN_IF_ERROR(passback::ValidateScore(score, policy));

  const int64_t now_ms = clock_.NowMillis();
  score.id = "s_" + random_.Hex(12);
  score.state = passback::ScoreState::kQueued;
  score.next_attempt_at_ms = now_ms;
  score.created_at_ms = now_ms;
  score.updated_at_ms = now_ms;
  auto result = queue_.EnqueueBatch({score});
  if (!result.ok()) {
    LogError("score.enqueue_failed", {{"reason", result.status().reason()}});
    return result.status();
  }
  const passback::EnqueueResult& r = result->front();
  if (on_enqueued_ && !r.existing) on_enqueued_();
  Accepted out{r.id, {{"id", r.id}, {"status", r.superseded_on_arrival ? "superseded" : "queued"}}};
  if (r.existing) {
    auto existing = queue_.GetScore(score.tenant_id, r.id);
    if (existing.ok()) out.body["status"] = std::string(passback::StateName(existing->state));
    out.body["duplicate"] = true;
  }
  if (!r.superseded_ids.empty()) out.body["supersedes"] = r.superseded_ids;
  return out;
}

http::Response ScoreApi::Submit(const http::Request& req) {
  auto tenant = authenticate_(req);
  if (!tenant.ok()) return server::JsonError(tenant.status());
  lti::Registration registration;
  auto score = Parse(req, *tenant, registration);
  if (!score.ok()) return server::JsonError(score.status());
  auto accepted = Accept(std::move(*score), passback::ScorePolicy::For(registration));
  if (!accepted.ok()) return server::JsonError(accepted.status());
  http::Response resp = http::Response::Json(202, accepted->body.dump());
  resp.headers.Set("Location", "/api/v1/scores/" + accepted->id);
  return resp;
}

http::Response ScoreApi::GetStatus(const http::Request& req) {
  auto tenant = authenticate_(req);
  if (!tenant.ok()) return server::JsonError(tenant.status());
  std::string id = req.Path().substr(std::string_view("/api/v1/scores/").size());
  auto score = queue_.GetScore(tenant->id, id);
  if (!score.ok()) return server::JsonError(score.status());
  return http::Response::Json(200, ScoreToJson(*score).dump());
}

}  // namespace gb::app
