#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/admin.h"
#include "app/lti11_keys.h"
#include "app/score_api.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/roster_command.h"
#include "app/tool_app.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "base/time_util.h"
#include "lti/key_ring.h"
#include "app/sim_command.h"
#include "base/strings.h"

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

constexpr const char kServiceHostHelp[] =
    "extra host AGS/NRPS URLs may be on, as host or host:port (repeatable); Canvas Cloud needs the "
    "institution's host, e.g. school.instructure.com";
constexpr const char kFinalGradesOnlyHelp[] =
    "pass back only FullyGraded scores (others are kept, not sent)";
constexpr const char kSendCommentsHelp[] = "send score comments to the platform (off: comments never leave)";
constexpr const char kAllowExtraCreditHelp[] = "accept score_given above score_maximum";

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
          {"service_hosts", r.service_hosts},
          {"allowed_hosts", r.AllowedHosts()},
          {"final_grades_only", r.final_grades_only},
          {"send_comments", r.send_comments},
          {"allow_extra_credit", r.allow_extra_credit},
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
  for (const auto& h : r.service_hosts) std::cout << "  service_host:    " << h << "\n";
  std::string allowed;
  for (const auto& h : r.AllowedHosts()) allowed += (allowed.empty() ? "" : ", ") + h;
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  std::cout << "  allowed hosts:   " << allowed << "\n"
            << "  final grades only:  " << yes_no(r.final_grades_only) << "\n"
            << "  send comments:      " << yes_no(r.send_comments) << "\n"
            << "  allow extra credit: " << yes_no(r.allow_extra_credit) << "\n";
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
  // One value per occurrence, so a repeated option never swallows a positional argument.
  reg_add->add_option("--service-host", reg_in.service_hosts, kServiceHostHelp)->allow_extra_args(false);
  reg_add->add_flag("--final-grades-only", reg_in.final_grades_only, kFinalGradesOnlyHelp);
  reg_add->add_flag("--send-comments", reg_in.send_comments, kSendCommentsHelp);
  reg_add->add_flag("--allow-extra-credit", reg_in.allow_extra_credit, kAllowExtraCreditHelp);
  reg_opts.AddTo(reg_add, false);
  auto* reg_list = reg->add_subcommand("list", "List registrations");
  std::string reg_list_tenant;
  reg_list->add_option("--tenant", reg_list_tenant, "only this tenant's");
  reg_opts.AddTo(reg_list, false);
  std::string reg_id;
  auto* reg_show = reg->add_subcommand("show", "Show one registration");
  reg_show->add_option("id", reg_id)->required();
  reg_opts.AddTo(reg_show, false);
  RegistrationChanges reg_changes;
  std::vector<std::string> reg_update_hosts;
  auto* reg_update = reg->add_subcommand("update", "Change a registration's service hosts, target, token audience or "
                                                   "passback policy; what is not given stays as it is");
  reg_update->add_option("id", reg_id)->required();
  auto* update_hosts = reg_update->add_option("--service-host", reg_update_hosts,
                                              std::string(kServiceHostHelp) + "; replaces the list")
                           ->allow_extra_args(false);
  reg_update->add_option("--add-service-host", reg_changes.add_service_hosts, "add a service host (repeatable)")
      ->allow_extra_args(false)
      ->excludes(update_hosts);
  reg_update->add_option("--remove-service-host", reg_changes.remove_service_hosts, "remove a service host (repeatable)")
      ->allow_extra_args(false)
      ->excludes(update_hosts);
  reg_update->add_option("--add-deployment-id", reg_changes.add_deployment_ids,
                         "add a deployment id (repeatable; e.g. another institution on Blackboard)")
      ->allow_extra_args(false);
  reg_update->add_option("--remove-deployment-id", reg_changes.remove_deployment_ids,
                         "remove a deployment id (repeatable); launches from it are refused at once")
      ->allow_extra_args(false);
  reg_update->add_option_function<std::string>(
      "--target-url", [&](const std::string& v) { reg_changes.target_url = v; },
      "where launches are handed to the tool (\"\" = built-in landing page)");
  reg_update->add_option_function<std::string>(
      "--token-audience", [&](const std::string& v) { reg_changes.token_audience = v; },
      "client assertion aud (\"\" = family rule)");
  // Each policy flag has an explicit "off" form; giving both is a usage error.
  auto policy_flag = [&](const std::string& name, std::optional<bool>& target, const std::string& help) {
    auto* on = reg_update->add_flag_function("--" + name, [&target](int64_t) { target = true; }, help);
    auto* off = reg_update->add_flag_function("--no-" + name, [&target](int64_t) { target = false; },
                                              "turn --" + name + " off");
    on->excludes(off);
  };
  policy_flag("final-grades-only", reg_changes.final_grades_only, kFinalGradesOnlyHelp);
  policy_flag("send-comments", reg_changes.send_comments, kSendCommentsHelp);
  policy_flag("allow-extra-credit", reg_changes.allow_extra_credit, kAllowExtraCreditHelp);
  reg_opts.AddTo(reg_update, false);
  auto* reg_remove = reg->add_subcommand("remove", "Remove a registration");
  reg_remove->add_option("id", reg_id)->required();
  reg_opts.AddTo(reg_remove, false);

  // passback-key
  auto* pbk = app.add_subcommand("passback-key", "Keys for POST /lti/grade_passback (Learnosity), usable for nothing else");
  pbk->require_subcommand(1);
  CommonOptions pbk_opts;
  std::string pbk_tenant, pbk_id;
  auto* pbk_add = pbk->add_subcommand("add", "Create a passback key pair and print its secret once");
  pbk_add->add_option("--tenant", pbk_tenant, "tenant name")->required();
  pbk_opts.AddTo(pbk_add, false);
  auto* pbk_list = pbk->add_subcommand("list", "List passback keys (never their secrets)");
  pbk_list->add_option("--tenant", pbk_tenant, "only this tenant's");
  pbk_opts.AddTo(pbk_list, false);
  auto* pbk_remove = pbk->add_subcommand("remove", "Remove a passback key; it stops working at once");
  pbk_remove->add_option("key", pbk_id, "the key (gbpk_…)")->required();
  pbk_opts.AddTo(pbk_remove, false);

  // lti11-key
  auto* l11 = app.add_subcommand("lti11-key", "LTI 1.1 consumer keys and secrets (1.1 launches and Basic Outcomes)");
  l11->require_subcommand(1);
  CommonOptions l11_opts;
  Lti11KeyInput l11_in;
  std::string l11_key;
  auto* l11_add = l11->add_subcommand("add", "Create an LTI 1.1 consumer key and print its secret once");
  l11_add->add_option("--tenant", l11_in.tenant, "tenant name")->required();
  l11_add->add_option("--consumer-key", l11_in.consumer_key, "the key to use (default: generated gb11_…)");
  l11_add->add_option("--registration", l11_in.registration_id,
                      "attach to this existing registration (a platform that also has LTI 1.3)");
  l11_add->add_option("--outcome-host", l11_in.outcome_hosts,
                      "host of the platform's lis_outcome_service_url (repeatable; needed without --registration)")
      ->allow_extra_args(false);
  std::string l11_secret_file;
  l11_add->add_option("--secret-file", l11_secret_file,
                      "read an existing secret from this file (first line) instead of generating one");
  l11_add->add_option("--target-url", l11_in.target_url, "where launches hand off (without --registration)");
  l11_add->add_option("--family", l11_in.family, "canvas|moodle|brightspace|blackboard|sakai|generic");
  l11_add->add_flag("--send-comments", l11_in.send_comments, "send score comments (Canvas resultData/text)");
  l11_opts.AddTo(l11_add, false);
  auto* l11_list = l11->add_subcommand("list", "List LTI 1.1 consumer keys (never their secrets)");
  l11_list->add_option("--tenant", l11_in.tenant, "only this tenant's");
  l11_opts.AddTo(l11_list, false);
  auto* l11_remove = l11->add_subcommand("remove", "Remove a consumer key; its launches and outcome calls stop at once");
  l11_remove->add_option("key", l11_key, "the consumer key")->required();
  l11_opts.AddTo(l11_remove, false);

  // keys
  auto* keys = app.add_subcommand("keys", "The tool's signing keys");
  keys->require_subcommand(1);
  CommonOptions key_opts;
  auto* keys_list = keys->add_subcommand("list", "List signing keys");
  key_opts.AddTo(keys_list, false);
  auto* keys_rotate = keys->add_subcommand("rotate", "Make a new signing key; the old one stays published for key_overlap_hours");
  key_opts.AddTo(keys_rotate, false);

  // queue
  auto* queue = app.add_subcommand("queue", "The durable score queue");
  queue->require_subcommand(1);
  CommonOptions queue_opts;
  auto* queue_status = queue->add_subcommand("status", "Counts by state and platform host, oldest due");
  queue_opts.AddTo(queue_status, false);
  std::string queue_state;
  int queue_limit = 50;
  auto* queue_list = queue->add_subcommand("list", "List scores, newest first");
  queue_list->add_option("--state", queue_state, "queued|delivering|delivered|superseded|failed");
  queue_list->add_option("--limit", queue_limit, "at most this many");
  queue_opts.AddTo(queue_list, false);
  std::string retry_id;
  bool retry_all = false;
  auto* queue_retry = queue->add_subcommand("retry", "Requeue a failed score (or all failed scores)");
  queue_retry->add_option("id", retry_id, "score id");
  queue_retry->add_flag("--all-failed", retry_all, "requeue every failed score");
  queue_opts.AddTo(queue_retry, false);
  std::string purge_before;
  auto* queue_purge = queue->add_subcommand("purge", "Delete delivered and superseded scores last changed before a date");
  queue_purge->add_option("--delivered-before", purge_before, "ISO 8601 date-time, e.g. 2026-09-01T00:00:00Z")->required();
  queue_opts.AddTo(queue_purge, false);

  // audit
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit trail");
  audit->require_subcommand(1);
  CommonOptions audit_opts;
  auto* audit_verify = audit->add_subcommand("verify", "Recompute the hash chain; exit 1 if anything was altered");
  audit_opts.AddTo(audit_verify, false);
  std::string audit_format = "jsonl";
  auto* audit_export = audit->add_subcommand("export", "Print the audit trail");
  audit_export->add_option("--format", audit_format, "jsonl|csv");
  audit_opts.AddTo(audit_export, false);

  // roster
  auto* roster = app.add_subcommand("roster", "Course rosters (Names and Role Provisioning member cache)");
  roster->require_subcommand(1);
  CommonOptions roster_opts;
  RosterSyncArgs sync_args;
  auto* roster_sync = roster->add_subcommand("sync", "Read a context's roster from the platform into the cache");
  roster_sync->add_option("--registration", sync_args.registration_id, "registration id")->required();
  roster_sync->add_option("--context", sync_args.context_id, "LTI context id")->required();
  roster_sync->add_option("--url", sync_args.url,
                          "context_memberships_url (default: the last synced one, else the newest launch's)");
  roster_sync->add_flag("--full", sync_args.full, "read the whole roster even when a differences link is stored");
  roster_opts.AddTo(roster_sync, false);
  RosterListArgs list_args;
  auto* roster_list = roster->add_subcommand("list", "Show a context's cached members");
  roster_list->add_option("--registration", list_args.registration_id, "registration id")->required();
  roster_list->add_option("--context", list_args.context_id, "LTI context id")->required();
  roster_list->add_option("--status", list_args.status, "Active|Inactive|Deleted|all (default: Active and Inactive)");
  roster_list->add_option("--role", list_args.role, "a role URI or short name, e.g. Learner");
  roster_opts.AddTo(roster_list, false);

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
  if (reg_update->parsed()) {
    if (update_hosts->count() > 0) reg_changes.service_hosts = reg_update_hosts;
    return with_config(reg_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      auto r = UpdateRegistration(**store, lti::RegistrationId(reg_id), reg_changes, c.dev_mode);
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
  if (pbk_add->parsed() || pbk_list->parsed() || pbk_remove->parsed()) {
    return with_config(pbk_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      if (pbk_add->parsed()) {
        auto k = AddPassbackKey(**store, pbk_tenant);
        if (!k.ok()) return Fail(k.status());
        if (pbk_opts.json) {
          std::cout << json{{"key", k->key.id}, {"secret", k->secret}, {"tenant_id", k->key.tenant_id.str()}}.dump(2)
                    << "\n";
        } else {
          std::cout << "passback key for tenant " << pbk_tenant << " created\n"
                    << "key:    " << k->key.id << "\n"
                    << "secret (shown once, store it now): " << k->secret << "\n"
                    << "Use them as HTTP Basic credentials for POST /lti/grade_passback (Learnosity: the LTI key "
                       "pair); they work for nothing else.\n";
        }
        return kExitOk;
      }
      if (pbk_remove->parsed()) {
        Status st = (*store)->RemovePassbackKey(pbk_id);
        if (!st.ok()) return Fail(st);
        std::cout << (pbk_opts.json ? json{{"removed", pbk_id}}.dump() : "removed " + pbk_id) << "\n";
        return kExitOk;
      }
      std::optional<lti::TenantId> filter;
      if (!pbk_tenant.empty()) {
        auto t = (*store)->FindTenantByName(pbk_tenant);
        if (!t.ok()) return Fail(t.status());
        filter = t->id;
      }
      auto list = (*store)->ListPassbackKeys(filter);
      if (!list.ok()) return Fail(list.status());
      json out = json::array();
      for (const auto& k : *list) {
        std::string created = FormatIso8601Millis(TimePoint(std::chrono::seconds(k.created_at)));
        out.push_back({{"key", k.id}, {"tenant_id", k.tenant_id.str()}, {"created_at", k.created_at}});
        if (!pbk_opts.json) std::cout << k.id << "  tenant=" << k.tenant_id.str() << "  created " << created << "\n";
      }
      if (pbk_opts.json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    });
  }
  if (l11_add->parsed() || l11_list->parsed() || l11_remove->parsed()) {
    return with_config(l11_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      if (l11_add->parsed()) {
        auto data_key = LoadOrCreateDataKey(c.EffectiveDataKeyFile());
        if (!data_key.ok()) return Fail(data_key.status());
        if (!l11_secret_file.empty()) {
          std::ifstream in(l11_secret_file);
          std::string line;
          if (!in || !std::getline(in, line) || Trim(line).empty()) {
            return Fail(Error(Code::kInvalidArgument, "lti11_key.bad_secret",
                              "Cannot read a secret from " + l11_secret_file + "."));
          }
          l11_in.secret = std::string(Trim(line));
        }
        auto k = AddLti11Key(**store, *data_key, l11_in, c.dev_mode);
        if (!k.ok()) return Fail(k.status());
        if (l11_opts.json) {
          std::cout << json{{"consumer_key", k->consumer.consumer_key},
                            {"secret", l11_secret_file.empty() ? k->secret : ""},
                            {"tenant_id", k->consumer.tenant_id.str()},
                            {"registration_id", k->registration.id.str()},
                            {"created_registration", k->created_registration},
                            {"launch_path", "/lti11/launch"}}
                           .dump(2)
                    << "\n";
        } else {
          std::cout << "LTI 1.1 consumer key for tenant " << l11_in.tenant << " created\n"
                    << "consumer key: " << k->consumer.consumer_key << "\n"
                    << (l11_secret_file.empty() ? "secret (shown once, store it now): " + k->secret
                                                : std::string("secret: as read from ") + l11_secret_file)
                    << "\n"
                    << "registration: " << k->registration.id.str()
                    << (k->created_registration ? " (new, for this LTI 1.1 consumer)" : "") << "\n"
                    << "In the LMS, set the launch URL to <public_url>/lti11/launch with this key and secret.\n";
        }
        return kExitOk;
      }
      if (l11_remove->parsed()) {
        Status st = (*store)->RemoveLti11Consumer(l11_key);
        if (!st.ok()) return Fail(st);
        std::cout << (l11_opts.json ? json{{"removed", l11_key}}.dump() : "removed " + l11_key) << "\n";
        return kExitOk;
      }
      std::optional<lti::TenantId> filter;
      if (!l11_in.tenant.empty()) {
        auto t = (*store)->FindTenantByName(l11_in.tenant);
        if (!t.ok()) return Fail(t.status());
        filter = t->id;
      }
      auto list = (*store)->ListLti11Consumers(filter);
      if (!list.ok()) return Fail(list.status());
      json out = json::array();
      for (const auto& k : *list) {
        std::string created = FormatIso8601Millis(TimePoint(std::chrono::seconds(k.created_at)));
        out.push_back({{"consumer_key", k.consumer_key}, {"tenant_id", k.tenant_id.str()},
                       {"registration_id", k.registration_id.str()}, {"created_at", k.created_at}});
        if (!l11_opts.json) {
          std::cout << k.consumer_key << "  tenant=" << k.tenant_id.str() << "  registration=" << k.registration_id.str()
                    << "  created " << created << "\n";
        }
      }
      if (l11_opts.json) std::cout << out.dump(2) << "\n";
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
  if (queue_status->parsed() || queue_list->parsed() || queue_retry->parsed() || queue_purge->parsed()) {
    return with_config(queue_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      const int64_t now_ms = SystemClock::Instance().NowMillis();
      if (queue_status->parsed()) {
        auto counts = (*store)->Counts();
        if (!counts.ok()) return Fail(counts.status());
        json out = {{"by_state", counts->by_state}, {"by_host", counts->by_host_and_state}};
        out["oldest_due"] = counts->oldest_due_ms
                                ? json(FormatIso8601Millis(TimePoint(std::chrono::milliseconds(counts->oldest_due_ms))))
                                : json(nullptr);
        if (queue_opts.json) {
          std::cout << out.dump(2) << "\n";
        } else {
          for (const char* st : {"queued", "delivering", "delivered", "superseded", "failed"}) {
            auto it = counts->by_state.find(st);
            std::cout << st << ": " << (it == counts->by_state.end() ? 0 : it->second) << "\n";
          }
          for (const auto& [host, states] : counts->by_host_and_state) {
            std::cout << "  " << host << ":";
            for (const auto& [st, n] : states) std::cout << " " << st << "=" << n;
            std::cout << "\n";
          }
          std::cout << "oldest due: " << (out["oldest_due"].is_null() ? "-" : out["oldest_due"].get<std::string>()) << "\n";
        }
        return kExitOk;
      }
      if (queue_list->parsed()) {
        std::optional<passback::ScoreState> state;
        if (!queue_state.empty()) {
          state = passback::ParseState(queue_state);
          if (!state) return Fail(Error(Code::kInvalidArgument, "queue.bad_state", "Unknown state " + queue_state + "."));
        }
        auto list = (*store)->ListScores(state, queue_limit);
        if (!list.ok()) return Fail(list.status());
        json out = json::array();
        for (const auto& sc : *list) {
          out.push_back(ScoreToJson(sc));
          if (!queue_opts.json) {
            std::cout << sc.id << "  " << passback::StateName(sc.state) << "  user=" << sc.user_id << "  "
                      << (sc.score_given ? std::to_string(*sc.score_given) : "-") << "/"
                      << (sc.score_maximum ? std::to_string(*sc.score_maximum) : "-") << "  attempts=" << sc.attempts
                      << (sc.diagnosis.empty() ? "" : "  " + sc.diagnosis) << "\n";
          }
        }
        if (queue_opts.json) std::cout << out.dump(2) << "\n";
        return kExitOk;
      }
      if (queue_retry->parsed()) {
        if (retry_id.empty() == !retry_all) {
          return Fail(Error(Code::kInvalidArgument, "queue.bad_retry", "Give a score id or --all-failed (not both)."));
        }
        auto n = (*store)->RetryFailed(retry_all ? std::nullopt : std::optional<std::string>(retry_id), now_ms);
        if (!n.ok()) return Fail(n.status());
        if (!retry_all && *n == 0) {
          return Fail(Error(Code::kNotFound, "queue.not_failed", "No failed score " + retry_id + "."));
        }
        std::cout << (queue_opts.json ? json{{"requeued", *n}}.dump() : "requeued " + std::to_string(*n)) << "\n";
        return kExitOk;
      }
      auto before = ParseIso8601(purge_before);
      if (!before) {
        return Fail(Error(Code::kInvalidArgument, "queue.bad_date", "--delivered-before must be ISO 8601 with a zone."));
      }
      auto n = (*store)->PurgeDelivered(std::chrono::duration_cast<std::chrono::milliseconds>(before->time_since_epoch()).count());
      if (!n.ok()) return Fail(n.status());
      std::cout << (queue_opts.json ? json{{"purged", *n}}.dump() : "purged " + std::to_string(*n)) << "\n";
      return kExitOk;
    });
  }
  if (roster_sync->parsed()) {
    return with_config(roster_opts, [&](const Config& c) {
      sync_args.json = roster_opts.json;
      return RunRosterSync(c, sync_args);
    });
  }
  if (roster_list->parsed()) {
    return with_config(roster_opts, [&](const Config& c) {
      list_args.json = roster_opts.json;
      return RunRosterList(c, list_args);
    });
  }
  if (audit_verify->parsed() || audit_export->parsed()) {
    return with_config(audit_opts, [&](const Config& c) {
      auto store = OpenStore(c);
      if (!store.ok()) return Fail(store.status());
      if (audit_export->parsed() && audit_format != "jsonl" && audit_format != "csv") {
        return Fail(Error(Code::kInvalidArgument, "audit.bad_format", "--format must be jsonl or csv."));
      }
      std::vector<passback::AuditEntry> all;
      for (int64_t after = 0;;) {
        auto page = (*store)->ReadAudit(after, 10'000);
        if (!page.ok()) return Fail(page.status());
        if (page->empty()) break;
        after = page->back().seq;
        all.insert(all.end(), page->begin(), page->end());
      }
      if (audit_verify->parsed()) {
        auto v = passback::VerifyAuditChain(all);
        if (audit_opts.json) {
          std::cout << json{{"ok", v.ok}, {"entries", v.entries}, {"first_bad_seq", v.first_bad_seq}, {"problem", v.problem}}.dump()
                    << "\n";
        } else if (v.ok) {
          std::cout << "audit trail intact: " << v.entries << " entries verified\n";
        } else {
          std::cout << "AUDIT TRAIL ALTERED: " << v.problem << "\n";
        }
        return v.ok ? kExitOk : kExitFailure;
      }
      auto csv = [](const std::string& v) {
        std::string out = "\"";
        for (char ch : v) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return out + "\"";
      };
      if (audit_format == "csv") std::cout << "seq,at,tenant_id,score_id,event,actor,detail,prev_hash,hash\n";
      for (const auto& e : all) {
        std::string at = FormatIso8601Millis(TimePoint(std::chrono::milliseconds(e.at_ms)));
        if (audit_format == "jsonl") {
          std::cout << json{{"seq", e.seq}, {"at", at}, {"tenant_id", e.tenant_id}, {"score_id", e.score_id},
                            {"event", e.event}, {"actor", e.actor}, {"detail", json::parse(e.detail, nullptr, false)},
                            {"prev_hash", e.prev_hash}, {"hash", e.hash}}
                           .dump()
                    << "\n";
        } else {
          std::cout << e.seq << "," << at << "," << csv(e.tenant_id) << "," << csv(e.score_id) << "," << csv(e.event)
                    << "," << csv(e.actor) << "," << csv(e.detail) << "," << e.prev_hash << "," << e.hash << "\n";
        }
      }
      return kExitOk;
    });
  }
  return kExitBadInput;
}

}  // namespace gb::app
