// AgsClient: Assignment and Grade Services 2.0 (lti-digest §3) — line items, scores, results.
//
// Every call:
//   - checks the URL's host against Registration::AllowedHosts() before anything is sent, also
//     for each `Link: rel="next"` page (a bearer token must never leave for another host);
//   - gets a token for the operation's scope from ServiceTokenClient (reads use
//     lineitem.readonly, falling back to lineitem when only that is granted);
//   - sends the exact AGS media types (Accept / Content-Type);
//   - on a 401, drops the token, gets a new one and retries once (ServiceTokenClient::
//     InvalidateRejected bounds this to one forced refresh per registration per minute);
//   - classifies the result (ags_outcome.h) and keeps the raw exchange (ServiceResponse).
//
// Return convention: a non-OK Result means nothing was sent because an argument was refused
// locally — always permanent: "ags.invalid_score" / "ags.invalid_line_item" / "ags.invalid_url"
// (kInvalidArgument), "service.host_not_allowed" (kPermissionDenied). Otherwise the reply's
// classification says what happened (transport and token failures included), and `value` is set
// exactly when ok().
//
// Thread-safe (state lives in ServiceTokenClient).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/client.h"
#include "lti/ags_outcome.h"
#include "lti/registration.h"
#include "lti/service_token.h"

namespace gb::lti {

inline constexpr char kMediaTypeLineItem[] = "application/vnd.ims.lis.v2.lineitem+json";
inline constexpr char kMediaTypeLineItemContainer[] = "application/vnd.ims.lis.v2.lineitemcontainer+json";
inline constexpr char kMediaTypeScore[] = "application/vnd.ims.lis.v1.score+json";
inline constexpr char kMediaTypeResultContainer[] = "application/vnd.ims.lis.v2.resultcontainer+json";

struct LineItem {
  std::string id;  // the line item's URL; set by the platform
  double score_maximum = 0;  // > 0 on create and update
  std::string label;         // not blank on create and update
  std::string resource_id;       // "" when unset
  std::string resource_link_id;  // "" when unset
  std::string tag;               // "" when unset
  std::optional<TimePoint> start_date_time;
  std::optional<TimePoint> end_date_time;
  // Members this struct does not model (gradesReleased, submissionReview, platform extensions
  // such as https://canvas.instructure.com/lti/submission_type, or an unparsable date), as a JSON
  // object text; sent back unchanged on update so a PUT does not clobber them. "" for none.
  std::string extra_json;
};

struct LineItemFilter {
  std::string resource_link_id;  // "" = no filter
  std::string resource_id;
  std::string tag;
  std::optional<int> limit;      // page size hint
};

enum class ActivityProgress { kInitialized, kStarted, kInProgress, kSubmitted, kCompleted };
enum class GradingProgress { kFullyGraded, kPending, kPendingManual, kFailed, kNotReady };
std::string_view ActivityProgressName(ActivityProgress p);  // "Initialized", ...
std::string_view GradingProgressName(GradingProgress p);    // "FullyGraded", ...

struct Score {
  std::string user_id;                 // LTI user id (launch `sub`); required
  std::optional<double> score_given;   // ≥ 0; absent = no score (clears it on the platform)
  std::optional<double> score_maximum; // > 0; required whenever score_given is present
  std::optional<std::string> comment;  // absent = clears a previous tool comment
  ActivityProgress activity_progress = ActivityProgress::kCompleted;
  GradingProgress grading_progress = GradingProgress::kFullyGraded;
  TimePoint timestamp{};               // when the score changed in the tool (DESIGN §7: fixed at acceptance)
  // Extension members (fully-qualified URL keys, e.g. "https://canvas.instructure.com/lti/submission")
  // as a JSON object text merged into the body; "" for none. Must not repeat a standard field.
  std::string extensions_json;
};

// Validates a score (user_id, finite non-negative scoreGiven, scoreMaximum > 0 and present with
// scoreGiven, extensions an object with URL keys). "ags.invalid_score", kInvalidArgument.
Status ValidateScore(const Score& score);
// The AGS JSON body: userId, scoreGiven, scoreMaximum, comment, activityProgress,
// gradingProgress, timestamp ("YYYY-MM-DDTHH:MM:SS.mmmZ"); absent optionals are omitted.
std::string ScoreToJson(const Score& score);
// The line item JSON body for POST/PUT (id included when set).
std::string LineItemToJson(const LineItem& item);

struct AgsResult {
  std::string id;
  std::string score_of;
  std::string user_id;
  std::optional<double> result_score;
  double result_maximum = 1;  // AGS default when absent
  std::string scoring_user_id;
  std::optional<std::string> comment;
};

struct ResultFilter {
  std::string user_id;      // "" = every user
  std::optional<int> limit;
};

template <typename T>
struct AgsReply : ServiceOutcome {
  std::optional<T> value;  // set iff ok()
  int pages = 0;           // pages fetched (container calls)
};

struct ScorePostOutcome : ServiceOutcome {
  std::string result_url;  // Canvas answers {"resultUrl": ...}; "" otherwise
};

struct AgsClientOptions {
  int max_pages = 100;  // container paging bound
  http::RequestOptions request{std::chrono::milliseconds(5'000), std::chrono::milliseconds(30'000),
                               8 * 1024 * 1024};
};

class AgsClient {
 public:
  AgsClient(http::HttpClient& http, ServiceTokenClient& tokens, AgsClientOptions options = {});

  // GET {lineitems}?filters, following Link rel="next" (verbatim, host-checked) up to max_pages.
  Result<AgsReply<std::vector<LineItem>>> ListLineItems(const Registration& registration,
                                                        std::string_view lineitems_url,
                                                        const LineItemFilter& filter = {});
  Result<AgsReply<LineItem>> GetLineItem(const Registration& registration, std::string_view lineitem_url);
  // POST {lineitems}; the reply holds the created item (with its id).
  Result<AgsReply<LineItem>> CreateLineItem(const Registration& registration, std::string_view lineitems_url,
                                            const LineItem& item);
  // PUT {item.id} with the complete definition (GET it first to keep fields you do not change).
  Result<AgsReply<LineItem>> UpdateLineItem(const Registration& registration, const LineItem& item);
  Result<ServiceOutcome> DeleteLineItem(const Registration& registration, std::string_view lineitem_url);
  // POST {lineitem}/scores (inserted before any query: Moodle's "…/lineitem/scores?type_id=1").
  Result<ScorePostOutcome> PostScore(const Registration& registration, std::string_view lineitem_url,
                                     const Score& score);
  // GET {lineitem}/results[?user_id=…&limit=…], following Link rel="next".
  Result<AgsReply<std::vector<AgsResult>>> GetResults(const Registration& registration,
                                                      std::string_view lineitem_url,
                                                      const ResultFilter& filter = {});

 private:
  ServiceOutcome Send(const Registration& registration, AgsOperation op,
                      const std::vector<std::vector<std::string>>& scope_choices, http::Request request,
                      bool& refresh_available);
  Result<AccessToken> Token(const Registration& registration,
                            const std::vector<std::vector<std::string>>& scope_choices,
                            ServiceResponse* failure_response);
  template <typename T, typename Parse>
  Result<AgsReply<std::vector<T>>> Collect(const Registration& registration, AgsOperation op,
                                           const std::vector<std::vector<std::string>>& scope_choices,
                                           std::string first_url, const char* accept, Parse parse);

  http::HttpClient& http_;
  ServiceTokenClient& tokens_;
  AgsClientOptions options_;
};

}  // namespace gb::lti
