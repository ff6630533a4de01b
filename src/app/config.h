// Config: every setting of `gradebridge serve` (and of the admin commands, which share the
// database and data key). Sources, lowest to highest precedence: built-in defaults, the TOML file
// (--config), GRADEBRIDGE_<KEY> environment variables, command-line flags (--key or --key-name).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace gb::app {

struct Config {
  std::string listen = "127.0.0.1:8787";
  std::string public_url;  // default: http://<listen>
  std::string database = "sqlite:gradebridge.db";
  std::string data_key_file;  // default: <database file>.key
  int threads = 2;
  int handler_threads = 64;  // run handlers that wait on commits or the network (launch, scores)
  // How long logins, launches and the tool API reuse a registration (or an API key's tenant) they
  // read; a change made with the admin CLI takes effect within this time (0: read every time).
  int registration_cache_ms = 5000;
  // How the tool presents itself to platforms (/lti/canvas.json, Dynamic Registration).
  std::string tool_title = "gradebridge";
  std::string tool_description = "Grades from your learning tool, synced to the gradebook.";
  std::string canvas_privacy_level = "name_only";  // anonymous | name_only | email_only | public
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  bool access_log = true;
  bool dev_mode = false;  // allows http:// and loopback platform URLs; never the default
  int launch_leeway_seconds = 60;
  int launch_token_ttl_seconds = 120;
  int login_state_ttl_seconds = 600;
  int max_id_token_bytes = 16 * 1024;
  int key_overlap_hours = 72;
  // LTI 1.1 launches: |now - oauth_timestamp| allowed (docs/lti11.md). Canvas allows 90 min for
  // its own outcome endpoint; 5 minutes is the usual tool-side window.
  int lti11_timestamp_window_seconds = 300;
  std::string port_file;  // if set, the bound port is written there (tests, port 0)

  // Grade passback (docs/passback.md). node_id names this node's leases: it must be unique among
  // nodes sharing a database and stable across restarts (a restarted node reclaims its own
  // interrupted deliveries at once). Default: the host name.
  std::string node_id;
  int passback_workers = 64;       // concurrent deliveries; 0 = intake only, no delivery (maintenance)
  int passback_max_attempts = 6;   // 1 + 5 retries for transient failures
  int passback_lease_seconds = 120;
  std::string EffectiveNodeId() const;

  // Path of the SQLite file from `database` ("sqlite:PATH"); error for other schemes.
  Result<std::string> SqlitePath() const;
  std::string EffectivePublicUrl() const;
  std::string EffectiveDataKeyFile() const;
};

// The keys, in the spelling used by TOML and (upper-cased) by GRADEBRIDGE_<KEY>.
const std::vector<std::string>& ConfigKeys();

// Builds a Config. `flags` maps key -> value as given on the command line (already
// collected by the CLI parser). kInvalidArgument "config.invalid" names the bad key and source.
Result<Config> LoadConfig(const std::optional<std::string>& file, const std::map<std::string, std::string>& env,
                          const std::map<std::string, std::string>& flags);

// GRADEBRIDGE_* variables of this process, keyed by lower-case config key.
std::map<std::string, std::string> ConfigFromEnvironment();

}  // namespace gb::app
