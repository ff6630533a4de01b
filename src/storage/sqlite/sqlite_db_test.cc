// The group-commit writer on its own: operations queued while a leader works are committed in
// one transaction, a failing operation does not take its batch-mates down, exclusive operations
// run alone outside any transaction.
#include "storage/sqlite/sqlite_db.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage::sqlite_internal {
namespace {

constexpr const char kInsertT[] = "INSERT INTO t (k) VALUES (?1)";
constexpr const char kInsertD[] = "INSERT INTO d (k) VALUES (?1)";
constexpr const char kCountT[] = "SELECT COUNT(*) FROM t";
constexpr const char kCountD[] = "SELECT COUNT(*) FROM d";

Status Insert(Connection& c, const char* sql, const char* key) {
  GB_ASSIGN_OR_RETURN(Statement s, c.Prepare(sql));
  s.BindText(1, key);
  int rc = s.Run();
  if (rc == SQLITE_DONE) return Status::Ok();
  if (IsUniqueViolation(rc)) return Error(Code::kConflict, "test.exists", "exists");
  return c.Error(rc, "insert");
}

int64_t Count(Connection& c, const char* sql) {
  auto s = c.Prepare(sql);
  if (!s.ok() || s->Step() != SQLITE_ROW) return -1;
  return s->ColumnInt(0);
}

void WaitUntil(const std::function<bool()>& done) {
  for (int i = 0; i < 5000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(done());
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConnectionOptions options;
    options.create = true;
    auto conn = Connection::Open(dir_.File("w.db"), options);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    ASSERT_TRUE((*conn)->ExecScript("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY);"
                                    "CREATE TABLE d (k TEXT PRIMARY KEY);",
                                    "schema")
                    .ok());
    writer_ = std::make_unique<Writer>(std::move(conn).value(), 256);
  }

  // Runs `first` on a thread and returns once it is executing (so it holds the leadership).
  std::thread StartLeader(std::latch& release, Status& result) {
    started_ = false;
    std::thread t([&] {
      result = writer_->Run(OpKind::kSingleStatement, [&](Connection& c) -> Status {
        Status st = Insert(c, kInsertT, "leader");
        started_ = true;
        release.wait();
        return st;
      });
    });
    WaitUntil([&] { return started_.load(); });
    return t;
  }

  test_util::TempDir dir_;
  std::unique_ptr<Writer> writer_;
  std::atomic<bool> started_{false};
};

TEST_F(WriterTest, QueuedOperationsShareOneTransactionAndFailuresStayIsolated) {
  std::latch release(1);
  Status leader;
  std::thread leader_thread = StartLeader(release, leader);

  Status ok1, multi_fail, single_fail, ok2;
  std::vector<std::thread> followers;
  followers.emplace_back([&] {
    ok1 = writer_->Run(OpKind::kSingleStatement, [](Connection& c) { return Insert(c, kInsertT, "b"); });
  });
  followers.emplace_back([&] {
    // Writes to d, then fails: the savepoint must undo the write to d.
    multi_fail = writer_->Run(OpKind::kMultiStatement, [](Connection& c) -> Status {
      GB_RETURN_IF_ERROR(Insert(c, kInsertD, "c"));
      return Insert(c, kInsertT, "leader");
    });
  });
  followers.emplace_back([&] {
    single_fail = writer_->Run(OpKind::kSingleStatement, [](Connection& c) { return Insert(c, kInsertT, "b"); });
  });
  followers.emplace_back([&] {
    ok2 = writer_->Run(OpKind::kSingleStatement, [](Connection& c) { return Insert(c, kInsertT, "e"); });
  });
  WaitUntil([&] { return writer_->queued() == 4; });
  release.count_down();
  leader_thread.join();
  for (auto& t : followers) t.join();

  EXPECT_TRUE(leader.ok()) << leader.ToString();
  EXPECT_TRUE(ok1.ok() != single_fail.ok()) << "exactly one of two inserts of \"b\" wins";
  EXPECT_EQ((ok1.ok() ? single_fail : ok1).reason(), "test.exists");
  EXPECT_EQ(multi_fail.reason(), "test.exists");
  EXPECT_TRUE(ok2.ok()) << ok2.ToString();
  EXPECT_EQ(writer_->batches(), 2u);  // the leader's, then the four queued ones together
  EXPECT_EQ(writer_->operations(), 5u);
  EXPECT_EQ(Count(writer_->connection(), kCountT), 3);  // leader, b, e
  EXPECT_EQ(Count(writer_->connection(), kCountD), 0);  // rolled back with its savepoint
}

TEST_F(WriterTest, ExclusiveOperationsRunAloneOutsideATransaction) {
  std::latch release(1);
  Status leader;
  std::thread leader_thread = StartLeader(release, leader);

  std::atomic<int> exclusive_autocommit{-1};
  Status before, exclusive, after;
  std::thread t1([&] {
    before = writer_->Run(OpKind::kSingleStatement, [](Connection& c) { return Insert(c, kInsertT, "1"); });
  });
  WaitUntil([&] { return writer_->queued() == 1; });
  std::thread t2([&] {
    exclusive = writer_->Run(OpKind::kExclusive, [&](Connection& c) -> Status {
      exclusive_autocommit = sqlite3_get_autocommit(c.db());
      return Status::Ok();
    });
  });
  WaitUntil([&] { return writer_->queued() == 2; });
  std::thread t3([&] {
    after = writer_->Run(OpKind::kSingleStatement, [](Connection& c) { return Insert(c, kInsertT, "3"); });
  });
  WaitUntil([&] { return writer_->queued() == 3; });
  release.count_down();
  for (std::thread* t : {&leader_thread, &t1, &t2, &t3}) t->join();

  EXPECT_TRUE(leader.ok() && before.ok() && exclusive.ok() && after.ok());
  EXPECT_EQ(exclusive_autocommit.load(), 1);
  EXPECT_EQ(writer_->batches(), 4u);  // leader | before | exclusive | after
  EXPECT_EQ(Count(writer_->connection(), kCountT), 3);
}

}  // namespace
}  // namespace gb::storage::sqlite_internal
