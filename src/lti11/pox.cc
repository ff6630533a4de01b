#include "lti11/pox.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <pugixml.hpp>

#include "base/strings.h"

namespace gb::lti11 {
namespace {

Status Invalid(std::string reason, std::string message) {
  return Error(Code::kInvalidArgument, std::move(reason), std::move(message));
}

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node node, std::string_view local) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) return c;
  }
  return {};
}

// Follows a path of local names; an empty node when any step is missing.
pugi::xml_node Path(pugi::xml_node node, std::initializer_list<std::string_view> steps) {
  for (std::string_view s : steps) {
    if (!node) return {};
    node = Child(node, s);
  }
  return node;
}

std::string Text(pugi::xml_node node) { return node ? std::string(Trim(node.text().get())) : std::string(); }

// Refuses what must never reach the parser: oversized input and any DTD.
Status Screen(std::string_view xml) {
  if (xml.size() > kMaxPoxBytes) {
    return Error(Code::kPayloadTooLarge, "pox.too_large",
                 "The XML document is over " + std::to_string(kMaxPoxBytes) + " bytes.");
  }
  // Case-insensitive search for "<!DOCTYPE" (and any other markup declaration, "<!ENTITY" etc.).
  for (size_t i = 0; i + 1 < xml.size(); ++i) {
    if (xml[i] == '<' && xml[i + 1] == '!') {
      std::string_view rest = xml.substr(i + 2);
      if (StartsWith(rest, "--") || StartsWith(rest, "[CDATA[")) continue;
      return Invalid("pox.doctype", "XML with a DOCTYPE or other declarations is refused (no DTDs, no entities).");
    }
  }
  return Status::Ok();
}

Result<pugi::xml_document*> Load(std::string_view xml, pugi::xml_document& doc, std::string_view root_name) {
  GB_RETURN_IF_ERROR(Screen(xml));
  // parse_minimal | parse_escapes: only the five predefined entities and character references.
  // No parse_doctype: pugixml would skip a DTD anyway, and Screen already refused one.
  const unsigned options = pugi::parse_minimal | pugi::parse_escapes;
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), options, pugi::encoding_utf8);
  if (!r) return Invalid("pox.malformed", std::string("The XML is not well formed: ") + r.description() + ".");
  pugi::xml_node root = doc.document_element();
  if (!root || LocalName(root.name()) != root_name) {
    return Invalid("pox.malformed", "The document is not an " + std::string(root_name) + ".");
  }
  return &doc;
}

}  // namespace

std::string_view OperationName(PoxOperation op) {
  switch (op) {
    case PoxOperation::kReplaceResult: return "replaceResult";
    case PoxOperation::kReadResult: return "readResult";
    case PoxOperation::kDeleteResult: return "deleteResult";
  }
  return "replaceResult";
}

std::string FormatScore(double fraction) {
  if (!std::isfinite(fraction) || fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  return FormatDecimal(fraction);
}

std::optional<double> ParseScore(std::string_view text) {
  text = Trim(text);
  if (text.empty() || text.size() > 32) return std::nullopt;
  int dots = 0, digits = 0;
  for (char c : text) {
    if (c == '.') ++dots;
    else if (c >= '0' && c <= '9') ++digits;
    else return std::nullopt;
  }
  if (dots > 1 || digits == 0) return std::nullopt;
  double v = std::strtod(std::string(text).c_str(), nullptr);
  if (!std::isfinite(v) || v < 0.0 || v > 1.0) return std::nullopt;
  return v;
}

std::string BuildRequest(const PoxRequest& r) {
  std::string op(OperationName(r.operation));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imsx_POXEnvelopeRequest xmlns=\"";
  out += kPoxNamespace;
  out += "\"><imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version><imsx_messageIdentifier>";
  out += Esc(r.message_id);
  out += "</imsx_messageIdentifier></imsx_POXRequestHeaderInfo></imsx_POXHeader><imsx_POXBody><" + op + "Request>";
  out += "<resultRecord><sourcedGUID><sourcedId>" + Esc(r.sourced_id) + "</sourcedId></sourcedGUID>";
  if (r.operation == PoxOperation::kReplaceResult) {
    out += "<result>";
    if (r.score) {
      out += "<resultScore><language>" + Esc(r.language) + "</language><textString>" + FormatScore(*r.score) +
             "</textString></resultScore>";
    }
    if (r.result_total_score) {
      out += "<resultTotalScore><language>en</language><textString>" + FormatDecimal(*r.result_total_score) +
             "</textString></resultTotalScore>";
    }
    if (!r.result_data_text.empty() || !r.result_data_url.empty()) {
      out += "<resultData>";
      if (!r.result_data_text.empty()) out += "<text>" + Esc(r.result_data_text) + "</text>";
      if (!r.result_data_url.empty()) out += "<url>" + Esc(r.result_data_url) + "</url>";
      out += "</resultData>";
    }
    out += "</result>";
  }
  out += "</resultRecord>";
  if (r.operation == PoxOperation::kReplaceResult && !r.submitted_at.empty()) {
    out += "<submissionDetails><submittedAt>" + Esc(r.submitted_at) + "</submittedAt></submissionDetails>";
  }
  out += "</" + op + "Request></imsx_POXBody></imsx_POXEnvelopeRequest>";
  return out;
}

Result<PoxRequest> ParseRequest(std::string_view xml) {
  pugi::xml_document doc;
  GB_RETURN_IF_ERROR(Load(xml, doc, "imsx_POXEnvelopeRequest").status());
  pugi::xml_node root = doc.document_element();
  PoxRequest r;
  r.message_id = Text(Path(root, {"imsx_POXHeader", "imsx_POXRequestHeaderInfo", "imsx_messageIdentifier"}));
  pugi::xml_node body = Child(root, "imsx_POXBody");
  if (!body) return Invalid("pox.malformed", "The request has no imsx_POXBody.");
  pugi::xml_node op_node;
  for (pugi::xml_node c = body.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) {
      op_node = c;
      break;
    }
  }
  if (!op_node) return Invalid("pox.malformed", "The request body names no operation.");
  std::string_view op = LocalName(op_node.name());
  if (op == "replaceResultRequest") r.operation = PoxOperation::kReplaceResult;
  else if (op == "readResultRequest") r.operation = PoxOperation::kReadResult;
  else if (op == "deleteResultRequest") r.operation = PoxOperation::kDeleteResult;
  else return Error(Code::kUnsupported, "pox.unknown_operation", "Unsupported operation " + std::string(op) + ".");
  pugi::xml_node record = Child(op_node, "resultRecord");
  r.sourced_id = Text(Path(record, {"sourcedGUID", "sourcedId"}));
  if (r.sourced_id.empty()) return Invalid("pox.missing_sourcedid", "The request names no sourcedId.");
  if (r.operation == PoxOperation::kReplaceResult) {
    pugi::xml_node result = Child(record, "result");
    pugi::xml_node score = Child(result, "resultScore");
    if (score) {
      std::string lang = Text(Child(score, "language"));
      if (!lang.empty()) r.language = lang;
      auto v = ParseScore(Text(Child(score, "textString")));
      if (!v) return Invalid("pox.bad_score", "resultScore/textString must be a decimal from 0.0 to 1.0.");
      r.score = v;
    }
    if (pugi::xml_node total = Child(result, "resultTotalScore")) {
      std::string t = Text(Child(total, "textString"));
      char* end = nullptr;
      double v = std::strtod(t.c_str(), &end);
      if (t.empty() || *end != '\0' || !std::isfinite(v) || v < 0) {
        return Invalid("pox.bad_score", "resultTotalScore/textString must be a non-negative number.");
      }
      r.result_total_score = v;
    }
    pugi::xml_node data = Child(result, "resultData");
    r.result_data_text = Text(Child(data, "text"));
    r.result_data_url = Text(Child(data, "url"));
    r.submitted_at = Text(Path(op_node, {"submissionDetails", "submittedAt"}));
    if (!r.score && !r.result_total_score && r.result_data_text.empty() && r.result_data_url.empty()) {
      return Invalid("pox.bad_score", "replaceResult carries no resultScore (nor Canvas resultData).");
    }
  }
  return r;
}

std::string BuildResponse(const PoxResponse& r, PoxOperation operation) {
  std::string op(OperationName(operation));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imsx_POXEnvelopeResponse xmlns=\"";
  out += kPoxNamespace;
  out += "\"><imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_version>V1.0</imsx_version><imsx_messageIdentifier>";
  out += Esc(r.message_id) + "</imsx_messageIdentifier><imsx_statusInfo><imsx_codeMajor>" + Esc(r.code_major);
  out += "</imsx_codeMajor><imsx_severity>" + Esc(r.severity.empty() ? "status" : r.severity) + "</imsx_severity>";
  out += "<imsx_description>" + Esc(r.description) + "</imsx_description>";
  out += "<imsx_messageRefIdentifier>" + Esc(r.message_ref) + "</imsx_messageRefIdentifier>";
  out += "<imsx_operationRefIdentifier>" + Esc(r.operation_ref.empty() ? op : r.operation_ref) +
         "</imsx_operationRefIdentifier>";
  if (!r.code_minor.empty()) {
    out += "<imsx_codeMinor><imsx_codeMinorField><imsx_codeMinorFieldName>TargetOutcomeValue"
           "</imsx_codeMinorFieldName><imsx_codeMinorFieldValue>" +
           Esc(r.code_minor) + "</imsx_codeMinorFieldValue></imsx_codeMinorField></imsx_codeMinor>";
  }
  out += "</imsx_statusInfo></imsx_POXResponseHeaderInfo></imsx_POXHeader><imsx_POXBody>";
  if (operation == PoxOperation::kReadResult && r.score_text) {
    out += "<readResultResponse><result><resultScore><language>en</language><textString>" + Esc(*r.score_text) +
           "</textString></resultScore></result></readResultResponse>";
  } else {
    out += "<" + op + "Response/>";
  }
  if (!r.canvas_error_code.empty()) out += "<ext_canvas_error_code>" + Esc(r.canvas_error_code) + "</ext_canvas_error_code>";
  out += "</imsx_POXBody></imsx_POXEnvelopeResponse>";
  return out;
}

Result<PoxResponse> ParseResponse(std::string_view xml) {
  pugi::xml_document doc;
  GB_RETURN_IF_ERROR(Load(xml, doc, "imsx_POXEnvelopeResponse").status());
  pugi::xml_node root = doc.document_element();
  pugi::xml_node info = Path(root, {"imsx_POXHeader", "imsx_POXResponseHeaderInfo"});
  pugi::xml_node status = Child(info, "imsx_statusInfo");
  PoxResponse r;
  r.message_id = Text(Child(info, "imsx_messageIdentifier"));
  r.code_major = Text(Child(status, "imsx_codeMajor"));
  if (r.code_major.empty()) return Invalid("pox.malformed", "The response has no imsx_codeMajor.");
  r.severity = Text(Child(status, "imsx_severity"));
  r.description = Text(Child(status, "imsx_description"));
  r.message_ref = Text(Child(status, "imsx_messageRefIdentifier"));
  r.operation_ref = Text(Child(status, "imsx_operationRefIdentifier"));
  r.code_minor = Text(Path(status, {"imsx_codeMinor", "imsx_codeMinorField", "imsx_codeMinorFieldValue"}));
  pugi::xml_node body = Child(root, "imsx_POXBody");
  if (pugi::xml_node read = Child(body, "readResultResponse")) {
    r.score_text = Text(Path(read, {"result", "resultScore", "textString"}));
  }
  // Canvas puts ext_canvas_error_code in the body or the status info depending on version.
  std::string canvas = Text(Child(body, "ext_canvas_error_code"));
  if (canvas.empty()) canvas = Text(Child(status, "ext_canvas_error_code"));
  r.canvas_error_code = canvas;
  return r;
}

}  // namespace gb::lti11
