// `gradebridge roster sync` and `gradebridge roster list`: admin work on the member cache against
// the database, without a running server (docs/roster.md).
//
//   roster sync --registration ID --context ID [--url URL] [--full] [--json]
//     Reads the context's roster from the platform (differences only when a differences link is
//     stored, unless --full) with the same code the server uses. The memberships URL is --url, or
//     the one the context was last synced from, or the NRPS claim of the context's newest stored
//     launch. On a terminal, stderr shows a progress line (pages fetched, members read).
//   roster list --registration ID --context ID [--status S|all] [--role R] [--json]
#pragma once

#include <string>

#include "app/config.h"

namespace gb::app {

struct RosterSyncArgs {
  std::string registration_id;
  std::string context_id;
  std::string url;
  bool full = false;
  bool json = false;
};
int RunRosterSync(const Config& config, const RosterSyncArgs& args);

struct RosterListArgs {
  std::string registration_id;
  std::string context_id;
  std::string status;  // "" = current (Active and Inactive); "all"; or one status
  std::string role;
  bool json = false;
};
int RunRosterList(const Config& config, const RosterListArgs& args);

}  // namespace gb::app
