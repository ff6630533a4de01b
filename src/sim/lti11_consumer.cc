#include "sim/lti11_consumer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "base/time_util.h"
#include "base/url.h"
#include "jose/jose.h"
#include "sim/gradebook.h"
#include "sim/html.h"

namespace gb::sim {
namespace {

using nlohmann::json;

constexpr int64_t kWindowSeconds = 90 * 60;  // Canvas: ±90 minutes
constexpr size_t kMaxBody = 64 * 1024;
constexpr char kNs[] = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0";

std::string Enc(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string XmlEsc(std::string_view s) { return HtmlEscape(s); }

http::Response JsonResp(int status, const json& body) { return http::Response::Json(status, body.dump()); }

std::string Local(const char* name) {
  std::string_view n(name);
  size_t c = n.find(':');
  return std::string(c == std::string_view::npos ? n : n.substr(c + 1));
}

pugi::xml_node Kid(pugi::xml_node n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && Local(c.name()) == local) return c;
  }
  return {};
}

struct PoxAnswer {
  std::string major = "success";
  std::string description;
  std::string canvas_code;
  std::string op = "replaceResult";
  std::string ref;
  std::optional<std::string> read_text;
  bool auth_failure = false;  // Canvas: 401
};

std::string ResponseXml(const PoxAnswer& a, const std::string& message_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imsx_POXEnvelopeResponse xmlns=\"";
  out += kNs;
  out += "\"><imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_version>V1.0</imsx_version><imsx_messageIdentifier>" +
         message_id + "</imsx_messageIdentifier><imsx_statusInfo><imsx_codeMajor>" + a.major +
         "</imsx_codeMajor><imsx_severity>" + (a.major == "success" ? "status" : "error") +
         "</imsx_severity><imsx_description>" + XmlEsc(a.description) + "</imsx_description>"
         "<imsx_messageRefIdentifier>" + XmlEsc(a.ref) + "</imsx_messageRefIdentifier>"
         "<imsx_operationRefIdentifier>" + XmlEsc(a.op) + "</imsx_operationRefIdentifier></imsx_statusInfo>"
         "</imsx_POXResponseHeaderInfo></imsx_POXHeader><imsx_POXBody>";
  if (a.read_text) {
    out += "<readResultResponse><result><resultScore><language>en</language><textString>" + XmlEsc(*a.read_text) +
           "</textString></resultScore></result></readResultResponse>";
  } else if (a.major == "success") {
    out += "<" + a.op + "Response/>";
  }
  if (!a.canvas_code.empty()) out += "<ext_canvas_error_code>" + a.canvas_code + "</ext_canvas_error_code>";
  out += "</imsx_POXBody></imsx_POXEnvelopeResponse>";
  return out;
}

}  // namespace

std::string SimOAuthSignature(std::string_view method, std::string_view url, const FormFields& params,
                              std::string_view secret) {
  auto u = Url::Parse(url);
  std::string base = u.ok() ? u->scheme + "://" + u->host : std::string();
  if (u.ok() && !((u->scheme == "http" && u->port == 80) || (u->scheme == "https" && u->port == 443))) {
    base += ":" + std::to_string(u->port);
  }
  if (u.ok()) base += u->path;
  std::vector<std::pair<std::string, std::string>> enc;
  if (u.ok() && !u->query.empty()) {
    if (auto q = ParseForm(u->query)) {
      for (auto& [k, v] : *q) enc.emplace_back(Enc(k), Enc(v));
    }
  }
  for (const auto& [k, v] : params) {
    if (k != "oauth_signature" && k != "realm") enc.emplace_back(Enc(k), Enc(v));
  }
  std::sort(enc.begin(), enc.end());
  std::string norm;
  for (const auto& [k, v] : enc) norm += (norm.empty() ? "" : "&") + k + "=" + v;
  std::string text = std::string(method) + "&" + Enc(base) + "&" + Enc(norm);
  return Base64Encode(jose::HmacSha1(Enc(secret) + "&", text));
}

Lti11Consumers::Lti11Consumers(const Seed& seed, Gradebook& gradebook, const Clock& clock, Random& random,
                               std::function<std::string()> base_url)
    : seed_(seed), gradebook_(gradebook), clock_(clock), base_url_(std::move(base_url)), random_(random) {
  sourcedid_key_ = random_.Token(32);
}

std::string Lti11Consumers::RandomHex(size_t bytes) {
  std::lock_guard lock(mu_);
  return random_.Hex(bytes);
}

std::string Lti11Consumers::LegacyUserId(std::string_view sim_user_id) { return HexEncode(jose::Sha1(sim_user_id)); }

std::string Lti11Consumers::OutcomesUrl() const { return base_url_() + "/sim/lti11/outcomes"; }

std::string Lti11Consumers::SignSourcedId(const std::string& key, const std::string& link,
                                          const std::string& user) const {
  std::string body = key + ":" + link + ":" + user;
  return body + ":" + HexEncode(jose::HmacSha256(sourcedid_key_, body)).substr(0, 24);
}

std::string Lti11Consumers::HomeSection() const {
  std::vector<Lti11Tool> tools;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, t] : tools_) tools.push_back(t);
  }
  std::string b = "<h2>LTI 1.1 tools</h2>\n";
  if (tools.empty()) {
    return b + "<p>None. Register one with <code>POST /sim/api/lti11/consumers</code> "
               "{\"consumer_key\", \"secret\", \"launch_url\", \"profile\"}.</p>\n";
  }
  for (const auto& t : tools) {
    b += "<h3>" + HtmlEscape(t.consumer_key) + " (" + HtmlEscape(t.profile) + ") &rarr; " + HtmlEscape(t.launch_url) +
         "</h3>\n<ul>";
    for (const auto& u : seed_.users) {
      if (seed_.users.size() > 10 && u.role == CourseRole::kLearner && u.id != "learner1") continue;
      std::string href = "/sim/lti11/launch?consumer_key=" + PercentEncode(t.consumer_key) + "&user_id=" +
                         PercentEncode(u.id) + "&resource_link_id=rl-quiz-1";
      b += "<li><a href=\"" + HtmlEscape(href) + "\">" + HtmlEscape(u.name()) + "</a> <span class=\"meta\">";
      for (const char* m : {"bad_signature", "stale_timestamp", "wrong_version", "no_resource_link"}) {
        b += " <a href=\"" + HtmlEscape(href + "&mutation=" + m) + "\">" + m + "</a>";
      }
      b += "</span></li>";
    }
    b += "</ul>\n";
  }
  return b;
}

void Lti11Consumers::AddRoutes(server::Router& r) {
  r.Add("POST", "/sim/api/lti11/consumers", [this](const http::Request& q) { return HandleRegister(q); });
  r.Add("GET", "/sim/api/lti11/consumers", [this](const http::Request& q) { return HandleList(q); });
  r.Add("GET", "/sim/lti11/launch", [this](const http::Request& q) { return HandleLaunchPage(q); });
  r.Add("GET", "/sim/api/lti11/launch", [this](const http::Request& q) { return HandleLaunchJson(q); });
  r.Add("POST", "/sim/lti11/outcomes", [this](const http::Request& q) { return HandleOutcomes(q); });
}

Status Lti11Consumers::Register(Lti11Tool tool) {
  if (tool.consumer_key.empty() || tool.secret.empty()) {
    return Error(Code::kInvalidArgument, "sim.lti11_bad_tool", "consumer_key and secret are required.");
  }
  if (!Url::Parse(tool.launch_url).ok()) {
    return Error(Code::kInvalidArgument, "sim.lti11_bad_tool", "launch_url must be an absolute http(s) URL.");
  }
  if (tool.profile != "canvas" && tool.profile != "moodle" && tool.profile != "generic") {
    return Error(Code::kInvalidArgument, "sim.lti11_bad_tool", "profile is canvas, moodle or generic.");
  }
  std::lock_guard lock(mu_);
  tools_[tool.consumer_key] = std::move(tool);
  return Status::Ok();
}

Result<std::pair<std::string, FormFields>> Lti11Consumers::BuildLaunch(const Lti11LaunchSpec& spec) {
  Lti11Tool tool;
  {
    std::lock_guard lock(mu_);
    auto it = tools_.find(spec.consumer_key);
    if (it == tools_.end()) return Error(Code::kNotFound, "sim.lti11_unknown_tool", "No 1.1 tool with that key.");
    tool = it->second;
  }
  const SimUser* user = seed_.FindUser(spec.user_id);
  if (!user) return Error(Code::kNotFound, "sim.unknown_user", "No such user.");
  const SimResourceLink* link = seed_.FindResourceLink(spec.resource_link_id);
  if (!link) return Error(Code::kNotFound, "sim.unknown_link", "No such resource link.");
  std::string role = user->role == CourseRole::kInstructor ? "Instructor"
                     : user->role == CourseRole::kTeachingAssistant ? "urn:lti:role:ims/lis/TeachingAssistant"
                                                                    : "Learner";
  FormFields f = {{"lti_message_type", spec.mutation == "wrong_message_type" ? "ContentItemSelectionRequest"
                                                                             : "basic-lti-launch-request"},
                  {"lti_version", spec.mutation == "wrong_version" ? "LTI-2p0" : "LTI-1p0"},
                  {"user_id", LegacyUserId(user->id)},
                  {"roles", role},
                  {"lis_person_name_given", user->given_name},
                  {"lis_person_name_family", user->family_name},
                  {"lis_person_name_full", user->name()},
                  {"lis_person_contact_email_primary", user->email},
                  {"context_id", seed_.course.id},
                  {"context_label", seed_.course.label},
                  {"context_title", seed_.course.title},
                  {"resource_link_title", link->title},
                  {"tool_consumer_instance_guid", "sim.gradebridge.local"},
                  {"tool_consumer_info_product_family_code", tool.profile == "generic" ? "sim" : tool.profile},
                  {"launch_presentation_return_url", base_url_() + "/sim/return"},
                  {"custom_sim", "1"}};
  if (spec.mutation != "no_resource_link") f.emplace_back("resource_link_id", link->id);
  if (user->role == CourseRole::kLearner && !link->line_item_id.empty()) {
    f.emplace_back("lis_outcome_service_url", OutcomesUrl());
    f.emplace_back("lis_result_sourcedid", SignSourcedId(tool.consumer_key, link->id, user->id));
  }
  if (tool.profile == "canvas") {
    f.emplace_back("ext_outcome_data_values_accepted", "url,text");
    f.emplace_back("ext_outcome_submission_submitted_at_accepted", "true");
  }
  int64_t ts = clock_.NowSeconds();
  if (spec.mutation == "stale_timestamp") ts -= 3600;
  f.emplace_back("oauth_consumer_key", tool.consumer_key);
  f.emplace_back("oauth_signature_method", "HMAC-SHA1");
  f.emplace_back("oauth_timestamp", std::to_string(ts));
  f.emplace_back("oauth_nonce", RandomHex(16));
  f.emplace_back("oauth_version", "1.0");
  f.emplace_back("oauth_callback", "about:blank");
  std::string secret = spec.mutation == "bad_signature" ? tool.secret + "-wrong" : tool.secret;
  f.emplace_back("oauth_signature", SimOAuthSignature("POST", tool.launch_url, f, secret));
  return std::make_pair(tool.launch_url, std::move(f));
}

namespace {

Lti11LaunchSpec SpecFrom(const http::Request& req) {
  Lti11LaunchSpec spec;
  auto q = ParseForm(req.Query()).value_or(FormFields{});
  if (auto v = FormValue(q, "consumer_key")) spec.consumer_key = *v;
  if (auto v = FormValue(q, "user_id")) spec.user_id = *v;
  if (auto v = FormValue(q, "resource_link_id")) spec.resource_link_id = *v;
  if (auto v = FormValue(q, "mutation")) spec.mutation = *v;
  return spec;
}

}  // namespace

http::Response Lti11Consumers::HandleRegister(const http::Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return JsonResp(400, {{"error", "body must be a JSON object"}});
  Lti11Tool t;
  t.consumer_key = body.value("consumer_key", "");
  t.secret = body.value("secret", "");
  t.launch_url = body.value("launch_url", "");
  t.profile = body.value("profile", "generic");
  Status st = Register(t);
  if (!st.ok()) return JsonResp(400, {{"error", st.reason()}, {"message", st.message()}});
  return JsonResp(201, {{"consumer_key", t.consumer_key}, {"launch_url", t.launch_url}, {"profile", t.profile},
                        {"outcomes_url", OutcomesUrl()}});
}

http::Response Lti11Consumers::HandleList(const http::Request&) const {
  json out = json::array();
  std::lock_guard lock(mu_);
  for (const auto& [k, t] : tools_) {
    out.push_back({{"consumer_key", k}, {"launch_url", t.launch_url}, {"profile", t.profile}});
  }
  return JsonResp(200, out);
}

http::Response Lti11Consumers::HandleLaunchPage(const http::Request& req) {
  auto launch = BuildLaunch(SpecFrom(req));
  if (!launch.ok()) return http::Response::Html(404, SimplePage("Launch failed", HtmlEscape(launch.status().message())));
  return http::Response::Html(200, AutoSubmitPage("LTI 1.1 launch", launch->first, "post", launch->second));
}

http::Response Lti11Consumers::HandleLaunchJson(const http::Request& req) {
  auto launch = BuildLaunch(SpecFrom(req));
  if (!launch.ok()) return JsonResp(404, {{"error", launch.status().reason()}, {"message", launch.status().message()}});
  json fields = json::array();
  for (const auto& [k, v] : launch->second) fields.push_back(json::array({k, v}));
  return JsonResp(200, {{"action", launch->first}, {"fields", fields}});
}

http::Response Lti11Consumers::HandleOutcomes(const http::Request& req) {
  const std::string message_id = "sim-" + RandomHex(8);
  // Find the tool first (the consumer key names the profile that decides how errors look).
  std::optional<std::string> auth = req.headers.Get("Authorization");
  FormFields oauth;
  if (auth && auth->size() > 6 && EqualsIgnoreCase(auth->substr(0, 6), "OAuth ")) {
    for (std::string_view part : Split(std::string_view(*auth).substr(6), ',')) {
      part = Trim(part);
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view v = Trim(part.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      oauth.emplace_back(PercentDecode(Trim(part.substr(0, eq)), false).value_or(""),
                         PercentDecode(v, false).value_or(""));
    }
  }
  std::string key = FormValue(oauth, "oauth_consumer_key").value_or("");
  Lti11Tool tool;
  bool known = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = tools_.find(key); it != tools_.end()) {
      tool = it->second;
      known = true;
    }
  }
  const bool canvas = known && tool.profile == "canvas";
  PoxAnswer a;
  auto answer = [&](int canvas_status) {
    int status = 200;
    if (canvas && a.major != "success") status = a.auth_failure ? 401 : canvas_status;
    http::Response resp = http::Response::Text(status, ResponseXml(a, message_id));
    resp.headers.Set("Content-Type", "application/xml");
    return resp;
  };
  auto fail = [&](std::string description, std::string canvas_code = "", bool auth_failure = false) {
    a.major = "failure";
    a.description = std::move(description);
    a.canvas_code = std::move(canvas_code);
    a.auth_failure = auth_failure;
    return answer(422);
  };

  std::string ct = ToLower(std::string(Trim(Split(req.headers.Get("Content-Type").value_or(""), ';').front())));
  if (ct != "application/xml") {
    if (canvas) return http::Response::Text(415, "Content-Type must be application/xml");
    return fail("Content-Type must be application/xml (form encoding is not accepted).");
  }
  if (req.body.size() > kMaxBody) return fail("Request too large.");
  // OAuth 1.0a with the body hash.
  if (!known) return fail("OAuth consumer key is unknown.", "", true);
  if (FormValue(oauth, "oauth_signature_method").value_or("") != "HMAC-SHA1") {
    return fail("Unsupported OAuth signature method.", "", true);
  }
  std::string body_hash = FormValue(oauth, "oauth_body_hash").value_or("");
  if (body_hash.empty()) return fail("OAuth body hash is missing.", "", true);
  if (body_hash != Base64Encode(jose::Sha1(req.body))) return fail("OAuth body hash does not match the body.", "", true);
  std::string url = base_url_() + req.Path();
  if (std::string q = req.Query(); !q.empty()) url += "?" + q;
  std::string signature = FormValue(oauth, "oauth_signature").value_or("");
  if (!ConstantTimeEquals(SimOAuthSignature("POST", url, oauth, tool.secret), signature)) {
    return fail("OAuth signature is invalid.", "", true);
  }
  int64_t ts = 0;
  std::string ts_text = FormValue(oauth, "oauth_timestamp").value_or("");
  auto [ptr, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
  if (ec != std::errc() || ptr != ts_text.data() + ts_text.size() ||
      std::llabs(clock_.NowSeconds() - ts) > kWindowSeconds) {
    return fail("OAuth timestamp is outside the allowed window.", "", true);
  }
  std::string nonce = FormValue(oauth, "oauth_nonce").value_or("");
  {
    std::lock_guard lock(mu_);
    if (nonce.empty() || !nonces_.insert(key + " " + nonce).second) {
      return fail("OAuth nonce was already used.", "", true);
    }
  }
  // The POX document: no DTDs at all.
  if (req.body.find("<!") != std::string::npos) return fail("DOCTYPE and entity declarations are not accepted.");
  pugi::xml_document doc;
  if (!doc.load_buffer(req.body.data(), req.body.size(), pugi::parse_minimal | pugi::parse_escapes)) {
    return fail("The request is not well-formed XML.");
  }
  pugi::xml_node root = doc.document_element();
  if (Local(root.name()) != "imsx_POXEnvelopeRequest") return fail("Not an imsx_POXEnvelopeRequest.");
  a.ref = Kid(Kid(Kid(root, "imsx_POXHeader"), "imsx_POXRequestHeaderInfo"), "imsx_messageIdentifier").text().get();
  pugi::xml_node op;
  for (pugi::xml_node c = Kid(root, "imsx_POXBody").first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) {
      op = c;
      break;
    }
  }
  std::string op_name = op ? Local(op.name()) : "";
  if (op_name.size() > 7 && op_name.substr(op_name.size() - 7) == "Request") {
    a.op = op_name.substr(0, op_name.size() - 7);
  }
  if (a.op != "replaceResult" && a.op != "readResult" && a.op != "deleteResult") {
    a.op = op_name;
    a.major = "unsupported";
    a.description = op_name + " is not supported";
    return answer(422);
  }
  pugi::xml_node record = Kid(op, "resultRecord");
  std::string sourcedid = std::string(Trim(Kid(Kid(record, "sourcedGUID"), "sourcedId").text().get()));
  // "<key>:<link>:<user>:<mac>", signed by this simulator and bound to the calling tool.
  std::vector<std::string_view> parts = Split(sourcedid, ':');
  if (parts.size() != 4 || SignSourcedId(std::string(parts[0]), std::string(parts[1]), std::string(parts[2])) != sourcedid) {
    return fail("Invalid sourcedid", "sourcedid_invalid");
  }
  if (parts[0] != key) return fail("Tool is invalid", "tool_invalid");
  const SimResourceLink* link = seed_.FindResourceLink(parts[1]);
  if (!link || link->line_item_id.empty()) return fail("Assignment is invalid", "assignment_invalid");
  const std::string user(parts[2]);

  if (a.op == "readResult") {
    auto r = gradebook_.FindResult(link->line_item_id, user);
    std::string text;
    if (r && r->score_given && r->score_maximum > 0) text = FormatDecimal(*r->score_given / r->score_maximum);
    a.read_text = text;
    a.description = text.empty() ? "No grade" : "Result read";
    return answer(200);
  }
  std::optional<double> fraction;
  if (a.op == "replaceResult") {
    std::string text(Trim(Kid(Kid(Kid(record, "result"), "resultScore"), "textString").text().get()));
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty()) return fail("No score given", "no_score");
    if (*end != '\0' || !std::isfinite(v) || text.find_first_not_of("0123456789.-") != std::string::npos) {
      return fail("Unable to parse resultScore: " + text, "no_parseable_result_score");
    }
    if (v < 0.0 || v > 1.0) return fail("Score not between 0.0 and 1.0", "bad_score");
    fraction = v;
  }
  const std::string stamp = FormatIso8601Millis(clock_.Now());
  auto outcome = gradebook_.ApplyScore(link->line_item_id, user, [&](const LineItem& item, ResultRecord& r) {
    ScoreRecord h;
    h.client_id = "lti11:" + key;
    h.timestamp = stamp;
    h.score_maximum = item.score_maximum;
    if (fraction) h.score_given = *fraction * item.score_maximum;
    // Canvas's resultData/text extension shows as the submission comment.
    std::string text(Trim(Kid(Kid(Kid(record, "result"), "resultData"), "text").text().get()));
    if (canvas && !text.empty()) h.comment = text;
    r.comment = h.comment;
    h.activity_progress = "Completed";
    h.grading_progress = fraction ? "FullyGraded" : "NotReady";
    r.score_given = h.score_given;
    r.score_maximum = item.score_maximum;
    r.timestamp = clock_.Now();
    r.timestamp_text = stamp;
    r.activity_progress = h.activity_progress;
    r.grading_progress = h.grading_progress;
    r.accepted++;
    r.history.push_back(std::move(h));
    return Gradebook::Decision::kCommit;
  });
  if (outcome == Gradebook::Outcome::kNoLineItem) return fail("Assignment is invalid", "assignment_invalid");
  a.description = a.op == "replaceResult" ? "Score for " + sourcedid + " is now " + FormatDecimal(*fraction)
                                          : "Score for " + sourcedid + " deleted";
  return answer(200);
}

}  // namespace gb::sim
