#include "sim/html.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace gb::sim {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Tag {
  std::string name;  // lowercased
  bool closing = false;
  std::vector<std::pair<std::string, std::string>> attrs;  // names lowercased, values unescaped

  const std::string* Attr(std::string_view n) const {
    for (const auto& [k, v] : attrs) {
      if (k == n) return &v;
    }
    return nullptr;
  }
};

// A forgiving HTML tag scanner: enough of the tokenizer for the pages platforms and tools emit.
class TagScanner {
 public:
  explicit TagScanner(std::string_view html) : s_(html) {}

  // Next tag, or nullopt at the end. Comments and the contents of raw-text elements are skipped;
  // the text of a <textarea> is available via last_text().
  std::optional<Tag> Next() {
    while (pos_ < s_.size()) {
      size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) {
        pos_ = s_.size();
        return std::nullopt;
      }
      pos_ = lt + 1;
      if (s_.substr(lt, 4) == "<!--") {
        size_t end = s_.find("-->", lt + 4);
        pos_ = end == std::string_view::npos ? s_.size() : end + 3;
        continue;
      }
      if (pos_ < s_.size() && (s_[pos_] == '!' || s_[pos_] == '?')) {  // doctype, PI
        size_t end = s_.find('>', pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 1;
        continue;
      }
      Tag tag;
      if (pos_ < s_.size() && s_[pos_] == '/') {
        tag.closing = true;
        ++pos_;
      }
      if (pos_ >= s_.size() || !IsAlpha(s_[pos_])) continue;  // a stray '<' in text
      size_t name_start = pos_;
      while (pos_ < s_.size() && !IsSpace(s_[pos_]) && s_[pos_] != '>' && s_[pos_] != '/') ++pos_;
      tag.name = ToLower(s_.substr(name_start, pos_ - name_start));
      ParseAttributes(tag);
      last_text_.clear();
      if (!tag.closing && (tag.name == "script" || tag.name == "style" || tag.name == "textarea" ||
                           tag.name == "title")) {
        size_t end = FindCaseInsensitive("</" + tag.name, pos_);
        std::string_view text = s_.substr(pos_, (end == std::string_view::npos ? s_.size() : end) - pos_);
        if (tag.name == "textarea") last_text_ = HtmlUnescape(text);
        pos_ = end == std::string_view::npos ? s_.size() : end;
      }
      return tag;
    }
    return std::nullopt;
  }

  const std::string& last_text() const { return last_text_; }

 private:
  size_t FindCaseInsensitive(const std::string& needle, size_t from) const {
    for (size_t i = from; i + needle.size() <= s_.size(); ++i) {
      if (EqualsIgnoreCase(s_.substr(i, needle.size()), needle)) return i;
    }
    return std::string_view::npos;
  }

  void ParseAttributes(Tag& tag) {
    while (pos_ < s_.size()) {
      while (pos_ < s_.size() && (IsSpace(s_[pos_]) || s_[pos_] == '/')) ++pos_;
      if (pos_ >= s_.size()) return;
      if (s_[pos_] == '>') {
        ++pos_;
        return;
      }
      size_t name_start = pos_;
      while (pos_ < s_.size() && !IsSpace(s_[pos_]) && s_[pos_] != '=' && s_[pos_] != '>' &&
             !(s_[pos_] == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '>')) {
        ++pos_;
      }
      std::string name = ToLower(s_.substr(name_start, pos_ - name_start));
      size_t save = pos_;
      while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
      std::string value;
      if (pos_ < s_.size() && s_[pos_] == '=') {
        ++pos_;
        while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
        if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
          char quote = s_[pos_++];
          size_t end = s_.find(quote, pos_);
          if (end == std::string_view::npos) end = s_.size();
          value = HtmlUnescape(s_.substr(pos_, end - pos_));
          pos_ = end < s_.size() ? end + 1 : end;
        } else {
          size_t start = pos_;
          while (pos_ < s_.size() && !IsSpace(s_[pos_]) && s_[pos_] != '>') ++pos_;
          value = HtmlUnescape(s_.substr(start, pos_ - start));
        }
      } else {
        pos_ = save;
      }
      if (name.empty()) {
        ++pos_;  // defensive: never loop without progress
        continue;
      }
      if (!tag.Attr(name)) tag.attrs.emplace_back(std::move(name), std::move(value));
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string last_text_;
};

}  // namespace

std::string HtmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '&') {
      out += c;
      ++i;
      continue;
    }
    size_t semi = text.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += c;
      ++i;
      continue;
    }
    std::string_view ent = text.substr(i + 1, semi - i - 1);
    bool done = true;
    if (ent == "amp") {
      out += '&';
    } else if (ent == "lt") {
      out += '<';
    } else if (ent == "gt") {
      out += '>';
    } else if (ent == "quot") {
      out += '"';
    } else if (ent == "apos") {
      out += '\'';
    } else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      bool ok = !digits.empty() && digits.size() <= 8;
      for (char d : digits) {
        int v = -1;
        if (d >= '0' && d <= '9') v = d - '0';
        else if (hex && d >= 'a' && d <= 'f') v = d - 'a' + 10;
        else if (hex && d >= 'A' && d <= 'F') v = d - 'A' + 10;
        if (v < 0) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      }
      if (ok) AppendUtf8(out, cp);
      else done = false;
    } else {
      done = false;
    }
    if (done) {
      i = semi + 1;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::optional<HtmlForm> ParseHtmlForm(std::string_view html) {
  TagScanner scanner(html);
  std::optional<HtmlForm> form;
  while (auto tag = scanner.Next()) {
    if (!form) {
      if (tag->name == "form" && !tag->closing) {
        form.emplace();
        if (const auto* a = tag->Attr("action")) form->action = std::string(Trim(*a));
        if (const auto* m = tag->Attr("method")) {
          std::string method = ToLower(Trim(*m));
          form->method = method == "post" ? "post" : "get";
        }
      }
      continue;
    }
    if (tag->name == "form" && tag->closing) break;
    if (tag->closing) continue;
    if (tag->name == "input") {
      const auto* name = tag->Attr("name");
      if (!name || name->empty()) continue;
      std::string type = tag->Attr("type") ? ToLower(Trim(*tag->Attr("type"))) : "text";
      if (type == "submit" || type == "button" || type == "reset" || type == "image" ||
          type == "file") {
        continue;
      }
      const auto* value = tag->Attr("value");
      if (type == "checkbox" || type == "radio") {
        if (!tag->Attr("checked")) continue;
        form->fields.emplace_back(*name, value ? *value : "on");
        continue;
      }
      form->fields.emplace_back(*name, value ? *value : "");
    } else if (tag->name == "textarea") {
      const auto* name = tag->Attr("name");
      if (name && !name->empty()) form->fields.emplace_back(*name, scanner.last_text());
    }
  }
  return form;
}

std::string AutoSubmitPage(std::string_view title, std::string_view action, std::string_view method,
                           const FormFields& fields) {
  std::string out;
  out.reserve(1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  out += HtmlEscape(title);
  out += "</title></head>\n<body>\n<form id=\"sim_autosubmit\" method=\"";
  out += method == "get" ? "get" : "post";
  out += "\" action=\"";
  out += HtmlEscape(action);
  out += "\">\n";
  for (const auto& [name, value] : fields) {
    out += "<input type=\"hidden\" name=\"";
    out += HtmlEscape(name);
    out += "\" value=\"";
    out += HtmlEscape(value);
    out += "\">\n";
  }
  out += "<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n";
  out += "<script>document.getElementById('sim_autosubmit').submit();</script>\n</body></html>\n";
  return out;
}

std::string SimplePage(std::string_view title, std::string_view body_html) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  out += HtmlEscape(title);
  out +=
      "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
      "code{background:#f4f4f4}</style></head>\n<body>\n<h1>";
  out += HtmlEscape(title);
  out += "</h1>\n";
  out += body_html;
  out += "\n</body></html>\n";
  return out;
}

}  // namespace gb::sim
