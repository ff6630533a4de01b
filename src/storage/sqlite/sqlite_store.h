// SqliteStore: the embedded storage adapter, implementing every port in lti/ports.h on one
// SQLite database file (WAL mode). See docs/storage.md.
//
// Thread-safe: any method may be called from any thread. Writes from all threads share one
// connection with group commit (concurrent writes are committed together, one fsync for many);
// reads use a small pool of their own connections and never wait for writes. Several processes
// may open the same file (the CLI against the live server database): they coordinate through
// SQLite's file locks and busy_timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "lti/ports.h"
#include "lti/roster.h"
#include "passback/audit.h"
#include "passback/queue_store.h"

namespace gb::storage {

struct SqliteOptions {
  enum class Synchronous {
    kFull,    // every commit is fsynced: survives power loss (the default; accepted = durable)
    kNormal,  // WAL fsynced only at checkpoints: survives a process crash, may lose the last
              // commits on power loss or an OS crash
  };
  Synchronous synchronous = Synchronous::kFull;
  // How long a statement waits for another process's lock before failing with
  // kUnavailable "storage.busy".
  int busy_timeout_ms = 5000;
  // Read connections, opened on demand. Ignored for in-memory databases, which have exactly one
  // connection for everything.
  size_t max_read_connections = 4;
  // Most operations committed in one group-commit transaction.
  size_t max_batch = 256;
  // WAL checkpoints run on a background thread once the WAL holds this many pages, instead of
  // inside a commit (SQLite's default). 0: leave checkpoints to SQLite (inside commits).
  int checkpoint_pages = 1000;
};

// Counters for metrics and benchmarks.
struct SqliteStats {
  uint64_t write_transactions = 0;  // group-commit batches run by the writer
  uint64_t write_operations = 0;    // operations in them (operations / transactions = batch size)
};

class SqliteStore final : public lti::TenantStore,
                          public lti::RegistrationStore,
                          public lti::NonceStore,
                          public lti::KeyStore,
                          public lti::LaunchStore,
                          public lti::PassbackKeyStore,
                          public lti::MemberStore,
                          public lti::Lti11ConsumerStore,
                          public passback::QueueStore,
                          public passback::AuditReader {
 public:
  // Opens (creating if needed) the database at `path` — a file path, ":memory:" or a
  // "file:" URI — and applies pending migrations. Fails with kFailedPrecondition
  // "storage.schema_too_new" if a newer build migrated the database.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The highest migration applied to the database.
  Result<int> SchemaVersion();
  // The highest migration this build knows.
  static int LatestSchemaVersion();
  SqliteStats Stats() const;

  // TenantStore
  Status AddTenant(const lti::Tenant& tenant) override;
  Result<lti::Tenant> FindTenantByName(std::string_view name) override;
  Result<lti::Tenant> FindTenantById(const lti::TenantId& id) override;
  Result<lti::Tenant> FindTenantByApiKeyHash(std::string_view api_key_hash) override;
  Result<std::vector<lti::Tenant>> ListTenants() override;

  // RegistrationStore
  Status AddRegistration(const lti::Registration& registration) override;
  Status UpdateRegistration(const lti::Registration& registration) override;
  Result<lti::Registration> GetRegistration(const lti::RegistrationId& id) override;
  Result<lti::Registration> FindRegistration(std::string_view issuer, std::string_view client_id) override;
  Result<std::vector<lti::Registration>> FindRegistrationsByIssuer(std::string_view issuer) override;
  Result<std::vector<lti::Registration>> ListRegistrations(const std::optional<lti::TenantId>& tenant) override;
  Status RemoveRegistration(const lti::RegistrationId& id) override;

  // NonceStore
  Status ConsumeNonce(std::string_view scope, std::string_view value, int64_t expires_at) override;
  Result<int64_t> PurgeExpiredNonces(int64_t now) override;

  // KeyStore
  Status AddKey(const lti::StoredKey& key) override;
  Result<std::vector<lti::StoredKey>> ListKeys() override;
  Status RetireKey(std::string_view kid, int64_t retired_at, int64_t publish_until) override;

  // LaunchStore
  Status SaveLaunch(const lti::StoredLaunch& launch) override;
  Result<lti::StoredLaunch> RedeemLaunchToken(std::string_view token_hash, int64_t now) override;
  Result<lti::StoredLaunch> GetLaunch(std::string_view id) override;

  // PassbackKeyStore (sqlite_passback_keys.cc)
  Status AddPassbackKey(const lti::PassbackKey& key) override;
  Result<lti::PassbackKey> FindPassbackKey(std::string_view id) override;
  Result<std::vector<lti::PassbackKey>> ListPassbackKeys(const std::optional<lti::TenantId>& tenant) override;
  Status RemovePassbackKey(std::string_view id) override;

  // MemberStore (sqlite_roster_store.cc)
  Status ApplyRosterSync(const lti::RosterState& state, const std::vector<lti::Member>& members, bool full,
                         int64_t now) override;
  Result<std::optional<lti::RosterState>> GetRosterState(const lti::RegistrationId& registration,
                                                         std::string_view context_id) override;
  Result<std::vector<lti::RosterState>> ListRosterStates(const lti::RegistrationId& registration) override;
  Result<std::vector<lti::StoredMember>> ListMembers(const lti::RegistrationId& registration,
                                                     std::string_view context_id,
                                                     const lti::MemberQuery& query) override;
  Result<std::optional<lti::StoredMember>> FindMember(const lti::RegistrationId& registration,
                                                      std::string_view context_id, std::string_view user_id) override;
  Result<std::string> LatestLaunchMembershipsUrl(const lti::RegistrationId& registration,
                                                 std::string_view context_id) override;
  // Lti11ConsumerStore (sqlite_lti11_consumers.cc)
  Status AddLti11Consumer(const lti::Lti11Consumer& consumer) override;
  Result<lti::Lti11Consumer> FindLti11Consumer(std::string_view consumer_key) override;
  Result<std::vector<lti::Lti11Consumer>> ListLti11Consumers(const std::optional<lti::TenantId>& tenant) override;
  Status RemoveLti11Consumer(std::string_view consumer_key) override;

  // passback::QueueStore (sqlite_queue_store.cc)
  Result<std::vector<passback::EnqueueResult>> EnqueueBatch(const std::vector<passback::ScoreRecord>& records) override;
  Result<std::vector<passback::ScoreRecord>> ClaimDue(int64_t now_ms, int limit, const std::string& owner,
                                                      int64_t lease_ms) override;
  Status Finish(const passback::ScoreRecord& record, const std::string& owner) override;
  Status Release(const std::vector<std::string>& ids, const std::string& owner,
                 int64_t next_attempt_at_ms) override;
  Result<int64_t> RecoverLeases(const std::string& owner_prefix, const std::string& current_owner,
                                int64_t now_ms) override;
  Result<passback::ScoreRecord> GetScore(const lti::TenantId& tenant, const std::string& id) override;
  Result<passback::ScoreRecord> GetScoreAnyTenant(const std::string& id) override;
  Result<std::vector<passback::ScoreRecord>> ListScores(std::optional<passback::ScoreState> state, int limit) override;
  Result<passback::QueueCounts> Counts() override;
  Result<int64_t> RetryFailed(const std::optional<std::string>& id, int64_t now_ms) override;
  Result<int64_t> PurgeDelivered(int64_t before_ms) override;
  Result<std::optional<passback::ScoreRecord>> LastDelivered(const std::string& coalescing_key) override;

  // passback::AuditReader
  Result<std::vector<passback::AuditEntry>> ReadAudit(int64_t after_seq, int limit) override;

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gb::storage
