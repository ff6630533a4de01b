#include "sim/ags.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_util.h"
#include "base/url.h"
#include "sim/faults.h"
#include "sim/gradebook.h"
#include "sim/lti_names.h"
#include "sim/nrps.h"
#include "sim/roster.h"
#include "sim/token_endpoint.h"

namespace gb::sim {

std::string FormatLinkHeader(Profile profile, const std::vector<std::pair<std::string, std::string>>& links) {
  std::string out;
  for (const auto& [rel, url] : links) {
    switch (profile) {
      case Profile::kCanvas:
        if (!out.empty()) out += ",";
        out += "<" + url + ">; rel=\"" + rel + "\"";
        break;
      case Profile::kMoodle:
        if (!out.empty()) out += ", ";
        out += "<" + url + ">; rel=\u201c" + rel + "\u201d";
        break;
      case Profile::kGeneric:
      case Profile::kBrightspace:
        if (!out.empty()) out += ", ";
        out += "<" + url + ">; rel=\"" + rel + "\"";
        break;
    }
  }
  return out;
}

namespace {

using nlohmann::json;

constexpr std::string_view kCoursesPrefix = "/sim/api/lti/courses/";
constexpr std::string_view kCanvasSubmissionExt = "https://canvas.instructure.com/lti/submission";

enum class Resource { kContainer, kItem, kScores, kResults, kResult };

struct Route {
  Resource kind = Resource::kContainer;
  std::string item_id;
  std::string result_number;
};

std::string_view StatusSymbol(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 412: return "precondition_failed";
    case 415: return "unsupported_media_type";
    case 422: return "unprocessable_entity";
    default: return "error";
  }
}

// An AGS error in the profile's shape:
//   canvas: {"errors":{"type":<status symbol>,"message":…}} (concerns/lti_services.rb)
//   moodle: the reason as text (Moodle puts it in the status line and sends no JSON)
//   others: {"error":<symbol>,"message":…}
http::Response AgsError(Profile profile, int status, std::string_view message) {
  http::Response r;
  switch (profile) {
    case Profile::kCanvas:
      r = http::Response::Json(status, json{{"errors", {{"type", StatusSymbol(status)}, {"message", message}}}}.dump());
      break;
    case Profile::kMoodle:
      r = http::Response::Text(status, std::string(message));
      break;
    case Profile::kGeneric:
    case Profile::kBrightspace:
      r = http::Response::Json(status, json{{"error", StatusSymbol(status)}, {"message", message}}.dump());
      break;
  }
  return r;
}

http::Response WithType(http::Response r, Profile profile, std::string_view media) {
  std::string value(media);
  if (profile == Profile::kCanvas) value += "; charset=utf-8";
  r.headers.Set("Content-Type", value);
  return r;
}

std::string MediaType(const std::optional<std::string>& header) {
  if (!header) return "";
  std::string_view v = *header;
  return ToLower(Trim(v.substr(0, v.find(';'))));
}

std::optional<Route> ParseRoute(std::string_view path, std::string_view course_id, bool& names_and_roles) {
  names_and_roles = false;
  if (path.substr(0, kCoursesPrefix.size()) != kCoursesPrefix) return std::nullopt;
  std::vector<std::string> parts;
  for (std::string_view p : Split(path.substr(kCoursesPrefix.size()), '/')) {
    auto decoded = PercentDecode(p, false);
    if (!decoded) return std::nullopt;
    parts.push_back(*decoded);
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // a trailing slash
  if (parts.size() < 2 || parts[0] != course_id) return std::nullopt;
  if (parts[1] == "names_and_roles" && parts.size() == 2) {
    names_and_roles = true;
    return std::nullopt;
  }
  if (parts[1] != "line_items") return std::nullopt;
  Route r;
  if (parts.size() == 2) return r;
  if (parts[2].empty()) return std::nullopt;
  r.item_id = parts[2];
  r.kind = Resource::kItem;
  if (parts.size() == 3) return r;
  if (parts.size() == 4 && parts[3] == "scores") {
    r.kind = Resource::kScores;
    return r;
  }
  if (parts[3] == "results") {
    if (parts.size() == 4) {
      r.kind = Resource::kResults;
      return r;
    }
    if (parts.size() == 5 && !parts[4].empty()) {
      r.kind = Resource::kResult;
      r.result_number = parts[4];
      return r;
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> AllowedMethods(Resource kind) {
  switch (kind) {
    case Resource::kContainer: return {"GET", "POST"};
    case Resource::kItem: return {"GET", "PUT", "DELETE"};
    case Resource::kScores: return {"POST"};
    case Resource::kResults:
    case Resource::kResult: return {"GET"};
  }
  return {};
}

// Moodle's services.php: a resource is found only if the media type fits its formats (GET:
// Accept empty, containing */*, or exactly one format; POST/PUT: Content-Type before ';').
std::vector<std::string_view> MoodleFormats(Resource kind) {
  switch (kind) {
    case Resource::kContainer: return {kMediaLineItemContainer, kMediaLineItem};
    case Resource::kItem: return {kMediaLineItem};
    case Resource::kScores: return {kMediaScore};
    case Resource::kResults: return {kMediaResultContainer};
    case Resource::kResult: return {};  // Moodle has no single-result resource
  }
  return {};
}

struct Scopes {
  std::vector<std::string_view> any_of;
};

Scopes RequiredScopes(Resource kind, std::string_view method) {
  switch (kind) {
    case Resource::kContainer:
    case Resource::kItem:
      if (method == "GET") return {{lti::kScopeLineItem, lti::kScopeLineItemReadOnly}};
      return {{lti::kScopeLineItem}};
    case Resource::kScores: return {{lti::kScopeScore}};
    case Resource::kResults:
    case Resource::kResult: return {{lti::kScopeResultReadOnly}};
  }
  return {};
}

std::optional<int64_t> PositiveInt(const std::optional<std::string>& text) {
  if (!text || text->empty() || text->size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

std::optional<int64_t> NonNegativeInt(const std::optional<std::string>& text) {
  if (text && *text == "0") return 0;
  return PositiveInt(text);
}

// Which rows of `total` a request gets, and the Link header for it.
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::string link;
};

Page Paginate(Profile profile, size_t total, const FormFields& query, const std::string& base, FormFields keep) {
  Page page;
  auto url = [&](FormFields extra) {
    FormFields q = keep;
    q.insert(q.end(), extra.begin(), extra.end());
    return q.empty() ? base : base + "?" + EncodeForm(q);
  };
  auto param = [&](std::string_view k) { return FormValue(query, k); };
  std::vector<std::pair<std::string, std::string>> links;
  switch (profile) {
    case Profile::kCanvas: {
      // lib/api.rb: page/per_page, default 10, max 100; AGS `limit` maps to per_page.
      int64_t per = PositiveInt(param("limit")).value_or(PositiveInt(param("per_page")).value_or(10));
      per = std::min<int64_t>(per, 100);
      int64_t n = PositiveInt(param("page")).value_or(1);
      int64_t last = std::max<int64_t>(1, (static_cast<int64_t>(total) + per - 1) / per);
      page.begin = std::min(total, static_cast<size_t>((n - 1) * per));
      page.end = std::min(total, page.begin + static_cast<size_t>(per));
      auto at = [&](int64_t p) { return url({{"page", std::to_string(p)}, {"per_page", std::to_string(per)}}); };
      links.emplace_back("current", at(n));
      if (n < last) links.emplace_back("next", at(n + 1));
      if (n > 1) links.emplace_back("prev", at(n - 1));
      links.emplace_back("first", at(1));
      links.emplace_back("last", at(last));
      break;
    }
    case Profile::kMoodle: {
      // limit/from; no limit: everything, no Link header.
      auto limit = PositiveInt(param("limit"));
      if (!limit) {
        page.end = total;
        return page;
      }
      int64_t from = NonNegativeInt(param("from")).value_or(0);
      const bool out_of_range = from >= static_cast<int64_t>(total);
      page.begin = std::min(total, static_cast<size_t>(from));
      page.end = std::min(total, page.begin + static_cast<size_t>(*limit));
      int64_t last = total == 0 ? 0 : ((static_cast<int64_t>(total) - 1) / *limit) * *limit;
      auto at = [&](int64_t f) { return url({{"limit", std::to_string(*limit)}, {"from", std::to_string(f)}}); };
      links.emplace_back("first", at(0));
      if (from > 0 && !out_of_range) links.emplace_back("prev", at(std::max<int64_t>(0, from - *limit)));
      links.emplace_back("canonical", at(from));
      if (from + *limit < static_cast<int64_t>(total)) links.emplace_back("next", at(from + *limit));
      links.emplace_back("last", at(last));
      break;
    }
    case Profile::kGeneric:
    case Profile::kBrightspace: {
      // D2L returns at most 200 line items per page; the generic platform 100 by default.
      const int64_t max = profile == Profile::kBrightspace ? 200 : 1000;
      const int64_t def = profile == Profile::kBrightspace ? 200 : 100;
      int64_t per = std::min(max, PositiveInt(param("limit")).value_or(def));
      int64_t n = PositiveInt(param("page")).value_or(1);
      int64_t last = std::max<int64_t>(1, (static_cast<int64_t>(total) + per - 1) / per);
      page.begin = std::min(total, static_cast<size_t>((n - 1) * per));
      page.end = std::min(total, page.begin + static_cast<size_t>(per));
      auto at = [&](int64_t p) { return url({{"limit", std::to_string(per)}, {"page", std::to_string(p)}}); };
      if (n < last) links.emplace_back("next", at(n + 1));
      if (n > 1) links.emplace_back("prev", at(std::min(n - 1, last)));
      if (last > 1 || n > 1) {
        links.emplace_back("first", at(1));
        links.emplace_back("last", at(last));
      }
      break;
    }
  }
  page.link = FormatLinkHeader(profile, links);
  return page;
}

// Only Active learners of the current roster are gradable (roster.h): a dropped, deactivated or
// never-enrolled user is refused like a teacher.
bool IsLearner(const Roster& roster, std::string_view user_id) { return roster.IsGradableLearner(user_id); }

bool OneOf(std::string_view v, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}
template <typename Container>
bool OneOf(std::string_view v, const Container& set) {
  return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

constexpr std::array<std::string_view, 5> kActivity = {"Initialized", "Started", "InProgress", "Submitted",
                                                       "Completed"};
constexpr std::array<std::string_view, 5> kGrading = {"FullyGraded", "Pending", "PendingManual", "Failed",
                                                      "NotReady"};

// A string member, or "" (never throws on a wrong type).
std::string Str(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> StringMember(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// userId as a string; numbers are accepted too (Moodle's ids are numeric).
std::optional<std::string> UserIdMember(const json& body) {
  auto it = body.find("userId");
  if (it == body.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return std::nullopt;
}

bool Present(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && !it->is_null();
}

std::optional<double> FiniteNumber(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::string Iso8601(TimePoint t) { return FormatIso8601Millis(t); }

// Moodle's date('c'): "2024-01-01T10:00:00+00:00".
std::string MoodleDate(TimePoint t) {
  std::string s = FormatIso8601Millis(std::chrono::floor<std::chrono::seconds>(t));
  return s.substr(0, 19) + "+00:00";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace {

// One AGS request, after routing and authentication.
class AgsCall {
 public:
  AgsCall(Platform& platform, const http::Request& request, const Tool& tool, Route route, FormFields query)
      : p_(platform),
        request_(request),
        tool_(tool),
        profile_(tool.spec.profile),
        route_(std::move(route)),
        query_(std::move(query)) {}

  http::Response Serve();

 private:
  http::Response Error(int status, std::string_view message) const { return AgsError(profile_, status, message); }
  bool Visible(const LineItem& item) const;
  // The line item the route names, or an error answer.
  std::optional<LineItem> ItemOrError(http::Response& error) const;
  std::string ItemUrl(const LineItem& item) const { return p_.LineItemUrl(tool_, item.id); }
  std::string ItemSubUrl(const LineItem& item, std::string_view suffix) const;
  json LineItemJson(const LineItem& item) const;
  json ResultJson(const LineItem& item, const ResultRecord& r) const;
  // The JSON body of a POST/PUT, or an error answer.
  std::optional<json> Body(std::initializer_list<std::string_view> lenient_types, std::string_view strict_type,
                           http::Response& error) const;
  // Validates a line item definition into `item` (create and update).
  std::optional<http::Response> ReadLineItem(const json& body, LineItem& item, bool create) const;

  http::Response ListLineItems();
  http::Response CreateLineItem();
  http::Response GetLineItem();
  http::Response UpdateLineItem();
  http::Response DeleteLineItem();
  http::Response ListResults();
  http::Response GetResult();
  http::Response PostScore();
  http::Response CanvasScore(const LineItem& item, const json& body);
  http::Response MoodleScore(const LineItem& item, const json& body);
  http::Response SpecScore(const LineItem& item, const json& body);

  Platform& p_;
  const http::Request& request_;
  const Tool& tool_;
  const Profile profile_;
  const Route route_;
  const FormFields query_;
};

bool AgsCall::Visible(const LineItem& item) const {
  // Platform-created (coupled) columns are visible to every tool except on Brightspace, where LTI
  // 1.3 links get no grade item; a tool's own line items only to that tool (Canvas, Blackboard,
  // Moodle list only the tool's line items).
  if (item.owner_client_id.empty()) return profile_ != Profile::kBrightspace;
  return item.owner_client_id == tool_.client_id;
}

std::optional<LineItem> AgsCall::ItemOrError(http::Response& error) const {
  auto item = p_.gradebook().Find(route_.item_id);
  if (!item) {
    error = Error(404, "Line item not found");
    return std::nullopt;
  }
  if (!Visible(*item)) {
    // Canvas: another developer key's line item is a 412 (line_items_controller.rb).
    error = profile_ == Profile::kCanvas ? Error(412, "Tool does not have permission to view line_item")
                                         : Error(404, "Line item not found");
    return std::nullopt;
  }
  return item;
}

std::string AgsCall::ItemSubUrl(const LineItem& item, std::string_view suffix) const {
  auto url = Url::Parse(ItemUrl(item));
  return url.ok() ? url->WithPathSuffix(suffix) : ItemUrl(item) + std::string(suffix);
}

json AgsCall::LineItemJson(const LineItem& item) const {
  json j = json::parse(item.extensions_json, nullptr, false);
  if (!j.is_object()) j = json::object();
  j["id"] = ItemUrl(item);
  j["label"] = item.label;
  j["scoreMaximum"] = item.score_maximum;
  if (profile_ == Profile::kMoodle) {
    // Moodle always sends resourceId and tag ("" when unset) and the legacy ltiLinkId.
    j["resourceId"] = item.resource_id;
    j["tag"] = item.tag;
    if (!item.resource_link_id.empty()) {
      j["resourceLinkId"] = item.resource_link_id;
      j["ltiLinkId"] = item.resource_link_id;
    }
  } else {
    if (!item.resource_id.empty()) j["resourceId"] = item.resource_id;
    if (!item.tag.empty()) j["tag"] = item.tag;
    if (!item.resource_link_id.empty()) j["resourceLinkId"] = item.resource_link_id;
  }
  if (!item.start_date_time.empty()) j["startDateTime"] = item.start_date_time;
  if (!item.end_date_time.empty()) j["endDateTime"] = item.end_date_time;
  return j;
}

json AgsCall::ResultJson(const LineItem& item, const ResultRecord& r) const {
  json j = json::object();
  j["userId"] = r.user_id;
  j["scoreOf"] = ItemUrl(item);
  switch (profile_) {
    case Profile::kCanvas:
      // Canvas echoes the tool's own score (result_score / result_maximum as posted); only a
      // grade changed by a teacher is rescaled (app/models/lti/result.rb#scaled_result_score).
      j["id"] = ItemSubUrl(item, "/results/" + std::to_string(r.number));
      if (r.score_given) j["resultScore"] = *r.score_given;
      if (r.score_maximum > 0) j["resultMaximum"] = r.score_maximum;
      if (r.comment) j["comment"] = *r.comment;
      break;
    case Profile::kMoodle: {
      auto url = Url::Parse(ItemSubUrl(item, "/results"));
      j["id"] = url.ok() ? url->WithQueryParam("user_id", r.user_id) : ItemSubUrl(item, "/results");
      if (auto v = ScaledScore(r, item)) {  // the final grade, already scaled to grademax
        j["resultScore"] = *v;
        j["resultMaximum"] = item.score_maximum;
        if (r.comment) j["comment"] = *r.comment;
        j["timestamp"] = MoodleDate(r.timestamp);
      }
      break;
    }
    case Profile::kGeneric:
    case Profile::kBrightspace:
      j["id"] = ItemSubUrl(item, "/results/" + std::to_string(r.number));
      if (auto v = ScaledScore(r, item)) j["resultScore"] = *v;
      j["resultMaximum"] = item.score_maximum;
      if (r.comment) j["comment"] = *r.comment;
      break;
  }
  return j;
}

std::optional<json> AgsCall::Body(std::initializer_list<std::string_view> lenient_types, std::string_view strict_type,
                                  http::Response& error) const {
  const std::string media = MediaType(request_.headers.Get("Content-Type"));
  bool parse = false;
  switch (profile_) {
    case Profile::kMoodle: parse = true; break;  // the router already matched the type exactly
    case Profile::kGeneric:
      if (media != strict_type) {
        error = Error(415, "Content-Type must be " + std::string(strict_type));
        return std::nullopt;
      }
      parse = true;
      break;
    case Profile::kCanvas:
    case Profile::kBrightspace:
      // Canvas parses JSON only for its registered AGS types and application/json; any other
      // type leaves the parameters empty (config/initializers/mime_types.rb).
      parse = media == "application/json" || OneOf(media, lenient_types);
      break;
  }
  json body = parse ? json::parse(request_.body, nullptr, false) : json::object();
  if (body.is_discarded() || !body.is_object()) {
    error = profile_ == Profile::kMoodle && route_.kind == Resource::kScores
                ? Error(400, "Incorrect score received")
                : Error(400, "The body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

http::Response AgsCall::Serve() {
  const std::string& m = request_.method;
  switch (route_.kind) {
    case Resource::kContainer: return m == "GET" ? ListLineItems() : CreateLineItem();
    case Resource::kItem:
      if (m == "GET") return GetLineItem();
      if (m == "PUT") return UpdateLineItem();
      return DeleteLineItem();
    case Resource::kScores: return PostScore();
    case Resource::kResults: return ListResults();
    case Resource::kResult: return GetResult();
  }
  return Error(404, "Not found");
}

// --- line items ------------------------------------------------------------------------------

http::Response AgsCall::ListLineItems() {
  auto filter = [&](std::string_view k) { return FormValue(query_, k); };
  auto link_filter = filter("resource_link_id");
  if (!link_filter && profile_ == Profile::kMoodle) link_filter = filter("lti_link_id");
  auto resource_filter = filter("resource_id");
  auto tag_filter = filter("tag");
  std::vector<LineItem> items;
  for (auto& item : p_.gradebook().line_items()) {
    if (!Visible(item)) continue;
    if (link_filter && item.resource_link_id != *link_filter) continue;
    if (resource_filter && item.resource_id != *resource_filter) continue;
    if (tag_filter && item.tag != *tag_filter) continue;
    items.push_back(std::move(item));
  }
  // Link URLs repeat the filters (and Moodle's type_id) before the paging parameters.
  FormFields keep;
  if (profile_ == Profile::kMoodle) keep.emplace_back("type_id", FormValue(query_, "type_id").value_or(""));
  for (const char* k : {"resource_link_id", "lti_link_id", "resource_id", "tag"}) {
    if (auto v = filter(k)) keep.emplace_back(k, *v);
  }
  std::string base = p_.LineItemsUrl(tool_);
  base = base.substr(0, base.find('?'));
  Page page = Paginate(profile_, items.size(), query_, base, keep);
  json out = json::array();
  for (size_t i = page.begin; i < page.end; ++i) out.push_back(LineItemJson(items[i]));
  http::Response r = WithType(http::Response::Json(200, out.dump()), profile_, kMediaLineItemContainer);
  if (!page.link.empty()) r.headers.Set("Link", page.link);
  return r;
}

std::optional<http::Response> AgsCall::ReadLineItem(const json& body, LineItem& item, bool create) const {
  // label and scoreMaximum are required (Canvas: params.require -> 400; Moodle: 400).
  auto label = body.find("label");
  if (label == body.end() || label->is_null()) return Error(400, "param is missing or the value is empty: label");
  if (!label->is_string() || Trim(label->get<std::string>()).empty()) {
    return Error(400, "label must be a non-blank string");
  }
  auto max = body.find("scoreMaximum");
  if (max == body.end() || max->is_null()) return Error(400, "param is missing or the value is empty: scoreMaximum");
  if (!max->is_number() || !std::isfinite(max->get<double>())) return Error(400, "scoreMaximum must be a number");
  if (max->get<double>() <= 0) {
    return Error(profile_ == Profile::kCanvas ? 422 : 400, "scoreMaximum must be greater than 0");
  }
  item.label = label->get<std::string>();
  item.score_maximum = max->get<double>();

  for (auto [key, field] : {std::pair{"resourceId", &item.resource_id}, std::pair{"tag", &item.tag}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
      field->clear();
      continue;
    }
    if (!it->is_string()) return Error(400, std::string(key) + " must be a string");
    *field = it->get<std::string>();
  }
  for (auto [key, field] : {std::pair{"startDateTime", &item.start_date_time},
                            std::pair{"endDateTime", &item.end_date_time}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      field->clear();
      continue;
    }
    if (!it->is_string() || !ParseIso8601(it->get<std::string>())) {
      return Error(400, std::string(key) + " must be an ISO 8601 date-time with a time zone");
    }
    *field = it->get<std::string>();
  }

  // resourceLinkId (Moodle also reads its legacy ltiLinkId).
  std::optional<std::string> link;
  for (const char* key : {"resourceLinkId", "ltiLinkId"}) {
    if (std::string_view(key) == "ltiLinkId" && profile_ != Profile::kMoodle) continue;
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_string()) return Error(400, std::string(key) + " must be a string");
    link = it->get<std::string>();
    break;
  }
  if (create) {
    if (link && !link->empty()) {
      if (!p_.seed().FindResourceLink(*link)) {
        // AGS §3.2.9: 404; Moodle answers 403 for a link that is not the tool's.
        return Error(profile_ == Profile::kMoodle ? 403 : 404, "Resource link not found: " + *link);
      }
      item.resource_link_id = *link;
    }
  } else if (link && *link != item.resource_link_id && profile_ != Profile::kCanvas) {
    // The tool must not change it (AGS §3.2.8); Canvas silently ignores it.
    return Error(400, "resourceLinkId cannot be changed");
  }

  json ext = json::object();
  for (const auto& [k, v] : body.items()) {
    if (k.find("://") != std::string::npos) ext[k] = v;
  }
  item.extensions_json = ext.dump();
  return std::nullopt;
}

http::Response AgsCall::CreateLineItem() {
  http::Response error;
  auto body = Body({kMediaLineItem, kMediaScore}, kMediaLineItem, error);
  if (!body) return error;
  LineItem item;
  if (auto bad = ReadLineItem(*body, item, /*create=*/true)) return *bad;
  item.owner_client_id = tool_.client_id;
  item.cap_at_maximum = profile_ == Profile::kBrightspace;
  item = p_.gradebook().Create(std::move(item));
  LogInfo("sim.line_item_created", {{"client_id", tool_.client_id}, {"id", item.id}, {"label", item.label}});
  http::Response r = WithType(http::Response::Json(201, LineItemJson(item).dump()), profile_, kMediaLineItem);
  r.headers.Set("Location", ItemUrl(item));
  return r;
}

http::Response AgsCall::GetLineItem() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  return WithType(http::Response::Json(200, LineItemJson(*item).dump()), profile_, kMediaLineItem);
}

http::Response AgsCall::UpdateLineItem() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  auto body = Body({kMediaLineItem, kMediaScore}, kMediaLineItem, error);
  if (!body) return error;
  LineItem updated = *item;
  if (auto bad = ReadLineItem(*body, updated, /*create=*/false)) return *bad;
  if (!p_.gradebook().Update(updated)) return Error(404, "Line item not found");
  return WithType(http::Response::Json(200, LineItemJson(updated).dump()), profile_, kMediaLineItem);
}

http::Response AgsCall::DeleteLineItem() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  // Canvas refuses to delete a line item created together with its assignment ("coupled").
  if (profile_ == Profile::kCanvas && item->coupled) return Error(401, "Cannot delete a coupled line item");
  if (!p_.gradebook().Delete(item->id)) return Error(404, "Line item not found");
  LogInfo("sim.line_item_deleted", {{"client_id", tool_.client_id}, {"id", item->id}});
  http::Response r;
  r.status = 204;
  return r;
}

// --- results ---------------------------------------------------------------------------------

http::Response AgsCall::ListResults() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  std::vector<ResultRecord> results = p_.gradebook().Results(item->id);
  auto user = FormValue(query_, "user_id");
  if (user) {
    std::erase_if(results, [&](const ResultRecord& r) { return r.user_id != *user; });
  }
  FormFields keep;
  if (profile_ == Profile::kMoodle) keep.emplace_back("type_id", FormValue(query_, "type_id").value_or(""));
  if (user) keep.emplace_back("user_id", *user);
  std::string base = ItemSubUrl(*item, "/results");
  base = base.substr(0, base.find('?'));
  Page page = Paginate(profile_, results.size(), query_, base, keep);
  json out = json::array();
  for (size_t i = page.begin; i < page.end; ++i) out.push_back(ResultJson(*item, results[i]));
  http::Response r = WithType(http::Response::Json(200, out.dump()), profile_, kMediaResultContainer);
  if (!page.link.empty()) r.headers.Set("Link", page.link);
  return r;
}

http::Response AgsCall::GetResult() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  for (const auto& r : p_.gradebook().Results(item->id)) {
    if (std::to_string(r.number) == route_.result_number) {
      // Canvas uses the container type even for one result.
      return WithType(http::Response::Json(200, ResultJson(*item, r).dump()), profile_,
                      profile_ == Profile::kCanvas ? kMediaResultContainer : "application/json");
    }
  }
  return Error(404, "Result not found");
}

// --- scores ----------------------------------------------------------------------------------

http::Response AgsCall::PostScore() {
  http::Response error;
  auto item = ItemOrError(error);
  if (!item) return error;
  auto body = Body({kMediaScore, kMediaLineItem}, kMediaScore, error);
  if (!body) return error;
  switch (profile_) {
    case Profile::kCanvas: return CanvasScore(*item, *body);
    case Profile::kMoodle: return MoodleScore(*item, *body);
    case Profile::kGeneric:
    case Profile::kBrightspace: return SpecScore(*item, *body);
  }
  return Error(500, "unknown profile");
}

ScoreRecord HistoryEntry(const std::string& client_id, const json& body, std::optional<double> given, double max) {
  ScoreRecord h;
  h.client_id = client_id;
  h.timestamp = Str(body, "timestamp");
  h.score_given = given;
  h.score_maximum = max;
  h.activity_progress = Str(body, "activityProgress");
  h.grading_progress = Str(body, "gradingProgress");
  if (auto c = body.find("comment"); c != body.end() && c->is_string()) h.comment = c->get<std::string>();
  return h;
}

void ApplyCommon(ResultRecord& r, const json& body, TimePoint ts) {
  r.timestamp = ts;
  r.timestamp_text = Str(body, "timestamp");
  r.activity_progress = Str(body, "activityProgress");
  r.grading_progress = Str(body, "gradingProgress");
  // Each score replaces the comment; none (or null) clears it (AGS §3.4).
  if (auto c = body.find("comment"); c != body.end() && c->is_string() && !c->get<std::string>().empty()) {
    r.comment = c->get<std::string>();
  } else {
    r.comment.reset();
  }
}

// Canvas (app/controllers/lti/ims/scores_controller.rb), in its before_action order.
http::Response AgsCall::CanvasScore(const LineItem& item, const json& body) {
  auto user = UserIdMember(body);
  if (!user || !IsLearner(p_.roster(), *user)) return Error(422, "User not found in course or is not a student");
  for (const char* k : {"activityProgress", "gradingProgress", "timestamp"}) {
    auto it = body.find(k);
    if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) {
      return Error(400, std::string("param is missing or the value is empty: ") + k);
    }
  }
  const std::string ts_text = body["timestamp"].is_string() ? body["timestamp"].get<std::string>() : body["timestamp"].dump();
  auto ts = body["timestamp"].is_string() ? ParseIso8601(ts_text) : std::nullopt;
  if (!ts) return Error(400, "Provided timestamp of " + ts_text + " not a valid timestamp");
  const std::string grading = StringMember(body, "gradingProgress").value_or("");
  const std::string activity = StringMember(body, "activityProgress").value_or("");

  // A reset: a non-final gradingProgress or no scoreGiven clears the grade (Lti::Result).
  const bool reset = !OneOf(grading, {"FullyGraded", "PendingManual"}) || !Present(body, "scoreGiven");
  std::optional<double> given;
  double max = 0;
  if (!reset) {
    given = FiniteNumber(body, "scoreGiven");
    if (!given) return Error(400, "scoreGiven must be a number");
    if (!Present(body, "scoreMaximum")) return Error(422, "ScoreMaximum not supplied when ScoreGiven present.");
    auto m = FiniteNumber(body, "scoreMaximum");
    if (!m) return Error(400, "scoreMaximum must be a number");
    if (*m < 0) return Error(422, "ScoreMaximum must be greater than or equal to 0");
    if (*m == 0 && item.score_maximum != 0) {
      return Error(422, "ScoreMaximum cannot be zero if line item's maximum is not zero");
    }
    if (*given < 0) return Error(422, "ScoreGiven must be greater than or equal to 0");
    max = *m;
  } else if (auto m = FiniteNumber(body, "scoreMaximum")) {
    max = *m;
  }
  // submission.submittedAt (or the top-level submittedAt): a valid time, at most 1 minute ahead.
  std::optional<std::string> submitted;
  if (auto s = body.find("submission"); s != body.end() && s->is_object()) submitted = StringMember(*s, "submittedAt");
  if (!submitted) submitted = StringMember(body, "submittedAt");
  if (submitted) {
    auto at = ParseIso8601(*submitted);
    if (!at) return Error(400, "Provided submitted_at timestamp of " + *submitted + " not a valid timestamp");
    if (*at > p_.clock().Now() + std::chrono::minutes(1)) {
      return Error(400, "Provided submitted_at timestamp of " + *submitted + " in the future");
    }
  }
  if (!OneOf(activity, kActivity)) return Error(422, "activityProgress is not included in the list");
  if (!OneOf(grading, kGrading)) return Error(422, "gradingProgress is not included in the list");
  bool preserve = false;
  if (auto ext = body.find(kCanvasSubmissionExt); ext != body.end() && ext->is_object()) {
    auto ps = ext->find("preserve_score");
    preserve = ps != ext->end() && ps->is_boolean() && ps->get<bool>();
  }

  using Micros = std::chrono::microseconds;
  std::string stale;
  uint64_t number = 0;
  auto outcome = p_.gradebook().ApplyScore(item.id, *user, [&](const LineItem&, ResultRecord& r) {
    // Strictly older than the stored timestamp: 400; an equal timestamp is accepted.
    if (r.accepted > 0 && std::chrono::floor<Micros>(r.timestamp) > std::chrono::floor<Micros>(*ts)) {
      stale = "Provided timestamp of " + ts_text + " before last updated timestamp of " + Iso8601(r.timestamp);
      return Gradebook::Decision::kStale;
    }
    std::optional<double> stored = given;
    double stored_max = max;
    if (reset && preserve) {
      stored = r.score_given;
      stored_max = r.score_maximum;
    }
    ApplyCommon(r, body, *ts);
    r.score_given = stored;
    r.score_maximum = stored_max;
    r.history.push_back(HistoryEntry(tool_.client_id, body, stored, stored_max));
    number = r.number;
    return Gradebook::Decision::kCommit;
  });
  if (outcome == Gradebook::Outcome::kNoLineItem) return Error(404, "Line item not found");
  if (!stale.empty()) return Error(400, stale);
  if (number == 0) number = p_.gradebook().FindResult(item.id, *user).value_or(ResultRecord{}).number;
  json out = {{"resultUrl", ItemSubUrl(item, "/results/" + std::to_string(number))}};
  return WithType(http::Response::Json(200, out.dump()), profile_, kMediaScore);
}

// Moodle (ltiservice_gradebookservices scores resource).
http::Response AgsCall::MoodleScore(const LineItem& item, const json& body) {
  const char* kIncorrect = "Incorrect score received";
  auto user = UserIdMember(body);
  auto ts_text = StringMember(body, "timestamp");
  if (!user || !ts_text || !StringMember(body, "gradingProgress") || !StringMember(body, "activityProgress")) {
    return Error(400, kIncorrect);
  }
  for (const char* k : {"scoreGiven", "scoreMaximum"}) {
    if (Present(body, k) && !FiniteNumber(body, k)) return Error(400, kIncorrect);
  }
  auto ts = ParseIso8601(*ts_text);
  if (!ts) return Error(400, kIncorrect);
  if (!IsLearner(p_.roster(), *user)) return Error(400, kIncorrect);  // not gradable in the course
  auto given = FiniteNumber(body, "scoreGiven");
  if (given && *given < 0) return Error(400, kIncorrect);
  const double max = FiniteNumber(body, "scoreMaximum").value_or(1.0);  // defaults to 1
  if (max < 0) return Error(400, kIncorrect);
  // Anything but FullyGraded nulls the score, which clears the grade.
  if (StringMember(body, "gradingProgress").value_or("") != "FullyGraded") given.reset();

  using Secs = std::chrono::seconds;
  bool stale = false;
  auto outcome = p_.gradebook().ApplyScore(item.id, *user, [&](const LineItem&, ResultRecord& r) {
    // timemodified >= strtotime(timestamp), at whole seconds: equal is refused too.
    if (r.accepted > 0 && std::chrono::floor<Secs>(r.timestamp) >= std::chrono::floor<Secs>(*ts)) {
      stale = true;
      return Gradebook::Decision::kStale;
    }
    ApplyCommon(r, body, std::chrono::floor<Secs>(*ts));
    r.timestamp_text = *ts_text;
    r.score_given = given;
    r.score_maximum = max;
    r.history.push_back(HistoryEntry(tool_.client_id, body, given, max));
    return Gradebook::Decision::kCommit;
  });
  if (outcome == Gradebook::Outcome::kNoLineItem) return Error(404, "Line item not found");
  if (stale) {
    return Error(409, "Refusing score with an earlier timestamp for item " + item.id + " and user " + *user);
  }
  http::Response r;  // 200 with an empty body
  r.status = 200;
  return r;
}

// The generic (spec-shaped) platform and Brightspace.
http::Response AgsCall::SpecScore(const LineItem& item, const json& body) {
  auto user = UserIdMember(body);
  if (!user) return Error(400, "userId is required");
  if (!IsLearner(p_.roster(), *user)) return Error(400, "userId " + *user + " is not a gradable member of the course");
  for (const char* k : {"activityProgress", "gradingProgress", "timestamp"}) {
    if (!StringMember(body, k) || StringMember(body, k)->empty()) return Error(400, std::string(k) + " is required");
  }
  const std::string ts_text = *StringMember(body, "timestamp");
  auto ts = ParseIso8601(ts_text);
  if (!ts) return Error(400, "timestamp must be ISO 8601 with a time zone: " + ts_text);
  const std::string grading = *StringMember(body, "gradingProgress");
  const std::string activity = *StringMember(body, "activityProgress");
  if (!OneOf(activity, kActivity)) return Error(400, "activityProgress must be one of the AGS values");
  if (!OneOf(grading, kGrading)) return Error(400, "gradingProgress must be one of the AGS values");
  std::optional<double> given;
  double max = 0;
  if (Present(body, "scoreGiven")) {
    given = FiniteNumber(body, "scoreGiven");
    if (!given || *given < 0) return Error(400, "scoreGiven must be a number >= 0");
    auto m = FiniteNumber(body, "scoreMaximum");
    if (!Present(body, "scoreMaximum")) return Error(400, "scoreMaximum is required when scoreGiven is present");
    if (!m || *m <= 0) return Error(400, "scoreMaximum must be a number > 0");
    max = *m;
  }
  if (!OneOf(grading, {"FullyGraded", "PendingManual"})) given.reset();

  bool stale = false;
  auto outcome = p_.gradebook().ApplyScore(item.id, *user, [&](const LineItem&, ResultRecord& r) {
    // AGS §3.4.9: never update from a score older than the one on record (equal is accepted).
    if (r.accepted > 0 && r.timestamp > *ts) {
      stale = true;
      return Gradebook::Decision::kStale;
    }
    ApplyCommon(r, body, *ts);
    r.score_given = given;
    r.score_maximum = max;
    r.history.push_back(HistoryEntry(tool_.client_id, body, given, max));
    return Gradebook::Decision::kCommit;
  });
  if (outcome == Gradebook::Outcome::kNoLineItem) return Error(404, "Line item not found");
  if (stale) {
    return Error(409, "Refusing score with an earlier timestamp than the one on record for item " + item.id +
                          " and user " + *user);
  }
  http::Response r;
  r.status = 204;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Platform::HandleAgs: routing, faults, media types (Moodle), authentication, scopes.

http::Response Platform::HandleAgs(const http::Request& request) {
  const int64_t now_ms = clock_->NowMillis();
  const std::string path = request.Path();
  FormFields query = ParseForm(request.Query()).value_or(FormFields{});

  // The bearer token (looked up now; judged below) decides the profile and the bucket.
  std::optional<std::string> bearer;
  if (auto auth = request.headers.Get("Authorization")) {
    std::string_view v = Trim(*auth);
    if (v.size() > 7 && EqualsIgnoreCase(v.substr(0, 7), "Bearer ")) bearer = std::string(Trim(v.substr(7)));
  }
  std::optional<AccessToken> token = bearer ? tokens_->Find(*bearer) : std::nullopt;
  std::optional<Tool> tool = token ? FindTool(token->client_id) : std::nullopt;
  Profile profile = Profile::kGeneric;
  if (tool) {
    profile = tool->spec.profile;
  } else if (auto type_id = FormValue(query, "type_id")) {
    for (const auto& t : tools()) {
      if (t.spec.profile == Profile::kMoodle && t.deployment_id == *type_id) profile = Profile::kMoodle;
    }
  }

  FaultInjector::Ticket ticket;
  if (auto fault = faults_->Admit(tool ? tool->client_id : "anonymous-service-requests", MeteredKind::kService,
                                  ticket)) {
    return *fault;
  }
  auto finish = [&](http::Response r) {
    FaultInjector::Decorate(r, ticket);
    return r;
  };

  bool nrps = false;
  auto route = ParseRoute(path, seed_.course.id, nrps);
  if (!route && !nrps) return finish(AgsError(profile, 404, "Not found"));
  // Moodle's router matches a resource by media type before its path: a type that does not fit
  // (or a path Moodle has no resource for) is "No handler found" (mod/lti/services.php). NRPS
  // checks its own media type (nrps.cc).
  if (profile == Profile::kMoodle && !nrps) {
    const bool is_get = request.method == "GET";
    const std::string accept = request.headers.Get("Accept").value_or("");
    const std::string content_type = MediaType(request.headers.Get("Content-Type"));
    auto formats = MoodleFormats(route->kind);
    bool fits = !formats.empty();
    if (fits && is_get) {
      fits = accept.empty() || accept.find("*/*") != std::string::npos || OneOf(accept, formats);
    } else if (fits && request.method != "DELETE") {
      fits = OneOf(content_type, formats);
    }
    if (!fits) {
      return finish(AgsError(profile, 400, "No handler found for " + path + " " + accept + " " + content_type));
    }
  }
  auto allowed = nrps ? std::vector<std::string_view>{"GET"} : AllowedMethods(route->kind);
  if (!OneOf(request.method, allowed)) {
    http::Response r = AgsError(profile, 405, "Method not allowed");
    std::string allow;
    for (auto m : allowed) allow += (allow.empty() ? "" : ", ") + std::string(m);
    r.headers.Set("Allow", allow);
    return finish(r);
  }

  // Authentication: Canvas and Moodle answer 401 for everything; the generic platform and
  // Brightspace follow RFC 6750 (401 invalid_token, 403 insufficient_scope).
  auto unauthorized = [&](std::string_view message) {
    http::Response r = AgsError(profile, 401, message);
    if (profile == Profile::kGeneric || profile == Profile::kBrightspace) {
      r.headers.Set("WWW-Authenticate", "Bearer realm=\"gradebridge-sim\", error=\"invalid_token\"");
    }
    LogInfo("sim.ags_unauthorized", {{"path", path}, {"reason", message}});
    return finish(r);
  };
  if (!bearer) return unauthorized("Missing access token");
  if (!token || !tool) return unauthorized("Invalid access token");
  if (now_ms >= token->expires_ms) return unauthorized("Access token expired");
  if (faults_->ExpiredEarly(token->issued_ms, token->expires_ms, now_ms)) return unauthorized("Access token expired");
  if (profile == Profile::kMoodle && !nrps && FormValue(query, "type_id").value_or("") != tool->deployment_id) {
    // Moodle's check_tool: the type_id must name the token's tool.
    return unauthorized("The type_id does not match the access token's tool");
  }
  Scopes needed = nrps ? Scopes{{lti::kScopeNrps}} : RequiredScopes(route->kind, request.method);
  bool scoped = std::any_of(needed.any_of.begin(), needed.any_of.end(),
                            [&](std::string_view s) { return token->HasScope(s); });
  if (!scoped) {
    std::string list;
    for (auto s : needed.any_of) list += (list.empty() ? "" : " ") + std::string(s);
    if (profile == Profile::kCanvas || profile == Profile::kMoodle) return unauthorized("Insufficient permissions");
    http::Response r = AgsError(profile, 403, "Insufficient scope: this call needs " + list);
    r.headers.Set("WWW-Authenticate",
                  "Bearer realm=\"gradebridge-sim\", error=\"insufficient_scope\", scope=\"" + list + "\"");
    return finish(r);
  }

  if (nrps) return finish(ServeMemberships(*this, request, *tool, query));
  AgsCall call(*this, request, *tool, *route, std::move(query));
  return finish(call.Serve());
}

}  // namespace gb::sim
