// Basic Outcomes POX (LTI 1.1 §6, lti-digest §8.2-8.3): building and parsing the
// imsx_POXEnvelopeRequest / imsx_POXEnvelopeResponse documents.
//
// Parsing untrusted XML: documents over kMaxPoxBytes and any document with a DOCTYPE are refused
// before pugixml sees them (so no DTD, no internal or external entity — pugixml itself never
// fetches external entities nor expands custom ones); pugixml's entity-escape and DOCTYPE parsing
// options are off; elements are matched by local name so a namespace prefix does not matter.
// Reasons (kInvalidArgument unless noted): "pox.too_large" (kPayloadTooLarge), "pox.doctype",
// "pox.malformed", "pox.unknown_operation" (kUnsupported), "pox.missing_sourcedid",
// "pox.bad_score" (not a decimal in [0.0, 1.0]).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gb::lti11 {

inline constexpr size_t kMaxPoxBytes = 64 * 1024;
inline constexpr std::string_view kPoxNamespace = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0";

enum class PoxOperation { kReplaceResult, kReadResult, kDeleteResult };
std::string_view OperationName(PoxOperation op);  // "replaceResult", ...

struct PoxRequest {
  PoxOperation operation = PoxOperation::kReplaceResult;
  std::string message_id;
  std::string sourced_id;
  std::optional<double> score;          // replaceResult: resultScore/textString in [0.0, 1.0]
  std::string language = "en";
  // Canvas extensions (platforms.md D): resultData/text or /url, submissionDetails/submittedAt.
  std::string result_data_text;
  std::string result_data_url;
  std::string submitted_at;             // ISO 8601, as given
  std::optional<double> result_total_score;  // Canvas resultTotalScore (raw points)
};

// The request document (UTF-8, one line). Escapes every text value.
std::string BuildRequest(const PoxRequest& request);
// Parses a request (what a platform's outcome service receives).
Result<PoxRequest> ParseRequest(std::string_view xml);

struct PoxResponse {
  std::string code_major;     // success | processing | failure | unsupported
  std::string severity;       // status | warning | error
  std::string code_minor;
  std::string description;
  std::string message_id;
  std::string message_ref;    // the request's message id
  std::string operation_ref;  // "replaceResult", ...
  std::optional<std::string> score_text;  // readResult: textString (empty string: no grade)
  std::string canvas_error_code;          // ext_canvas_error_code, when sent
};

std::string BuildResponse(const PoxResponse& response, PoxOperation operation);
// Parses a response (what the tool receives). "pox.malformed" also when imsx_codeMajor is missing.
Result<PoxResponse> ParseResponse(std::string_view xml);

// The 1.1 textString for a fraction: [0,1] with at most 6 decimals, '.' separator ("0.92", "1").
std::string FormatScore(double fraction);
// Parses a textString strictly: optional leading/trailing spaces, digits with one optional '.',
// no sign, no exponent; nullopt when malformed or outside [0.0, 1.0].
std::optional<double> ParseScore(std::string_view text);

}  // namespace gb::lti11
