// Gradebook: the simulator's grade store — the course's line items and, per (line item, user),
// the current result and the history of every accepted score. AGS (ags.cc) writes it; the
// gradebook views (GET /sim/gradebook, GET /sim/api/gradebook) read it. Thread-safe.
//
// Scores are stored as posted (scoreGiven / scoreMaximum); the value a gradebook shows is scaled
// to the line item's current scoreMaximum when read, so a column whose maximum changes is
// rescaled (AGS §3.2.7).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/clock.h"
#include "sim/seed.h"

namespace gb::sim {

struct LineItem {
  std::string id;  // "1", "2", … (the seeded Quiz 1 column is "1")
  std::string label;
  double score_maximum = 0;
  std::string resource_id;
  std::string tag;
  std::string resource_link_id;
  std::string start_date_time;  // as sent (validated ISO 8601), empty when unset
  std::string end_date_time;
  std::string extensions_json = "{}";  // members with URL keys, kept verbatim
  std::string owner_client_id;  // the tool that created it; empty: created by the platform
  bool coupled = false;         // created with its resource link (Canvas: DELETE -> 401)
  bool cap_at_maximum = false;  // Brightspace: scores above the maximum are capped
};

struct ScoreRecord {
  uint64_t seq = 0;             // gradebook-wide order of acceptance
  int64_t received_ms = 0;
  std::string client_id;
  std::string timestamp;        // as sent by the tool
  std::optional<double> score_given;  // nullopt: the score cleared the grade
  double score_maximum = 0;
  std::string activity_progress;
  std::string grading_progress;
  std::optional<std::string> comment;
};

struct ResultRecord {
  std::string user_id;
  uint64_t number = 0;          // "<line item>/results/<number>"
  TimePoint timestamp{};        // of the last accepted score
  std::string timestamp_text;   // as sent
  std::optional<double> score_given;  // nullopt: no grade (never graded, or cleared)
  double score_maximum = 0;
  std::string activity_progress;
  std::string grading_progress;
  std::optional<std::string> comment;
  uint64_t accepted = 0;        // accepted score POSTs
  uint64_t rejected_stale = 0;  // score POSTs refused for their timestamp
  std::vector<ScoreRecord> history;  // every accepted score, oldest first

  bool cleared() const { return accepted > 0 && !score_given; }
};

// The value a gradebook shows for `r` in `item` (points of the line item), nullopt when no grade.
std::optional<double> ScaledScore(const ResultRecord& r, const LineItem& item);

class Gradebook {
 public:
  // Seeds one coupled line item per seeded resource link that has one ("1": Quiz 1, 10 points).
  Gradebook(const Seed& seed, const Clock& clock);

  std::vector<LineItem> line_items() const;  // by numeric id
  std::optional<LineItem> Find(std::string_view id) const;
  // Assigns the id; returns the stored item.
  LineItem Create(LineItem item);
  // Replaces an existing item (same id); false when there is none.
  bool Update(const LineItem& item);
  // Deletes the item and its results; false when there is none.
  bool Delete(std::string_view id);

  std::vector<ResultRecord> Results(std::string_view item_id) const;  // by result number
  std::optional<ResultRecord> FindResult(std::string_view item_id, std::string_view user_id) const;

  // Atomically applies a score: `decide` sees the item and the user's record (a fresh one when
  // the user has none yet) and edits it. kCommit stores it (`decide` appends the history entry;
  // its seq and received_ms are filled in here); kStale only counts a stale rejection on an
  // existing record; kDiscard drops the edit. `decide` runs under the gradebook's lock.
  enum class Decision { kCommit, kStale, kDiscard };
  enum class Outcome { kNoLineItem, kCommitted, kRejected };
  Outcome ApplyScore(std::string_view item_id, std::string_view user_id,
                     const std::function<Decision(const LineItem&, ResultRecord&)>& decide);

  // GET /sim/api/gradebook: {"course", "users": [...], "line_items": [{…, "results": {user: {…}}}]}
  nlohmann::json ToJson() const;
  // GET /sim/gradebook body (a complete HTML page).
  std::string ToHtml() const;

 private:
  struct Column {
    LineItem item;
    std::map<std::string, ResultRecord, std::less<>> results;  // by user id
    uint64_t next_result = 1;
  };
  const Seed& seed_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<uint64_t, Column> columns_;  // by numeric id
  uint64_t next_id_ = 1;
  uint64_t next_seq_ = 1;
};

}  // namespace gb::sim
