#include "lti/ags_client.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "base/url.h"
#include "lti/claims.h"

namespace gb::lti {
namespace {

using json = nlohmann::json;

json ParseJsonQuietly(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return json(json::value_t::discarded);
  return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Strings, tolerating numbers (some platforms send numeric ids); "" for absent/null/other.
std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  return "";
}

// Numbers, tolerating numeric strings ("100.00000"); nullopt for absent/null/other.
std::optional<double> Number(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_number()) {
    double v = it->get<double>();
    return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
  }
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 40) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

std::string HostList(const Registration& registration) {
  std::string out;
  for (const auto& h : registration.AllowedHosts()) {
    if (!out.empty()) out += ", ";
    out += h;
  }
  return out.empty() ? "none" : out;
}

Status NotAllowed(const Registration& registration, const Url& url) {
  const std::string host = url.explicit_port ? url.Authority() : url.host;
  return Error(Code::kPermissionDenied, "service.host_not_allowed",
               "The service URL's host " + host + " is not one of this registration's hosts (" +
                   HostList(registration) + "); nothing was sent.");
}

Result<Url> CheckUrl(const Registration& registration, std::string_view url) {
  auto parsed = Url::Parse(url);
  if (!parsed.ok()) {
    return Error(Code::kInvalidArgument, "ags.invalid_url",
                 "The service URL is not a valid http(s) URL: " + parsed.status().message());
  }
  if (!registration.AllowsUrl(*parsed)) return NotAllowed(registration, *parsed);
  return parsed;
}

std::string AddQuery(const std::string& url, std::string_view key, std::string_view value) {
  auto parsed = Url::Parse(url);
  return parsed.ok() ? parsed->WithQueryParam(key, value) : url;
}

ServiceOutcome Permanent(ServiceOutcome o, std::string reason, std::string diagnosis) {
  o.classification = Classification::kPermanent;
  o.reason = std::move(reason);
  o.diagnosis = std::move(diagnosis);
  return o;
}

ServiceOutcome InvalidBody(ServiceOutcome o, std::string_view what) {
  std::string status = std::to_string(o.response.status);
  return Permanent(std::move(o), "ags.invalid_response",
                   "The platform answered HTTP " + status + " but the body is not " + std::string(what) + ".");
}

std::optional<LineItem> ParseLineItem(const json& j) {
  if (!j.is_object()) return std::nullopt;
  LineItem item;
  item.id = Text(j, "id");
  item.score_maximum = Number(j, "scoreMaximum").value_or(0);
  item.label = Text(j, "label");
  item.resource_id = Text(j, "resourceId");
  item.resource_link_id = Text(j, "resourceLinkId");
  item.tag = Text(j, "tag");
  json extra = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "id" || k == "scoreMaximum" || k == "label" || k == "resourceId" || k == "resourceLinkId" ||
        k == "tag") {
      continue;
    }
    if (k == "startDateTime" || k == "endDateTime") {
      if (it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty())) continue;
      std::optional<TimePoint> t;
      if (it->is_string()) t = ParseIso8601(it->get_ref<const std::string&>());
      if (t) {
        (k == "startDateTime" ? item.start_date_time : item.end_date_time) = t;
        continue;
      }
    }
    extra[k] = *it;  // kept for a faithful PUT
  }
  if (!extra.empty()) item.extra_json = Dump(extra);
  return item;
}

std::optional<AgsResult> ParseResult(const json& j) {
  if (!j.is_object()) return std::nullopt;
  AgsResult r;
  r.id = Text(j, "id");
  r.score_of = Text(j, "scoreOf");
  r.user_id = Text(j, "userId");
  r.result_score = Number(j, "resultScore");
  auto max = Number(j, "resultMaximum");
  r.result_maximum = max && *max > 0 ? *max : 1;
  r.scoring_user_id = Text(j, "scoringUserId");
  if (auto it = j.find("comment"); it != j.end() && it->is_string()) r.comment = it->get<std::string>();
  return r;
}

std::string ResolveLink(const std::string& current, const std::string& link) {
  if (!link.empty() && link.front() == '/' && (link.size() < 2 || link[1] != '/')) {
    auto base = Url::Parse(current);
    if (base.ok()) return base->Origin() + link;
  }
  return link;
}

const std::vector<std::vector<std::string>>& ReadLineItemScopes() {
  static const std::vector<std::vector<std::string>> kScopes = {{kScopeLineItemReadOnly}, {kScopeLineItem}};
  return kScopes;
}
const std::vector<std::vector<std::string>>& WriteLineItemScopes() {
  static const std::vector<std::vector<std::string>> kScopes = {{kScopeLineItem}};
  return kScopes;
}

Status InvalidLineItem(std::string why) {
  return Error(Code::kInvalidArgument, "ags.invalid_line_item", "Invalid line item: " + why);
}

Status ValidateLineItem(const LineItem& item) {
  if (Trim(item.label).empty()) return InvalidLineItem("label must not be blank.");
  if (!std::isfinite(item.score_maximum) || item.score_maximum <= 0) {
    return InvalidLineItem("scoreMaximum must be a number greater than 0.");
  }
  if (!item.extra_json.empty()) {
    auto extra = ParseJsonQuietly(item.extra_json);
    if (!extra.is_object()) return InvalidLineItem("extra_json must be a JSON object.");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ActivityProgressName(ActivityProgress p) {
  switch (p) {
    case ActivityProgress::kInitialized: return "Initialized";
    case ActivityProgress::kStarted: return "Started";
    case ActivityProgress::kInProgress: return "InProgress";
    case ActivityProgress::kSubmitted: return "Submitted";
    case ActivityProgress::kCompleted: return "Completed";
  }
  return "Completed";
}

std::string_view GradingProgressName(GradingProgress p) {
  switch (p) {
    case GradingProgress::kFullyGraded: return "FullyGraded";
    case GradingProgress::kPending: return "Pending";
    case GradingProgress::kPendingManual: return "PendingManual";
    case GradingProgress::kFailed: return "Failed";
    case GradingProgress::kNotReady: return "NotReady";
  }
  return "FullyGraded";
}

Status ValidateScore(const Score& score) {
  auto bad = [](std::string why) { return Error(Code::kInvalidArgument, "ags.invalid_score", "Invalid score: " + why); };
  if (score.user_id.empty()) return bad("userId is required.");
  if (score.score_given && (!std::isfinite(*score.score_given) || *score.score_given < 0)) {
    return bad("scoreGiven must be a number ≥ 0.");
  }
  if (score.score_maximum && (!std::isfinite(*score.score_maximum) || *score.score_maximum <= 0)) {
    return bad("scoreMaximum must be a number greater than 0.");
  }
  if (score.score_given && !score.score_maximum) {
    return bad("scoreMaximum must be sent with scoreGiven (Canvas refuses it, Moodle assumes 1).");
  }
  if (score.timestamp.time_since_epoch().count() <= 0) return bad("timestamp is not set.");
  if (!score.extensions_json.empty()) {
    auto ext = ParseJsonQuietly(score.extensions_json);
    if (!ext.is_object()) return bad("extensions must be a JSON object.");
    for (auto it = ext.begin(); it != ext.end(); ++it) {
      if (it.key().find("://") == std::string::npos) {
        return bad("extension member \"" + it.key() + "\" is not a fully-qualified URL.");
      }
    }
  }
  return Status::Ok();
}

std::string ScoreToJson(const Score& score) {
  json j = json::object();
  j["userId"] = score.user_id;
  if (score.score_given) j["scoreGiven"] = *score.score_given;
  if (score.score_maximum) j["scoreMaximum"] = *score.score_maximum;
  if (score.comment) j["comment"] = *score.comment;
  j["activityProgress"] = std::string(ActivityProgressName(score.activity_progress));
  j["gradingProgress"] = std::string(GradingProgressName(score.grading_progress));
  j["timestamp"] = FormatIso8601Millis(score.timestamp);
  if (!score.extensions_json.empty()) {
    auto ext = ParseJsonQuietly(score.extensions_json);
    if (ext.is_object()) {
      for (auto it = ext.begin(); it != ext.end(); ++it) {
        if (!j.contains(it.key())) j[it.key()] = *it;
      }
    }
  }
  return Dump(j);
}

std::string LineItemToJson(const LineItem& item) {
  json j = json::object();
  if (!item.id.empty()) j["id"] = item.id;
  j["scoreMaximum"] = item.score_maximum;
  j["label"] = item.label;
  if (!item.resource_id.empty()) j["resourceId"] = item.resource_id;
  if (!item.resource_link_id.empty()) j["resourceLinkId"] = item.resource_link_id;
  if (!item.tag.empty()) j["tag"] = item.tag;
  if (item.start_date_time) j["startDateTime"] = FormatIso8601Millis(*item.start_date_time);
  if (item.end_date_time) j["endDateTime"] = FormatIso8601Millis(*item.end_date_time);
  if (!item.extra_json.empty()) {
    auto extra = ParseJsonQuietly(item.extra_json);
    if (extra.is_object()) {
      for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (!j.contains(it.key())) j[it.key()] = *it;
      }
    }
  }
  return Dump(j);
}

AgsClient::AgsClient(http::HttpClient& http, ServiceTokenClient& tokens, AgsClientOptions options)
    : http_(http), tokens_(tokens), options_(options) {}

Result<AccessToken> AgsClient::Token(const Registration& registration,
                                     const std::vector<std::vector<std::string>>& scope_choices,
                                     ServiceResponse* failure_response) {
  for (const auto& choice : scope_choices) {
    if (auto cached = tokens_.Cached(registration, choice)) return *cached;
  }
  std::optional<Status> first_failure;
  for (size_t i = 0; i < scope_choices.size(); ++i) {
    ServiceResponse failure;
    auto token = tokens_.Get(registration, scope_choices[i], &failure);
    if (token.ok()) return token;
    const std::string& reason = token.status().reason();
    bool scope_problem = reason == "token.invalid_scope" || reason == "service.not_granted";
    if (!first_failure) first_failure = token.status();
    if (scope_problem && i + 1 < scope_choices.size()) continue;  // e.g. only `lineitem` is granted
    *failure_response = std::move(failure);
    if (scope_problem && i > 0) {
      std::string tried;
      for (const auto& c : scope_choices) tried += (tried.empty() ? "" : " or ") + ScopeLabel(c.front());
      return Error(token.status().code(), token.status().reason(),
                   "Neither " + tried + " is granted. " + token.status().message());
    }
    return token.status();
  }
  return first_failure.value_or(Error(Code::kInternal, "token.unavailable", "No scope to request."));
}

ServiceOutcome AgsClient::Send(const Registration& registration, AgsOperation op,
                               const std::vector<std::vector<std::string>>& scope_choices, http::Request request,
                               bool& refresh_available) {
  ServiceResponse token_failure;
  auto token = Token(registration, scope_choices, &token_failure);
  if (!token.ok()) return ClassifyFailure(op, token.status(), std::move(token_failure));
  bool token_refreshed = true;
  for (int attempt = 0;; ++attempt) {
    request.headers.Set("Authorization", "Bearer " + token->token);
    auto sent = http_.Send(request, options_.request);
    if (!sent.ok()) {
      ServiceResponse none;
      none.url = request.url;
      LogWarn("ags.transport", {{"registration", registration.id.str()}, {"op", OperationName(op)},
                                {"reason", sent.status().reason()}});
      return ClassifyFailure(op, sent.status(), std::move(none));
    }
    ServiceResponse response = MakeServiceResponse(request.url, *sent, tokens_.clock().Now());
    if (response.status == 401 && attempt == 0 && refresh_available) {
      refresh_available = false;
      if (tokens_.InvalidateRejected(registration, token->token)) {
        LogInfo("ags.token_refresh", {{"registration", registration.id.str()}, {"op", OperationName(op)}});
        token = Token(registration, scope_choices, &token_failure);
        if (!token.ok()) return ClassifyFailure(op, token.status(), std::move(token_failure));
        continue;
      }
      token_refreshed = false;
    }
    ServiceOutcome outcome = ClassifyResponse(op, registration.family, std::move(response), token_refreshed);
    if (!outcome.ok()) {
      LogWarn("ags.failed", {{"registration", registration.id.str()}, {"op", OperationName(op)},
                             {"status", outcome.response.status}, {"reason", outcome.reason},
                             {"classification", ClassificationName(outcome.classification)}});
    }
    return outcome;
  }
}

template <typename T, typename Parse>
Result<AgsReply<std::vector<T>>> AgsClient::Collect(const Registration& registration, AgsOperation op,
                                                    const std::vector<std::vector<std::string>>& scope_choices,
                                                    std::string url, const char* accept, Parse parse) {
  AgsReply<std::vector<T>> reply;
  std::vector<T> items;
  std::set<std::string> seen;
  bool refresh_available = true;
  for (int page = 0;; ++page) {
    seen.insert(url);
    http::Request request;
    request.method = "GET";
    request.url = url;
    request.headers.Set("Accept", accept);
    ServiceOutcome outcome = Send(registration, op, scope_choices, std::move(request), refresh_available);
    reply.pages = page + 1;
    if (!outcome.ok()) {
      static_cast<ServiceOutcome&>(reply) = std::move(outcome);
      return reply;
    }
    auto body = ParseJsonQuietly(outcome.response.body);
    if (!body.is_array()) {
      static_cast<ServiceOutcome&>(reply) = InvalidBody(std::move(outcome), "a JSON array (AGS container)");
      return reply;
    }
    for (const auto& element : body) {
      if (auto item = parse(element)) items.push_back(std::move(*item));
    }
    auto next = http::FindLink(outcome.response.headers, "next");
    if (!next || next->empty()) {
      static_cast<ServiceOutcome&>(reply) = std::move(outcome);
      reply.value = std::move(items);
      return reply;
    }
    std::string next_url = ResolveLink(url, *next);
    if (seen.count(next_url)) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "ags.paging_loop",
                    "The platform's Link rel=\"next\" points back to a page already read; the list is "
                    "incomplete.");
      return reply;
    }
    if (page + 1 >= options_.max_pages) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "ags.too_many_pages",
                    "The platform returned more than " + std::to_string(options_.max_pages) +
                        " pages; the list is incomplete (use a filter or a larger limit).");
      return reply;
    }
    auto parsed = Url::Parse(next_url);
    if (!parsed.ok()) {
      static_cast<ServiceOutcome&>(reply) =
          Permanent(std::move(outcome), "ags.invalid_next_link",
                    "The platform's Link rel=\"next\" is not a valid URL; the list is incomplete.");
      return reply;
    }
    if (!registration.AllowsUrl(*parsed)) {
      static_cast<ServiceOutcome&>(reply) = Permanent(std::move(outcome), "service.host_not_allowed",
                                                      NotAllowed(registration, *parsed).message());
      return reply;
    }
    url = std::move(next_url);
  }
}

Result<AgsReply<std::vector<LineItem>>> AgsClient::ListLineItems(const Registration& registration,
                                                                 std::string_view lineitems_url,
                                                                 const LineItemFilter& filter) {
  GB_RETURN_IF_ERROR(CheckUrl(registration, lineitems_url).status());
  std::string url(lineitems_url);
  if (!filter.resource_link_id.empty()) url = AddQuery(url, "resource_link_id", filter.resource_link_id);
  if (!filter.resource_id.empty()) url = AddQuery(url, "resource_id", filter.resource_id);
  if (!filter.tag.empty()) url = AddQuery(url, "tag", filter.tag);
  if (filter.limit && *filter.limit > 0) url = AddQuery(url, "limit", std::to_string(*filter.limit));
  return Collect<LineItem>(registration, AgsOperation::kListLineItems, ReadLineItemScopes(), std::move(url),
                           kMediaTypeLineItemContainer, [](const json& j) { return ParseLineItem(j); });
}

Result<AgsReply<LineItem>> AgsClient::GetLineItem(const Registration& registration, std::string_view lineitem_url) {
  GB_RETURN_IF_ERROR(CheckUrl(registration, lineitem_url).status());
  http::Request request;
  request.method = "GET";
  request.url = std::string(lineitem_url);
  request.headers.Set("Accept", kMediaTypeLineItem);
  bool refresh = true;
  AgsReply<LineItem> reply;
  ServiceOutcome outcome = Send(registration, AgsOperation::kGetLineItem, ReadLineItemScopes(), std::move(request), refresh);
  if (outcome.ok()) {
    auto item = ParseLineItem(ParseJsonQuietly(outcome.response.body));
    if (!item) {
      outcome = InvalidBody(std::move(outcome), "a line item (JSON object)");
    } else {
      if (item->id.empty()) item->id = std::string(lineitem_url);
      reply.value = std::move(*item);
    }
  }
  static_cast<ServiceOutcome&>(reply) = std::move(outcome);
  reply.pages = 1;
  return reply;
}

Result<AgsReply<LineItem>> AgsClient::CreateLineItem(const Registration& registration, std::string_view lineitems_url,
                                                     const LineItem& item) {
  GB_RETURN_IF_ERROR(ValidateLineItem(item));
  GB_RETURN_IF_ERROR(CheckUrl(registration, lineitems_url).status());
  LineItem to_send = item;
  to_send.id.clear();  // the platform assigns it
  http::Request request;
  request.method = "POST";
  request.url = std::string(lineitems_url);
  request.headers.Set("Content-Type", kMediaTypeLineItem);
  request.headers.Set("Accept", kMediaTypeLineItem);
  request.body = LineItemToJson(to_send);
  bool refresh = true;
  AgsReply<LineItem> reply;
  ServiceOutcome outcome =
      Send(registration, AgsOperation::kCreateLineItem, WriteLineItemScopes(), std::move(request), refresh);
  if (outcome.ok()) {
    auto created = ParseLineItem(ParseJsonQuietly(outcome.response.body));
    if (!created || created->id.empty()) {
      outcome = InvalidBody(std::move(outcome), "the created line item with its id");
    } else {
      reply.value = std::move(*created);
    }
  }
  static_cast<ServiceOutcome&>(reply) = std::move(outcome);
  reply.pages = 1;
  return reply;
}

Result<AgsReply<LineItem>> AgsClient::UpdateLineItem(const Registration& registration, const LineItem& item) {
  GB_RETURN_IF_ERROR(ValidateLineItem(item));
  if (item.id.empty()) return InvalidLineItem("id (the line item URL) is required to update it.");
  GB_RETURN_IF_ERROR(CheckUrl(registration, item.id).status());
  http::Request request;
  request.method = "PUT";
  request.url = item.id;
  request.headers.Set("Content-Type", kMediaTypeLineItem);
  request.headers.Set("Accept", kMediaTypeLineItem);
  request.body = LineItemToJson(item);
  bool refresh = true;
  AgsReply<LineItem> reply;
  ServiceOutcome outcome =
      Send(registration, AgsOperation::kUpdateLineItem, WriteLineItemScopes(), std::move(request), refresh);
  if (outcome.ok()) {
    // The platform MUST return the item as applied; tolerate an empty body by echoing ours.
    auto applied = ParseLineItem(ParseJsonQuietly(outcome.response.body));
    reply.value = applied ? std::move(*applied) : item;
    if (reply.value->id.empty()) reply.value->id = item.id;
  }
  static_cast<ServiceOutcome&>(reply) = std::move(outcome);
  reply.pages = 1;
  return reply;
}

Result<ServiceOutcome> AgsClient::DeleteLineItem(const Registration& registration, std::string_view lineitem_url) {
  GB_RETURN_IF_ERROR(CheckUrl(registration, lineitem_url).status());
  http::Request request;
  request.method = "DELETE";
  request.url = std::string(lineitem_url);
  bool refresh = true;
  return Send(registration, AgsOperation::kDeleteLineItem, WriteLineItemScopes(), std::move(request), refresh);
}

Result<ScorePostOutcome> AgsClient::PostScore(const Registration& registration, std::string_view lineitem_url,
                                              const Score& score) {
  GB_RETURN_IF_ERROR(ValidateScore(score));
  GB_ASSIGN_OR_RETURN(Url url, CheckUrl(registration, lineitem_url));
  http::Request request;
  request.method = "POST";
  request.url = url.WithPathSuffix("/scores");
  request.headers.Set("Content-Type", kMediaTypeScore);
  request.body = ScoreToJson(score);
  bool refresh = true;
  ScorePostOutcome out;
  static_cast<ServiceOutcome&>(out) =
      Send(registration, AgsOperation::kPostScore, {{kScopeScore}}, std::move(request), refresh);
  if (out.classification == Classification::kDelivered) {
    auto body = ParseJsonQuietly(out.response.body);
    if (body.is_object()) out.result_url = Text(body, "resultUrl");
  }
  return out;
}

Result<AgsReply<std::vector<AgsResult>>> AgsClient::GetResults(const Registration& registration,
                                                               std::string_view lineitem_url,
                                                               const ResultFilter& filter) {
  GB_ASSIGN_OR_RETURN(Url base, CheckUrl(registration, lineitem_url));
  std::string url = base.WithPathSuffix("/results");
  if (!filter.user_id.empty()) url = AddQuery(url, "user_id", filter.user_id);
  if (filter.limit && *filter.limit > 0) url = AddQuery(url, "limit", std::to_string(*filter.limit));
  static const std::vector<std::vector<std::string>> kScopes = {{kScopeResultReadOnly}};
  return Collect<AgsResult>(registration, AgsOperation::kGetResults, kScopes, std::move(url),
                            kMediaTypeResultContainer, [](const json& j) { return ParseResult(j); });
}

}  // namespace gb::lti
