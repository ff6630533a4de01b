// SQLite-specific behaviour of SqliteStore: migrations, reopening, refusal of newer schemas, lock
// contention, group commit and sharing a database file across processes. The port behaviour
// itself is covered by the contract suite (sqlite_contract_test.cc).
#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage {
namespace {

using test_util::OpenOrDie;
using test_util::TempDir;

// Migration numbers may have gaps (see migrations.h), so count the list rather than trust the
// highest number.
int64_t KnownMigrations() { return static_cast<int64_t>(sqlite_internal::Migrations().size()); }

// A plain SQLite connection for looking behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "open " << path << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err ? err : "?");
    }
    sqlite3_free(err);
  }
  int64_t Scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      value = text ? reinterpret_cast<const char*>(text) : "";
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

lti::Tenant MakeTenant(const std::string& name) {
  lti::Tenant t;
  t.id = lti::TenantId("t-" + name);
  t.name = name;
  t.api_key_hash = "h-" + name;
  t.created_at = 1;
  return t;
}

lti::Registration MakeRegistration(const std::string& id, const std::string& client_id, int deployments) {
  lti::Registration r;
  r.id = lti::RegistrationId(id);
  r.tenant_id = lti::TenantId("t-acme");
  r.issuer = "https://canvas.example.edu";
  r.client_id = client_id;
  for (int i = 0; i < deployments; ++i) r.deployment_ids.push_back(id + "-d" + std::to_string(i));
  r.auth_url = r.issuer + "/auth";
  r.token_url = r.issuer + "/token";
  r.jwks_url = r.issuer + "/jwks";
  return r;
}

lti::StoredLaunch MakeLaunch(const std::string& id) {
  lti::StoredLaunch l;
  l.id = id;
  l.tenant_id = lti::TenantId("t-acme");
  l.registration_id = lti::RegistrationId("reg-1");
  l.launch_json = "{}";
  l.token_hash = "hash-" + id;
  l.created_at = 1'000;
  l.token_expires_at = 1'060;
  return l;
}

TEST(SqliteStoreTest, MigrationsAreRecorded) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  auto store = OpenOrDie(path);
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, SqliteStore::LatestSchemaVersion());
  EXPECT_GE(*version, 1);

  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM schema_migrations"), KnownMigrations());
  EXPECT_EQ(raw.Scalar("SELECT MIN(version) FROM schema_migrations"), 1);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM schema_migrations WHERE description = '' OR applied_at <= 0"), 0);
  for (const char* table : {"tenants", "registrations", "registration_deployments", "nonces", "tool_keys", "launches",
                            "passback_keys"}) {
    EXPECT_EQ(raw.Scalar(std::string("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '") + table +
                         "'"),
              1)
        << table;
  }
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
}

TEST(SqliteStoreTest, ReopenIsIdempotentAndKeepsData) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store->AddTenant(MakeTenant("acme")).ok());
    ASSERT_TRUE(store->ConsumeNonce("s", "n", 100).ok());
  }
  RawDb raw(path);
  const int64_t applied_at = raw.Scalar("SELECT applied_at FROM schema_migrations WHERE version = 1");
  for (int i = 0; i < 3; ++i) {
    auto store = OpenOrDie(path);
    auto version = store->SchemaVersion();
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, SqliteStore::LatestSchemaVersion());
    EXPECT_TRUE(store->FindTenantByName("acme").ok());
    auto replay = store->ConsumeNonce("s", "n", 100);
    EXPECT_EQ(replay.reason(), "nonce.replayed");
  }
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM schema_migrations"), KnownMigrations());
  EXPECT_EQ(raw.Scalar("SELECT applied_at FROM schema_migrations WHERE version = 1"), applied_at);
}

// A database written by a build that knew only migrations 1 and 2, with a registration in it:
// migration 3 adds the service host and policy columns with their defaults and keeps the row.
TEST(SqliteStoreTest, Migration3KeepsRegistrationsWithPolicyDefaults) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string script =
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
        " applied_at INTEGER NOT NULL) STRICT;";
    for (const auto& m : sqlite_internal::Migrations()) {
      if (m.version > 2) break;
      script += m.sql;
      script += ";INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 'old', 1);";
    }
    script +=
        "INSERT INTO tenants VALUES ('t-acme', 'acme', 'h', 1);"
        "INSERT INTO registrations VALUES ('reg-old', 't-acme', 'https://canvas.instructure.com', '42',"
        " 'https://sso.canvaslms.com/auth', 'https://sso.canvaslms.com/token', 'https://sso.canvaslms.com/jwks',"
        " '', 'canvas', '', 7);"
        "INSERT INTO registration_deployments VALUES ('reg-old', 0, 'dep-1');";
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, script.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  auto store = OpenOrDie(path);
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, SqliteStore::LatestSchemaVersion());
  EXPECT_GE(*version, 3);
  auto old = store->GetRegistration(lti::RegistrationId("reg-old"));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->client_id, "42");
  EXPECT_EQ(old->deployment_ids, std::vector<std::string>{"dep-1"});
  EXPECT_TRUE(old->service_hosts.empty());
  EXPECT_FALSE(old->final_grades_only);
  EXPECT_FALSE(old->send_comments);
  EXPECT_FALSE(old->allow_extra_credit);

  // The flags are 0/1 only, whoever writes them.
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT service_hosts FROM registrations WHERE id = 'reg-old'"), "[]");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const char* column : {"final_grades_only", "send_comments", "allow_extra_credit"}) {
    std::string sql = std::string("UPDATE registrations SET ") + column + " = 2";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_CONSTRAINT) << column;
  }
  sqlite3_close(db);
}

// service_hosts written by hand (or a future bug) that are not a JSON array of strings are
// reported, never silently read as "no extra hosts".
TEST(SqliteStoreTest, MalformedServiceHostsAreAStorageError) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store->AddTenant(MakeTenant("acme")).ok());
  ASSERT_TRUE(store->AddRegistration(MakeRegistration("reg-1", "1", 1)).ok());
  for (const char* bad : {"'not json'", "'{\"a\":1}'", "'[\"ok\", 3]'"}) {
    {
      RawDb raw(path);
      raw.Exec(std::string("UPDATE registrations SET service_hosts = ") + bad);
    }
    auto got = store->GetRegistration(lti::RegistrationId("reg-1"));
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().reason(), "storage.error") << bad;
    EXPECT_THAT(got.status().message(), ::testing::HasSubstr("service_hosts")) << bad;
  }
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerBuild) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  OpenOrDie(path).reset();
  {
    RawDb raw(path);
    raw.Exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (" +
             std::to_string(SqliteStore::LatestSchemaVersion() + 1) + ", 'from the future', 1)");
  }
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(store.status().reason(), "storage.schema_too_new");
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("upgrade gradebridge"));
  // Nothing was changed by the refused open.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT MAX(version) FROM schema_migrations"), SqliteStore::LatestSchemaVersion() + 1);
}

TEST(SqliteStoreTest, ConcurrentOpenersApplyEachMigrationOnce) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  constexpr int kOpeners = 6;
  std::latch start(kOpeners);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto store = SqliteStore::Open(path);
      if (!store.ok()) {
        ADD_FAILURE() << store.status().ToString();
        failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM schema_migrations"), KnownMigrations());
}

TEST(SqliteStoreTest, RejectsFilesThatAreNotDatabases) {
  TempDir dir;
  const std::string path = dir.File("not-a.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kInternal);
  EXPECT_EQ(store.status().reason(), "storage.error");
  EXPECT_FALSE(store.status().message().empty());
}

TEST(SqliteStoreTest, RejectsAnEmptyPath) {
  auto store = SqliteStore::Open("");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
}

TEST(SqliteStoreTest, LockedDatabaseIsUnavailableForWritesButStillReadable) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store->AddTenant(MakeTenant("acme")).ok());

  RawDb other_process(path);
  other_process.Exec("BEGIN IMMEDIATE");
  Status st = store->ConsumeNonce("s", "n", 100);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(st.reason(), "storage.busy");
  EXPECT_TRUE(store->FindTenantByName("acme").ok());  // WAL: readers are not blocked by a writer
  other_process.Exec("COMMIT");

  // The failed attempt consumed nothing.
  EXPECT_TRUE(store->ConsumeNonce("s", "n", 100).ok());
}

// Group commit: many threads' writes share transactions, and an operation that fails (a replayed
// nonce, a conflicting registration whose deployments were half written) never takes the other
// operations of its batch down with it.
TEST(SqliteStoreTest, FailedOperationsInABatchLeaveTheOthersCommitted) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store->AddTenant(MakeTenant("acme")).ok());
    constexpr int kThreads = 8;
    constexpr int kPerThread = 60;
    std::latch start(kThreads);
    std::atomic<int> registrations_added{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < kPerThread; ++i) {
          // Every thread consumes the same shared values and its own private ones.
          Status shared = store->ConsumeNonce("shared", std::to_string(i), 100);
          EXPECT_TRUE(shared.ok() || shared.reason() == "nonce.replayed") << shared.ToString();
          EXPECT_TRUE(store->ConsumeNonce("own", std::to_string(t) + "/" + std::to_string(i), 100).ok());
          EXPECT_TRUE(store->SaveLaunch(MakeLaunch("L" + std::to_string(t) + "-" + std::to_string(i))).ok());
          // Registrations: client_id i is contended by every thread; each has 3 deployments.
          Status reg = store->AddRegistration(
              MakeRegistration("r" + std::to_string(t) + "-" + std::to_string(i), std::to_string(i), 3));
          if (reg.ok()) {
            registrations_added++;
          } else {
            EXPECT_EQ(reg.reason(), "registration.exists") << reg.ToString();
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(registrations_added.load(), kPerThread);
  }
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM nonces WHERE scope = 'shared'"), 60);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM nonces WHERE scope = 'own'"), 8 * 60);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM launches"), 8 * 60);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM registrations"), 60);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM registration_deployments"), 60 * 3);
  EXPECT_EQ(raw.Scalar("SELECT COUNT(*) FROM registration_deployments WHERE registration_id NOT IN "
                       "(SELECT id FROM registrations)"),
            0);
  EXPECT_EQ(raw.Text("PRAGMA integrity_check"), "ok");
}

// Another process (the CLI against the server's live database) sharing the file: a nonce and a
// launch token raced for by both processes are each won exactly once.
TEST(SqliteStoreTest, ReplayIsCaughtAcrossProcesses) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  constexpr int kValues = 150;
  {
    auto setup = OpenOrDie(path);
    for (int i = 0; i < kValues; ++i) ASSERT_TRUE(setup->SaveLaunch(MakeLaunch(std::to_string(i))).ok());
  }
  int go[2], results[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(results), 0);
  auto race = [&](SqliteStore& store, std::vector<char>& out) {
    for (int i = 0; i < kValues; ++i) {
      Status n = store.ConsumeNonce("x", std::to_string(i), 100);
      out.push_back(n.ok() ? 'W' : n.reason() == "nonce.replayed" ? 'L' : 'E');
      auto t = store.RedeemLaunchToken("hash-" + std::to_string(i), 1'000);
      out.push_back(t.ok() ? 'W' : t.status().reason() == "launch_token.used" ? 'L' : 'E');
    }
  };
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(go[1]);
    close(results[0]);
    int code = 0;
    try {
      auto store = OpenOrDie(path);
      char c;
      if (read(go[0], &c, 1) != 1) _exit(3);
      std::vector<char> out;
      race(*store, out);
      if (write(results[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) code = 4;
    } catch (...) {
      code = 5;
    }
    _exit(code);
  }
  close(go[0]);
  close(results[1]);
  auto store = OpenOrDie(path);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  std::vector<char> mine;
  race(*store, mine);
  std::vector<char> theirs(2 * kValues);
  size_t got = 0;
  while (got < theirs.size()) {
    ssize_t n = read(results[0], theirs.data() + got, theirs.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  ASSERT_EQ(got, theirs.size());
  close(go[1]);
  close(results[0]);
  int parent_wins = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    ASSERT_NE(mine[i], 'E') << "parent error at " << i;
    ASSERT_NE(theirs[i], 'E') << "child error at " << i;
    EXPECT_TRUE((mine[i] == 'W') != (theirs[i] == 'W')) << "exactly one winner for slot " << i;
    parent_wins += mine[i] == 'W';
  }
  RecordProperty("parent_wins", parent_wins);
}

// Checkpoints run on the background thread: while the store is open and busy, the main
// database file grows (pages move out of the WAL) without any commit running a checkpoint.
TEST(SqliteStoreTest, BackgroundCheckpointsMoveTheWalIntoTheDatabase) {
  TempDir dir;
  const std::string path = dir.File("gb.db");
  SqliteOptions options;
  options.checkpoint_pages = 16;
  auto store = OpenOrDie(path, options);
  const auto initial = std::filesystem::file_size(path);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        lti::StoredLaunch l = MakeLaunch(std::to_string(t) + "-" + std::to_string(i));
        l.launch_json = std::string(3000, 'j');
        EXPECT_TRUE(store->SaveLaunch(l).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  // One more commit past the threshold, then give the thread a moment.
  ASSERT_TRUE(store->ConsumeNonce("s", "n", 1).ok());
  for (int i = 0; i < 200 && std::filesystem::file_size(path) < initial + 400 * 3000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(std::filesystem::file_size(path), initial + 400 * 3000);
  auto got = store->GetLaunch("3-99");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->launch_json.size(), 3000u);
}

TEST(SqliteStoreTest, InMemoryStoresAreSeparate) {
  auto a = OpenOrDie(":memory:");
  auto b = OpenOrDie(":memory:");
  ASSERT_TRUE(a->ConsumeNonce("s", "n", 1).ok());
  EXPECT_TRUE(b->ConsumeNonce("s", "n", 1).ok());
  auto version = a->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, SqliteStore::LatestSchemaVersion());
}

}  // namespace
}  // namespace gb::storage
