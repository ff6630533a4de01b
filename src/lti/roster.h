// The roster domain: a context's members as Names and Role Provisioning reports them, and the
// MemberStore port the per-context member cache is kept behind (storage adapters implement it;
// the shared contract suite in storage/contract holds them to the behaviour below).
//
// Cache semantics (docs/roster.md):
//   - members are keyed by (registration, context, user_id): one registration's roster never
//     shows through another's, and a tenant reaches only its own registrations;
//   - status is Active, Inactive or Deleted. A differences sync reports removals as Deleted; a
//     full, unfiltered sync marks every cached member it did not return Deleted (they left the
//     context). Deleted members stay in the cache (a late score for them gets a clear diagnosis);
//   - roles are stored as canonical full URIs (roles.h), so filters work whatever form the
//     platform used;
//   - personal fields (name, email, ...) are stored only when the platform sent them; a sync that
//     does not send them clears them (consent may have been withdrawn) — never keep stale data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lti/registration.h"

namespace gb::lti {

enum class MemberStatus { kActive, kInactive, kDeleted };
std::string_view MemberStatusName(MemberStatus status);  // "Active", "Inactive", "Deleted"
std::optional<MemberStatus> ParseMemberStatus(std::string_view name);

// One member as the platform sent it. Personal fields are nullopt when the platform did not send
// them (privacy settings): never invented, never defaulted.
struct Member {
  std::string user_id;  // = the `sub` of this user's launches
  MemberStatus status = MemberStatus::kActive;
  std::vector<std::string> roles;  // canonical full URIs, de-duplicated
  std::optional<std::string> name;
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<std::string> middle_name;
  std::optional<std::string> email;
  std::optional<std::string> picture;
  std::optional<std::string> lis_person_sourcedid;
  std::optional<std::string> lti11_legacy_user_id;
};

struct StoredMember {
  Member member;
  int64_t updated_at = 0;  // the last sync that reported (or, for Deleted, dropped) the member
};

// Per (registration, context) sync bookkeeping.
struct RosterState {
  RegistrationId registration_id;
  std::string context_id;
  std::string memberships_url;   // the context_memberships_url last synced from
  std::string differences_url;   // the platform's last rel="differences" link; "" = none
  int64_t last_full_sync_at = 0; // 0 = never
  int64_t last_sync_at = 0;      // full or differences
};

struct MemberQuery {
  std::optional<MemberStatus> status;  // nullopt: every status (but see current_only)
  bool current_only = false;           // leave Deleted members out (before the limit applies)
  std::string role;                    // a canonical role URI; "" = any role
  int limit = 1000;                    // most rows returned (ordered by user_id)
};

class MemberStore {
 public:
  virtual ~MemberStore() = default;
  // Applies one sync's result in one transaction: every member in `members` is inserted or
  // replaced (status, roles, personal fields, updated_at = now); when `full` is true every other
  // cached member of the context that is not already Deleted becomes Deleted (updated_at = now);
  // `state` is saved as the context's sync state. kNotFound "registration.unknown" when the
  // registration does not exist.
  virtual Status ApplyRosterSync(const RosterState& state, const std::vector<Member>& members, bool full,
                                 int64_t now) = 0;
  // The sync state, or nullopt when the context was never synced.
  virtual Result<std::optional<RosterState>> GetRosterState(const RegistrationId& registration,
                                                            std::string_view context_id) = 0;
  // The contexts of `registration` that were synced, by context id.
  virtual Result<std::vector<RosterState>> ListRosterStates(const RegistrationId& registration) = 0;
  virtual Result<std::vector<StoredMember>> ListMembers(const RegistrationId& registration,
                                                        std::string_view context_id, const MemberQuery& query) = 0;
  // One member, or nullopt when the cache does not know them.
  virtual Result<std::optional<StoredMember>> FindMember(const RegistrationId& registration,
                                                         std::string_view context_id, std::string_view user_id) = 0;
  // The context_memberships_url of the newest stored launch of (registration, context) that
  // carried the NRPS claim; "" when there is none.
  virtual Result<std::string> LatestLaunchMembershipsUrl(const RegistrationId& registration,
                                                         std::string_view context_id) = 0;
};

}  // namespace gb::lti
