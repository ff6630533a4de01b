#include "app/config.h"

#include <unistd.h>

#include <cstdlib>
#include <functional>

#include <toml.hpp>

#include "base/strings.h"

extern char** environ;

namespace gb::app {
namespace {

Status Invalid(const std::string& key, const std::string& source, const std::string& why) {
  return Error(Code::kInvalidArgument, "config.invalid",
               "Setting \"" + key + "\" from " + source + " is invalid: " + why);
}

using Setter = std::function<Status(Config&, const std::string& value, const std::string& source)>;

Setter StringSetter(std::string Config::*field) {
  return [field](Config& c, const std::string& v, const std::string&) {
    c.*field = v;
    return Status::Ok();
  };
}

Setter IntSetter(const char* key, int Config::*field, int min, int max) {
  return [=](Config& c, const std::string& v, const std::string& source) {
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < min || n > max) {
      return Invalid(key, source, "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    c.*field = static_cast<int>(n);
    return Status::Ok();
  };
}

Setter BoolSetter(const char* key, bool Config::*field) {
  return [=](Config& c, const std::string& v, const std::string& source) {
    std::string l = ToLower(v);
    if (l == "true" || l == "1" || l == "yes" || l == "on") c.*field = true;
    else if (l == "false" || l == "0" || l == "no" || l == "off") c.*field = false;
    else return Invalid(key, source, "expected true or false");
    return Status::Ok();
  };
}

Setter OneOf(const char* key, std::string Config::*field, std::vector<std::string> allowed) {
  return [=](Config& c, const std::string& v, const std::string& source) {
    for (const auto& a : allowed) {
      if (a == v) {
        c.*field = v;
        return Status::Ok();
      }
    }
    return Invalid(key, source, "unknown value \"" + v + "\"");
  };
}

const std::vector<std::pair<std::string, Setter>>& Table() {
  static const std::vector<std::pair<std::string, Setter>> table = {
      {"listen", StringSetter(&Config::listen)},
      {"public_url", StringSetter(&Config::public_url)},
      {"tool_title", StringSetter(&Config::tool_title)},
      {"tool_description", StringSetter(&Config::tool_description)},
      {"canvas_privacy_level", StringSetter(&Config::canvas_privacy_level)},
      {"database", StringSetter(&Config::database)},
      {"data_key_file", StringSetter(&Config::data_key_file)},
      {"threads", IntSetter("threads", &Config::threads, 1, 256)},
      {"handler_threads", IntSetter("handler_threads", &Config::handler_threads, 0, 1024)},
      {"registration_cache_ms", IntSetter("registration_cache_ms", &Config::registration_cache_ms, 0, 600000)},
      {"log_format", OneOf("log_format", &Config::log_format, {"text", "json"})},
      {"log_level", OneOf("log_level", &Config::log_level, {"debug", "info", "warn", "error"})},
      {"access_log", BoolSetter("access_log", &Config::access_log)},
      {"dev_mode", BoolSetter("dev_mode", &Config::dev_mode)},
      {"launch_leeway_seconds", IntSetter("launch_leeway_seconds", &Config::launch_leeway_seconds, 0, 600)},
      {"launch_token_ttl_seconds", IntSetter("launch_token_ttl_seconds", &Config::launch_token_ttl_seconds, 5, 3600)},
      {"login_state_ttl_seconds", IntSetter("login_state_ttl_seconds", &Config::login_state_ttl_seconds, 30, 3600)},
      {"max_id_token_bytes", IntSetter("max_id_token_bytes", &Config::max_id_token_bytes, 1024, 1 << 20)},
      {"key_overlap_hours", IntSetter("key_overlap_hours", &Config::key_overlap_hours, 0, 24 * 365)},
      {"lti11_timestamp_window_seconds",
       IntSetter("lti11_timestamp_window_seconds", &Config::lti11_timestamp_window_seconds, 10, 3 * 3600)},
      {"port_file", StringSetter(&Config::port_file)},
      {"node_id", StringSetter(&Config::node_id)},
      {"passback_workers", IntSetter("passback_workers", &Config::passback_workers, 0, 1024)},
      {"passback_max_attempts", IntSetter("passback_max_attempts", &Config::passback_max_attempts, 1, 100)},
      {"passback_lease_seconds", IntSetter("passback_lease_seconds", &Config::passback_lease_seconds, 10, 3600)},
  };
  return table;
}

const Setter* FindSetter(const std::string& key) {
  for (const auto& [k, s] : Table()) {
    if (k == key) return &s;
  }
  return nullptr;
}

std::string TomlValueToString(const toml::value& v) {
  if (v.is_string()) return v.as_string().str;
  if (v.is_boolean()) return v.as_boolean() ? "true" : "false";
  if (v.is_integer()) return std::to_string(v.as_integer());
  if (v.is_floating()) return std::to_string(v.as_floating());
  return toml::format(v);
}

}  // namespace

const std::vector<std::string>& ConfigKeys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& [name, setter] : Table()) k.push_back(name);
    return k;
  }();
  return keys;
}

std::string Config::EffectiveNodeId() const {
  if (!node_id.empty()) return node_id;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "node";
  return host;
}

Result<std::string> Config::SqlitePath() const {
  if (StartsWith(database, "sqlite:")) {
    std::string path = database.substr(7);
    if (path.empty()) return Invalid("database", "configuration", "empty SQLite path");
    return path;
  }
  if (StartsWith(database, "postgres://") || StartsWith(database, "postgresql://")) {
    return Error(Code::kUnsupported, "config.postgres_unavailable",
                 "PostgreSQL storage is not available in this build yet; use sqlite:PATH.");
  }
  return Invalid("database", "configuration", "expected sqlite:PATH or postgres://...");
}

std::string Config::EffectivePublicUrl() const {
  if (!public_url.empty()) {
    std::string u = public_url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }
  return "http://" + listen;
}

std::string Config::EffectiveDataKeyFile() const {
  if (!data_key_file.empty()) return data_key_file;
  auto path = SqlitePath();
  return path.ok() ? *path + ".key" : std::string("gradebridge.key");
}

std::map<std::string, std::string> ConfigFromEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (!StartsWith(kv, "GRADEBRIDGE_")) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    out[ToLower(kv.substr(12, eq - 12))] = std::string(kv.substr(eq + 1));
  }
  return out;
}

Result<Config> LoadConfig(const std::optional<std::string>& file, const std::map<std::string, std::string>& env,
                          const std::map<std::string, std::string>& flags) {
  Config c;
  if (file) {
    toml::value data;
    try {
      data = toml::parse(*file);
    } catch (const std::exception& e) {
      return Error(Code::kInvalidArgument, "config.unreadable", "Cannot read config file " + *file + ": " + e.what());
    }
    if (!data.is_table()) return Invalid("(root)", *file, "not a TOML table");
    for (const auto& [key, value] : data.as_table()) {
      const Setter* s = FindSetter(key);
      if (!s) return Invalid(key, *file, "unknown setting");
      GB_RETURN_IF_ERROR((*s)(c, TomlValueToString(value), *file));
    }
  }
  for (const auto& [key, value] : env) {
    const Setter* s = FindSetter(key);
    if (!s) continue;  // GRADEBRIDGE_* variables that are not settings (e.g. GRADEBRIDGE_API_KEY)
    GB_RETURN_IF_ERROR((*s)(c, value, "GRADEBRIDGE_" + key));
  }
  for (const auto& [key, value] : flags) {
    const Setter* s = FindSetter(key);
    if (!s) return Invalid(key, "the command line", "unknown setting");
    GB_RETURN_IF_ERROR((*s)(c, value, "--" + key));
  }
  if (c.log_format != "text" && c.log_format != "json") return Invalid("log_format", "configuration", "text or json");
  return c;
}

}  // namespace gb::app
