// Small HTML helpers for the simulator and the scripted browser: building auto-submitting forms
// (every value HTML-escaped) and parsing them back the way a browser would.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/strings.h"

namespace gb::sim {

// A <form> as a browser sees it: action (raw, HTML-unescaped, possibly relative), method
// (lowercased; "get" when absent) and the named <input> fields in document order.
struct HtmlForm {
  std::string action;
  std::string method = "get";
  FormFields fields;
};

// Decodes the character references our pages and gradebridge emit: &amp; &lt; &gt; &quot;
// &apos; &#NN; &#xHH; (others are left as they are).
std::string HtmlUnescape(std::string_view text);

// Parses the first <form> of `html`. Tolerant of attribute order, single, double or no quotes,
// upper-case tag/attribute names, self-closing inputs and whitespace. Inputs without a name and
// submit/button/reset/image/file inputs are skipped; unchecked checkboxes and radios too.
// nullopt when there is no <form>.
std::optional<HtmlForm> ParseHtmlForm(std::string_view html);

// A complete page whose <form> submits itself on load (with a <noscript> button as fallback).
// `method` is "post" or "get". Every attribute value is HTML-escaped.
std::string AutoSubmitPage(std::string_view title, std::string_view action, std::string_view method,
                           const FormFields& fields);

// A plain page with an escaped title and a body given as already-safe HTML.
std::string SimplePage(std::string_view title, std::string_view body_html);

}  // namespace gb::sim
