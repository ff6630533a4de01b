#include "sim/gradebook.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/time_util.h"
#include "sim/html.h"
#include "sim/platform.h"

namespace gb::sim {
namespace {

using nlohmann::json;

std::optional<uint64_t> ParseId(std::string_view id) {
  if (id.empty() || id.size() > 18 || id.front() == '0') return std::nullopt;
  uint64_t v = 0;
  auto r = std::from_chars(id.data(), id.data() + id.size(), v);
  if (r.ec != std::errc() || r.ptr != id.data() + id.size()) return std::nullopt;
  return v;
}

json OptNumber(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::string FormatPoints(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::optional<double> ScaledScore(const ResultRecord& r, const LineItem& item) {
  if (!r.score_given) return std::nullopt;
  double given = *r.score_given;
  // Canvas and Moodle: a score maximum of 0 (or not a number) means "no scaling".
  double factor = (r.score_maximum > 0 && std::isfinite(r.score_maximum)) ? item.score_maximum / r.score_maximum : 1.0;
  double scaled = given * factor;
  if (item.cap_at_maximum) scaled = std::min(scaled, item.score_maximum);
  return scaled;
}

Gradebook::Gradebook(const Seed& seed, const Clock& clock) : seed_(seed), clock_(clock) {
  for (const auto& link : seed.resource_links) {
    if (link.line_item_id.empty()) continue;
    LineItem item;
    item.label = link.title;
    item.score_maximum = link.score_maximum;
    item.resource_link_id = link.id;
    item.coupled = true;
    auto id = ParseId(link.line_item_id);
    uint64_t n = id ? *id : next_id_;
    item.id = std::to_string(n);
    columns_[n].item = std::move(item);
    next_id_ = std::max(next_id_, n + 1);
  }
}

std::vector<LineItem> Gradebook::line_items() const {
  std::lock_guard lock(mu_);
  std::vector<LineItem> out;
  out.reserve(columns_.size());
  for (const auto& [n, c] : columns_) out.push_back(c.item);
  return out;
}

std::optional<LineItem> Gradebook::Find(std::string_view id) const {
  auto n = ParseId(id);
  if (!n) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = columns_.find(*n);
  if (it == columns_.end()) return std::nullopt;
  return it->second.item;
}

LineItem Gradebook::Create(LineItem item) {
  std::lock_guard lock(mu_);
  uint64_t n = next_id_++;
  item.id = std::to_string(n);
  columns_[n].item = item;
  return item;
}

bool Gradebook::Update(const LineItem& item) {
  auto n = ParseId(item.id);
  if (!n) return false;
  std::lock_guard lock(mu_);
  auto it = columns_.find(*n);
  if (it == columns_.end()) return false;
  it->second.item = item;
  return true;
}

bool Gradebook::Delete(std::string_view id) {
  auto n = ParseId(id);
  if (!n) return false;
  std::lock_guard lock(mu_);
  return columns_.erase(*n) > 0;
}

std::vector<ResultRecord> Gradebook::Results(std::string_view item_id) const {
  std::vector<ResultRecord> out;
  auto n = ParseId(item_id);
  if (!n) return out;
  std::lock_guard lock(mu_);
  auto it = columns_.find(*n);
  if (it == columns_.end()) return out;
  for (const auto& [user, r] : it->second.results) out.push_back(r);
  std::sort(out.begin(), out.end(), [](const ResultRecord& a, const ResultRecord& b) { return a.number < b.number; });
  return out;
}

std::optional<ResultRecord> Gradebook::FindResult(std::string_view item_id, std::string_view user_id) const {
  auto n = ParseId(item_id);
  if (!n) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = columns_.find(*n);
  if (it == columns_.end()) return std::nullopt;
  auto r = it->second.results.find(user_id);
  if (r == it->second.results.end()) return std::nullopt;
  return r->second;
}

Gradebook::Outcome Gradebook::ApplyScore(std::string_view item_id, std::string_view user_id,
                                         const std::function<Decision(const LineItem&, ResultRecord&)>& decide) {
  auto n = ParseId(item_id);
  if (!n) return Outcome::kNoLineItem;
  std::lock_guard lock(mu_);
  auto it = columns_.find(*n);
  if (it == columns_.end()) return Outcome::kNoLineItem;
  Column& column = it->second;
  auto existing = column.results.find(user_id);
  ResultRecord record;
  if (existing != column.results.end()) {
    record = existing->second;
  } else {
    record.user_id = std::string(user_id);
  }
  const size_t history_before = record.history.size();
  switch (decide(column.item, record)) {
    case Decision::kCommit:
      if (record.number == 0) record.number = column.next_result++;
      ++record.accepted;
      for (size_t i = history_before; i < record.history.size(); ++i) {
        record.history[i].seq = next_seq_++;
        record.history[i].received_ms = clock_.NowMillis();
      }
      column.results[std::string(user_id)] = std::move(record);
      return Outcome::kCommitted;
    case Decision::kStale:
      if (existing != column.results.end()) ++existing->second.rejected_stale;
      return Outcome::kRejected;
    case Decision::kDiscard:
      return Outcome::kRejected;
  }
  return Outcome::kRejected;
}

json Gradebook::ToJson() const {
  std::lock_guard lock(mu_);
  json users = json::array();
  for (const auto& u : seed_.users) {
    users.push_back({{"id", u.id}, {"name", u.name()}, {"role", RoleName(u.role)}});
  }
  json items = json::array();
  for (const auto& [n, column] : columns_) {
    const LineItem& item = column.item;
    json results = json::object();
    for (const auto& u : seed_.users) {
      auto r = column.results.find(u.id);
      if (r == column.results.end()) {
        results[u.id] = {{"resultScore", nullptr},
                         {"resultMaximum", item.score_maximum},
                         {"timestamp", nullptr},
                         {"gradingProgress", nullptr},
                         {"activityProgress", nullptr},
                         {"comment", nullptr},
                         {"scores_accepted", 0},
                         {"scores_rejected_stale", 0},
                         {"cleared", false},
                         {"history", json::array()}};
        continue;
      }
      const ResultRecord& rec = r->second;
      json history = json::array();
      for (const auto& h : rec.history) {
        ResultRecord one;
        one.score_given = h.score_given;
        one.score_maximum = h.score_maximum;
        history.push_back({{"seq", h.seq},
                           {"timestamp", h.timestamp},
                           {"received_at", FormatIso8601Millis(TimePoint(std::chrono::milliseconds(h.received_ms)))},
                           {"client_id", h.client_id},
                           {"scoreGiven", OptNumber(h.score_given)},
                           {"scoreMaximum", h.score_maximum},
                           {"resultScore", OptNumber(ScaledScore(one, item))},
                           {"gradingProgress", h.grading_progress},
                           {"activityProgress", h.activity_progress},
                           {"comment", h.comment ? json(*h.comment) : json(nullptr)}});
      }
      results[u.id] = {{"resultScore", OptNumber(ScaledScore(rec, item))},
                       {"resultMaximum", item.score_maximum},
                       {"timestamp", rec.timestamp_text},
                       {"gradingProgress", rec.grading_progress},
                       {"activityProgress", rec.activity_progress},
                       {"comment", rec.comment ? json(*rec.comment) : json(nullptr)},
                       {"scores_accepted", rec.accepted},
                       {"scores_rejected_stale", rec.rejected_stale},
                       {"cleared", rec.cleared()},
                       {"history", history}};
    }
    items.push_back({{"id", item.id},
                     {"label", item.label},
                     {"scoreMaximum", item.score_maximum},
                     {"resourceId", item.resource_id},
                     {"tag", item.tag},
                     {"resourceLinkId", item.resource_link_id},
                     {"owner_client_id", item.owner_client_id.empty() ? json(nullptr) : json(item.owner_client_id)},
                     {"coupled", item.coupled},
                     {"results", results}});
  }
  return {{"course", {{"id", seed_.course.id}, {"label", seed_.course.label}, {"title", seed_.course.title}}},
          {"users", users},
          {"line_items", items}};
}

std::string Gradebook::ToHtml() const {
  std::lock_guard lock(mu_);
  std::string b;
  b += "<p>" + HtmlEscape(seed_.course.label) + " &mdash; " + HtmlEscape(seed_.course.title) +
       ". Values are in the column's points; <span class=\"cleared\">cleared</span> marks a grade a tool "
       "wiped (non-final gradingProgress or no scoreGiven). JSON: <a href=\"/sim/api/gradebook\">"
       "/sim/api/gradebook</a>.</p>\n";
  b += "<style>td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}table{border-collapse:collapse}"
       ".cleared{color:#a00;font-weight:bold}.meta{color:#666;font-size:80%}</style>\n";
  b += "<table><tr><th>user</th>";
  for (const auto& [n, column] : columns_) {
    const LineItem& item = column.item;
    b += "<th>" + HtmlEscape(item.label) + "<br><span class=\"meta\">#" + HtmlEscape(item.id) + ", " +
         FormatPoints(item.score_maximum) + " pts" +
         (item.tag.empty() ? std::string() : ", tag " + HtmlEscape(item.tag)) +
         (item.owner_client_id.empty() ? std::string() : ", by " + HtmlEscape(item.owner_client_id)) +
         "</span></th>";
  }
  b += "</tr>\n";
  for (const auto& u : seed_.users) {
    b += "<tr><td>" + HtmlEscape(u.name()) + "<br><span class=\"meta\">" + HtmlEscape(u.id) + ", " +
         std::string(RoleName(u.role)) + "</span></td>";
    for (const auto& [n, column] : columns_) {
      auto r = column.results.find(u.id);
      if (r == column.results.end()) {
        b += "<td></td>";
        continue;
      }
      const ResultRecord& rec = r->second;
      auto value = ScaledScore(rec, column.item);
      b += "<td>";
      if (value) {
        b += "<b>" + FormatPoints(*value) + "</b> / " + FormatPoints(column.item.score_maximum);
      } else if (rec.cleared()) {
        b += "<span class=\"cleared\">&mdash; cleared</span>";
      }
      b += "<br><span class=\"meta\">" + HtmlEscape(rec.timestamp_text) + "<br>" +
           HtmlEscape(rec.grading_progress) + ", " + HtmlEscape(rec.activity_progress) + "<br>" +
           std::to_string(rec.accepted) + " accepted" +
           (rec.rejected_stale ? ", " + std::to_string(rec.rejected_stale) + " stale refused" : std::string()) +
           "</span></td>";
    }
    b += "</tr>\n";
  }
  b += "</table>\n<p><a href=\"/sim/\">Simulator home</a></p>";
  return SimplePage("Gradebook", b);
}

// ---------------------------------------------------------------------------------------------
// Platform handlers

http::Response Platform::HandleGradebookPage(const http::Request&) const {
  return http::Response::Html(200, gradebook_->ToHtml());
}

http::Response Platform::HandleGradebookJson(const http::Request&) const {
  return http::Response::Json(200, gradebook_->ToJson().dump());
}

}  // namespace gb::sim
