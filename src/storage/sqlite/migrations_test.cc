// The migration runner on its own, with made-up migration lists: gaps in the numbering, a
// migration that arrives after a higher-numbered one was applied, and a database that records a
// migration the build does not know.
#include "storage/sqlite/migrations.h"

#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage::sqlite_internal {
namespace {

constexpr Migration kOne{1, "one", "CREATE TABLE one (x INTEGER) STRICT"};
constexpr Migration kTwo{2, "two", "CREATE TABLE two (x INTEGER) STRICT"};
constexpr Migration kThree{3, "three", "CREATE TABLE three (x INTEGER) STRICT"};
constexpr Migration kFour{4, "four", "CREATE TABLE four (x INTEGER) STRICT"};

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConnectionOptions options;
    options.create = true;
    auto conn = Connection::Open(dir_.File("m.db"), options);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  int64_t Scalar(const char* sql) {
    auto s = conn_->Prepare(sql);
    if (!s.ok() || s->Step() != SQLITE_ROW) return -1;
    return s->ColumnInt(0);
  }
  std::vector<int64_t> Recorded() {
    std::vector<int64_t> out;
    auto s = conn_->Prepare("SELECT version FROM schema_migrations ORDER BY version");
    if (!s.ok()) return out;
    while (s->Step() == SQLITE_ROW) out.push_back(s->ColumnInt(0));
    return out;
  }
  bool HasTable(const std::string& name) {
    auto s = conn_->Prepare("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    if (!s.ok()) return false;
    s->BindText(1, name);
    return s->Step() == SQLITE_ROW && s->ColumnInt(0) == 1;
  }

  test_util::TempDir dir_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(MigrationsTest, AGapInTheNumberingIsAllowed) {
  const Migration list[] = {kOne, kTwo, kFour};
  ASSERT_TRUE(Migrate(*conn_, list).ok());
  EXPECT_EQ(Recorded(), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_TRUE(HasTable("four"));
  auto version = CurrentSchemaVersion(*conn_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 4);
  // Re-running changes nothing.
  ASSERT_TRUE(Migrate(*conn_, list).ok());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM schema_migrations"), 3);
}

TEST_F(MigrationsTest, AMigrationNumberedBelowTheAppliedOnesIsStillApplied) {
  const Migration before[] = {kOne, kTwo, kFour};
  ASSERT_TRUE(Migrate(*conn_, before).ok());
  // The branch holding 3 merged after 4 shipped.
  const Migration after[] = {kOne, kTwo, kThree, kFour};
  ASSERT_TRUE(Migrate(*conn_, after).ok());
  EXPECT_EQ(Recorded(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(HasTable("three"));
}

TEST_F(MigrationsTest, AnUnknownRecordedMigrationIsRefusedAndNothingChanges) {
  const Migration with_three[] = {kOne, kThree};
  ASSERT_TRUE(Migrate(*conn_, with_three).ok());
  // A build that lacks 3 (even though its highest number is above it) must not touch this schema.
  const Migration without_three[] = {kOne, kTwo, kFour};
  Status st = Migrate(*conn_, without_three);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "storage.schema_too_new");
  EXPECT_EQ(Recorded(), (std::vector<int64_t>{1, 3}));
  EXPECT_FALSE(HasTable("two"));
  EXPECT_FALSE(HasTable("four"));
}

TEST_F(MigrationsTest, AFailingMigrationIsRolledBackWithItsRecord) {
  const Migration broken{2, "broken", "CREATE TABLE two (x INTEGER) STRICT; SELECT * FROM no_such_table"};
  const Migration list[] = {kOne, broken};
  EXPECT_FALSE(Migrate(*conn_, list).ok());
  EXPECT_EQ(Recorded(), (std::vector<int64_t>{1}));
  EXPECT_FALSE(HasTable("two"));
}

}  // namespace
}  // namespace gb::storage::sqlite_internal
