#include <iostream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/admin.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/tool_app.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "lti/key_ring.h"
#include "app/sim_command.h"

namespace gb::app {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << " [" << s.reason() << "]\n";
  bool bad_input = s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound ||
                   s.code() == Code::kConflict || s.code() == Code::kUnsupported;
  return bad_input ? kExitBadInput : kExitFailure;
}

// Settings shared by every command that touches the database.
struct CommonOptions {
  std::optional<std::string> config_file;
  std::map<std::string, std::string> flags;
  bool json = false;

  void AddTo(CLI::App* cmd, bool with_server_keys) {
    cmd->add_option("--config", config_file, "TOML configuration file");
    for (const auto& key : ConfigKeys()) {
      bool admin_key = key == "database" || key == "data_key_file" || key == "dev_mode" || key == "log_format" ||
                       key == "log_level" || key == "key_overlap_hours";
      if (!with_server_keys && !admin_key) continue;
      std::string dashed = key;
      for (auto& c : dashed) {
        if (c == '_') c = '-';
      }
      std::string names = "--" + dashed + (dashed != key ? ",--" + key : "");
      cmd->add_option_function<std::string>(
          names, [this, key](const std::string& v) { flags[key] = v; },
          "setting '" + key + "' (env GRADEBRIDGE_" + key + ")");
    }
    cmd->add_flag("--json", json, "machine-readable JSON output");
  }

  Result<Config> Load() const {
    auto config = LoadConfig(config_file, ConfigFromEnvironment(), flags);
    if (config.ok()) {
      SetLogFormat(config->log_format == "json" ? LogFormat::kJson : LogFormat::kText);
      LogLevel level = LogLevel::kInfo;
      ParseLogLevel(config->log_level, level);
      SetLogLevel(level);
    }
    return config;
  }
};

Result<std::unique_ptr<SqliteStore>> OpenStore(const Config& config) {
  GB_ASSIGN_OR_RETURN(std::string path, config.SqlitePath());
  return SqliteStore::Open(path);
}

json RegistrationJson(const lti::Registration& r) {
  return {{"id", r.id.str()},
          {"tenant_id", r.tenant_id.str()},
          {"issuer", r.issuer},
          {"client_id", r.client_id},
          {"deployment_ids", r.deployment_ids},
          {"auth_url", r.auth_url},
          {"token_url", r.token_url},
          {"jwks_url", r.jwks_url},
          {"token_audience", r.EffectiveTokenAudience()},
          {"family", std::string(lti::FamilyName(r.family))},
          {"target_url", r.target_url},
          {"created_at", r.created_at}};
}

void PrintRegistration(const lti::Registration& r, bool as_json) {
  if (as_json) {
    std::cout << RegistrationJson(r).dump(2) << "\n";
    return;
  }
  std::cout << "registration " << r.id.str() << "\n"
            << "  tenant:          " << r.tenant_id.str() << "\n"
            << "  family:          " << lti::FamilyName(r.family) << "\n"
            << "  issuer:          " << r.issuer << "\n"
            << "  client_id:       " << r.client_id << "\n";
  for (const auto& d : r.deployment_ids) std::cout << "  deployment_id:   " << d << "\n";
  std::cout << "  auth_url:        " << r.auth_url << "\n"
            << "  token_url:       " << r.token_url << "\n"
            << "  token audience:  " << r.EffectiveTokenAudience() << "\n"
            << "  jwks_url:        " << r.jwks_url << "\n"
            << "  target_url:      " << (r.target_url.empty() ? "(built-in landing page)" : r.target_url) << "\n";
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"gradebridge — LTI 1.3 grade sync between learning tools and LMSs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gradebridge 0.1.0");

  // serve
  CommonOptions serve_opts;
  auto* serve = app.add_subcommand("serve", "Run the server");
  serve_opts.AddTo(serve, true);

  // tenant
  auto* tenant = app.add_subcommand("tenant", "Manage tenants (institutions or customers)");
  tenant->require_subcommand(1);
  CommonOptions tenant_opts;
  std::string tenant_name;
  auto* tenant_add = tenant->add_subcommand("add", "Create a tenant and print its API key once");
  tenant_add->add_option("name", tenant_name, "tenant name")->required();
  tenant_opts.AddTo(tenant_add, false);
  auto* tenant_list = tenant->add_subcommand("list", "List tenants");
  tenant_opts.AddTo(tenant_list, false);

  // registration
  auto* reg = app.add_subcommand("registration", "Manage platform registrations");
  reg->require_subcommand(1);
  CommonOptions reg_opts;
  RegistrationInput reg_in;
  auto* reg_add = reg->add_subcommand("add", "Register a platform (issuer + client_id)");
  reg_add->add_option("--tenant", reg_in.tenant, "tenant name")->required();
  reg_add->add_option("--issuer", reg_in.issuer, "platform issuer (iss)")->required();
  reg_add->add_option("--client-id", reg_in.client_id, "the tool's client_id at the platform")->required();
  reg_add->add_option("--deployment-id", reg_in.deployment_ids, "deployment id (repeatable)")->required();
  reg_add->add_option("--auth-url", reg_in.auth_url, "platform OIDC authorization endpoint")->required();
  reg_add->add_option("--token-url", reg_in.token_url, "platform OAuth2 token endpoint")->required();
  reg_add->add_option("--jwks-url", reg_in.jwks_url, "platform JWKS URL")->required();
  reg_add->add_option("--family", reg_in.family, "canvas|moodle|brightspace|blackboard|sakai|generic");
  reg_add->add_option("--target-url", reg_in.target_url, "where launches are handed to the tool");
  reg_add->add_option("--token-audience", reg_in.token_audience, "client assertion aud (default: family rule)");
  reg_opts.AddTo(reg_add, false);
  auto* reg_list = reg->add_subcommand("list", "List registrations");
  std::string reg_list_tenant;
  reg_list->add_option("--tenant", reg_list_tenant, "only this tenant's");
  reg_opts.AddTo(reg_list, false);
  std::string reg_id;
  auto* reg_show = reg->add_subcommand("show", "Show one registration");
  reg_show->add_option("id", reg_id)->required();
  reg_opts.AddTo(reg_show, false);
  auto* reg_remove = reg->add_subcommand("remove", "Remove a registration");
  reg_remove->add_option("id", reg_id)->required();
  reg_opts.AddTo(reg_remove, false);

  // keys
  auto* keys = app.add_subcommand("keys", "The tool's signing keys");
  keys->require_subcommand(1);
  CommonOptions key_opts;
  auto* keys_list = keys->add_subcommand("list", "List signing keys");
  key_opts.AddTo(keys_list, false);
  auto* keys_rotate = keys->add_subcommand("rotate", "Make a new signing key; the old one stays published for key_overlap_hours");
  key_opts.AddTo(keys_rotate, false);

  // sim
  auto* sim = app.add_subcommand("sim", "Run the platform simulator (a local LMS)");
  sim->allow_extras();
  sim->prefix_command();

  // demo
  CommonOptions demo_opts;
  auto* demo = app.add_subcommand("demo", "Run server + simulator and a full launch loop");
  bool demo_keep = false;
  demo->add_flag("--keep-running", demo_keep, "keep both servers up after the demo");
  demo_opts.AddTo(demo, false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see --help)\n";
    return kExitBadInput;
  }

  if (sim->parsed()) {
    std::vector<std::string> rest = sim->remaining();
    return RunSimCommand(rest);
  }

  auto with_config = [](CommonOptions& o, auto fn) -> int {
    auto config = o.Load();
    if (!config.ok()) return Fail(config.status());
    return fn(*config);
  };

  if (serve->parsed()) {
    return with_config(serve_opts, [](const Config& c) {
      auto tool = ToolApp::Create(c, /*handle_signals=*/true);
      if (!tool.ok()) return Fail(tool.status());
      Status s = (*tool)->RunUntilSignalled();
      return s.ok() ? kExitOk : Fail(s);
    });
  }
  if (demo->parsed()) {
    return with_config(demo_opts, [&](const Config& c) { return RunDemo(c, demo_keep); });
  }
  if (tenant_add->parsed()) {
    return with_config(tenant_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto t = AddTenant(**store, tenant_name);
      if (!t.ok()) return Fail(t.status());
      if (tenant_opts.json) {
        std::cout << json{{"id", t->tenant.id.str()}, {"name", t->tenant.name}, {"api_key", t->api_key}}.dump(2) << "\n";
      } else {
        std::cout << "tenant " << t->tenant.name << " (" << t->tenant.id.str() << ") created\n"
                  << "API key (shown once, store it now): " << t->api_key << "\n";
      }
      return kExitOk;
    });
  }
  if (tenant_list->parsed()) {
    return with_config(tenant_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto list = (*store)->ListTenants();
      if (!list.ok()) return Fail(list.status());
      json out = json::array();
      for (const auto& t : *list) {
        out.push_back({{"id", t.id.str()}, {"name", t.name}, {"created_at", t.created_at}});
        if (!tenant_opts.json) std::cout << t.id.str() << "  " << t.name << "\n";
      }
      if (tenant_opts.json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    });
  }
  if (reg_add->parsed()) {
    return with_config(reg_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto r = AddRegistration(**store, reg_in, c.dev_mode);
      if (!r.ok()) return Fail(r.status());
      PrintRegistration(*r, reg_opts.json);
      return kExitOk;
    });
  }
  if (reg_list->parsed()) {
    return with_config(reg_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      std::optional<lti::TenantId> filter;
      if (!reg_list_tenant.empty()) {
        auto t = (*store)->FindTenantByName(reg_list_tenant);
        if (!t.ok()) return Fail(t.status());
        filter = t->id;
      }
      auto list = (*store)->ListRegistrations(filter);
      if (!list.ok()) return Fail(list.status());
      json out = json::array();
      for (const auto& r : *list) {
        out.push_back(RegistrationJson(r));
        if (!reg_opts.json) {
          std::cout << r.id.str() << "  " << lti::FamilyName(r.family) << "  " << r.issuer << "  client_id=" << r.client_id
                    << "\n";
        }
      }
      if (reg_opts.json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    });
  }
  if (reg_show->parsed() || reg_remove->parsed()) {
    bool remove = reg_remove->parsed();
    return with_config(reg_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto r = (*store)->GetRegistration(lti::RegistrationId(reg_id));
      if (!r.ok()) return Fail(r.status());
      if (!remove) {
        PrintRegistration(*r, reg_opts.json);
        return kExitOk;
      }
      Status s = (*store)->RemoveRegistration(r->id);
      if (!s.ok()) return Fail(s);
      std::cout << (reg_opts.json ? json{{"removed", reg_id}}.dump() : "removed " + reg_id) << "\n";
      return kExitOk;
    });
  }
  if (keys_list->parsed() || keys_rotate->parsed()) {
    bool rotate = keys_rotate->parsed();
    return with_config(key_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto data_key = LoadOrCreateDataKey(c.EffectiveDataKeyFile());
      if (!data_key.ok()) return Fail(data_key.status());
      lti::KeyRing ring(**store, *data_key, SystemClock::Instance(), SecureRandom::Instance());
      Status loaded = ring.Load();
      if (!loaded.ok()) return Fail(loaded);
      if (rotate) {
        auto kid = ring.Rotate(std::chrono::hours(c.key_overlap_hours));
        if (!kid.ok()) return Fail(kid.status());
        if (!key_opts.json) std::cout << "new signing key " << *kid << "; previous key published for "
                                      << c.key_overlap_hours << " more hours\n";
      }
      auto list = ring.List();
      if (!list.ok()) return Fail(list.status());
      json out = json::array();
      for (const auto& k : *list) {
        std::string state = k.retired_at == 0 ? "active" : "retired";
        out.push_back({{"kid", k.kid}, {"state", state}, {"created_at", k.created_at}, {"retired_at", k.retired_at},
                       {"publish_until", k.publish_until}});
        if (!key_opts.json) std::cout << k.kid << "  " << state << "\n";
      }
      if (key_opts.json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    });
  }
  return kExitBadInput;
}

}  // namespace gb::app
