#include "app/roster_command.h"

#include <unistd.h>

#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "app/tool_app.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/random.h"
#include "base/time_util.h"
#include "http/curl/curl_client.h"
#include "lti/key_ring.h"
#include "lti/nrps_client.h"
#include "lti/roles.h"
#include "lti/roster_sync.h"
#include "lti/service_token.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::app {
namespace {

using nlohmann::json;

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << " [" << s.reason() << "]\n";
  bool bad_input = s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound;
  return bad_input ? 2 : 1;
}

// An indeterminate bar (NRPS does not say how many pages there are) redrawn in place.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void Update(int pages, size_t members) {
    if (!enabled_) return;
    constexpr int kWidth = 20;
    std::string bar(kWidth, ' ');
    for (int i = 0; i < 4; ++i) bar[(pages + i) % kWidth] = '#';
    std::cerr << "\r  [" << bar << "] " << pages << (pages == 1 ? " page, " : " pages, ") << members
              << (members == 1 ? " member" : " members") << std::flush;
    drawn_ = true;
  }
  void Done() {
    if (drawn_) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace

int RunRosterSync(const Config& config, const RosterSyncArgs& args) {
  auto path = config.SqlitePath();
  if (!path.ok()) return Fail(path.status());
  auto store = storage::SqliteStore::Open(*path);
  if (!store.ok()) return Fail(store.status());
  auto registration = (*store)->GetRegistration(lti::RegistrationId(args.registration_id));
  if (!registration.ok()) return Fail(registration.status());
  // The server's key, never a new one: a fresh key could not unseal the stored signing keys.
  if (::access(config.EffectiveDataKeyFile().c_str(), F_OK) != 0) {
    return Fail(Error(Code::kFailedPrecondition, "data_key.missing",
                      "No data key at " + config.EffectiveDataKeyFile() +
                          "; pass the server's --data-key-file (it unlocks the signing key for the token request)."));
  }
  auto data_key = LoadOrCreateDataKey(config.EffectiveDataKeyFile());
  if (!data_key.ok()) return Fail(data_key.status());

  Clock& clock = SystemClock::Instance();
  Random& random = SecureRandom::Instance();
  lti::KeyRing keys(**store, *data_key, clock, random);
  if (Status s = keys.Load(); !s.ok()) return Fail(s);
  http::CurlClientOptions http_options;
  http_options.allow_insecure = config.dev_mode;
  auto http = http::MakeCurlHttpClient(http_options);
  lti::ServiceTokenClient tokens(*http, keys, clock, random);
  lti::NrpsClient nrps(*http, tokens);
  lti::RosterSync sync(nrps, **store, clock);

  ProgressLine progress(!args.json && ::isatty(STDERR_FILENO) == 1);
  lti::RosterSyncRequest request{args.context_id, args.url, args.full};
  auto summary = sync.Sync(*registration, request, [&](int pages, size_t members) { progress.Update(pages, members); });
  progress.Done();
  if (!summary.ok()) return Fail(summary.status());

  lti::MemberQuery all;
  all.limit = 1'000'000;
  auto members = (*store)->ListMembers(registration->id, args.context_id, all);
  if (!members.ok()) return Fail(members.status());
  std::map<std::string, int> by_status;
  for (const auto& m : *members) ++by_status[std::string(lti::MemberStatusName(m.member.status))];
  if (args.json) {
    std::cout << json{{"registration_id", args.registration_id},
                      {"context_id", args.context_id},
                      {"mode", summary->full ? "full" : "differences"},
                      {"fell_back_to_full", summary->fell_back_to_full},
                      {"pages", summary->pages},
                      {"received", summary->received},
                      {"marked_deleted", summary->marked_deleted},
                      {"memberships_url", summary->memberships_url},
                      {"url_source", summary->url_source},
                      {"differences_available", summary->differences_available},
                      {"cached", by_status}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << (summary->full ? "full sync" : "differences sync") << (summary->fell_back_to_full ? " (the stored differences link was refused)" : "")
            << " of context " << args.context_id << ": " << summary->received << " members in " << summary->pages
            << (summary->pages == 1 ? " page" : " pages");
  if (summary->full) std::cout << ", " << summary->marked_deleted << " no longer listed (now Deleted)";
  std::cout << "\n  from " << summary->memberships_url << " (" << summary->url_source << ")\n  cache:";
  for (const char* st : {"Active", "Inactive", "Deleted"}) std::cout << " " << st << "=" << by_status[st];
  std::cout << "\n  next sync: " << (summary->differences_available ? "differences only" : "full") << "\n";
  return 0;
}

int RunRosterList(const Config& config, const RosterListArgs& args) {
  auto path = config.SqlitePath();
  if (!path.ok()) return Fail(path.status());
  auto store = storage::SqliteStore::Open(*path);
  if (!store.ok()) return Fail(store.status());
  lti::RegistrationId reg(args.registration_id);
  if (auto r = (*store)->GetRegistration(reg); !r.ok()) return Fail(r.status());
  lti::MemberQuery q;
  q.limit = 1'000'000;
  if (!args.status.empty() && args.status != "all") {
    q.status = lti::ParseMemberStatus(args.status);
    if (!q.status) {
      return Fail(Error(Code::kInvalidArgument, "roster.bad_status", "--status must be Active, Inactive, Deleted or all."));
    }
  }
  if (!args.role.empty()) q.role = lti::CanonicalRoleUri(lti::ParseRole(args.role));
  q.current_only = args.status.empty();
  auto rows = (*store)->ListMembers(reg, args.context_id, q);
  if (!rows.ok()) return Fail(rows.status());
  json out = json::array();
  for (const auto& m : *rows) {
    std::vector<std::string> names = lti::ContextRoleNames(lti::ParseRoles(m.member.roles));
    std::string roles;
    for (const auto& n : names) roles += (roles.empty() ? "" : ",") + n;
    if (args.json) {
      json j = {{"user_id", m.member.user_id}, {"status", std::string(lti::MemberStatusName(m.member.status))},
                {"roles", m.member.roles}};
      if (m.member.name) j["name"] = *m.member.name;
      if (m.member.email) j["email"] = *m.member.email;
      out.push_back(j);
    } else {
      std::cout << m.member.user_id << "  " << lti::MemberStatusName(m.member.status) << "  "
                << (roles.empty() ? "-" : roles) << (m.member.name ? "  " + *m.member.name : "")
                << (m.member.email ? "  <" + *m.member.email + ">" : "") << "\n";
    }
  }
  if (args.json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace gb::app
