// Internal to storage/sqlite: connections with cached prepared statements, a group-commit writer
// and a pool of read connections. Not part of the public API (sqlite_store.h); future SQLite
// adapters for other ports (score queue, audit log) build on the same pieces.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

namespace gb::storage::sqlite_internal {

// Maps a SQLite result code to a Status: SQLITE_BUSY/LOCKED -> kUnavailable "storage.busy",
// anything else -> kInternal "storage.error". The message carries SQLite's own text, which names
// tables and columns but never bound values.
Status SqliteStatus(sqlite3* db, int rc, std::string_view context);

inline bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

// A borrowed, cached prepared statement. Reset (and its bindings cleared) when this goes out of
// scope, so no statement keeps a read snapshot open between calls. Text and blobs are copied
// when bound (SQLITE_TRANSIENT), so binding a temporary (BindText(1, SomeString())) is safe; the
// copy is negligible next to the system calls of a write.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), db_(other.db_) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  // Parameters are 1-based, as in SQLite.
  void BindText(int index, std::string_view value);
  // Empty -> NULL.
  void BindTextOrNull(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  void BindInt(int index, int64_t value);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  // Steps to completion, expecting no rows (or ignoring them). Returns SQLITE_DONE or an error.
  int Run();

  std::string ColumnText(int col) const;
  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  sqlite3_stmt* raw() const { return stmt_; }

  sqlite3* db() const { return db_; }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

struct ConnectionOptions {
  bool create = false;      // SQLITE_OPEN_CREATE
  bool read_only = false;   // PRAGMA query_only
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
};

// One sqlite3 connection plus its statement cache. Not thread-safe: used by one thread at a time
// (the writer's leader, or whoever holds a reader lease).
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  // True for ":memory:" and other databases without a file (only one connection can see them).
  bool in_memory() const { return in_memory_; }

  // Returns the cached statement for `sql`, preparing it on first use. `sql` must have static
  // storage duration: the cache is keyed by its address.
  Result<Statement> Prepare(const char* sql);
  // Runs a statement that returns no rows, through the cache.
  Status Exec(const char* sql, std::string_view context);
  // Runs possibly several statements, uncached (migrations, pragmas).
  Status ExecScript(const char* sql, std::string_view context);

  Status Error(int rc, std::string_view context) const { return SqliteStatus(db_, rc, context); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  bool in_memory_ = false;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// A non-owning reference to a callable, so queued writes need no allocation.
template <typename Sig>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* obj, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

// How a queued operation touches the database.
enum class OpKind {
  kRead,            // reads only
  kSingleStatement, // at most one writing statement: atomic by itself
  kMultiStatement,  // several writing statements: wrapped in a savepoint inside the batch
  kExclusive,       // runs alone, outside any transaction (maintenance such as checkpoints)
};

// The one writing connection, with group commit: concurrent callers' operations queue up, and
// one caller at a time (the leader) runs everything queued so far in one IMMEDIATE transaction,
// so one commit (and one fsync) covers many operations. Each call returns only after the
// transaction holding its operation committed (or failed). An operation that fails leaves the
// others intact: single statements are atomic in SQLite (a failed statement undoes only itself),
// multi-statement operations run under a savepoint that is rolled back on failure. If the commit
// fails, every operation of the batch reports that failure. When a leader is done it hands the
// leadership to the first queued caller; waiting callers are woken one by one, never all at once.
class Writer {
 public:
  Writer(std::unique_ptr<Connection> conn, size_t max_batch);

  Status Run(OpKind kind, FunctionRef<Status(Connection&)> op);

  Connection& connection() { return *conn_; }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t operations() const { return operations_.load(std::memory_order_relaxed); }
  // Operations waiting for a leader (tests use it to line operations up).
  size_t queued();

 private:
  enum class State { kQueued, kLead, kDone };
  struct Pending {
    Pending(OpKind k, FunctionRef<Status(Connection&)> o) : kind(k), op(o) {}
    OpKind kind;
    FunctionRef<Status(Connection&)> op;
    Status result;
    State state = State::kQueued;   // guarded by mu_
    std::condition_variable cv;      // waits on mu_
  };
  void ExecuteBatch(const std::vector<Pending*>& batch);
  static Status Call(Pending& p, Connection& conn);

  std::unique_ptr<Connection> conn_;
  const size_t max_batch_;
  std::mutex mu_;
  std::deque<Pending*> queue_;
  bool leader_active_ = false;
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> operations_{0};
};

// Runs WAL checkpoints on its own connection and thread, so commits do not wait for the bulk of
// one (SQLite's automatic checkpoint runs inside a commit, page copying and fsync included).
// Installs a WAL hook on the writer: past `pages` WAL pages it wakes the thread, which copies the
// WAL into the database, then has the writer finish with a short checkpoint of the few frames
// committed meanwhile (as a kExclusive operation, between batches), so the next write can start
// the WAL over instead of growing it. Past `hard_limit_pages` (the thread cannot keep up, or
// readers pin old frames) the writer checkpoints inline, as SQLite would.
class Checkpointer {
 public:
  Checkpointer(std::unique_ptr<Connection> conn, Writer& writer, int pages, int hard_limit_pages);
  ~Checkpointer();  // removes the hook, stops the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Loop();

  std::unique_ptr<Connection> conn_;
  Writer& writer_;
  sqlite3* writer_db_;
  const int pages_;
  const int hard_limit_pages_;
  std::atomic<bool> poked_{false};
  std::atomic<int> wal_pages_{0};  // as of the writer's last commit
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Read connections, opened on demand up to `max`; a caller waits when all are leased.
class ReaderPool {
 public:
  ReaderPool(std::string path, ConnectionOptions options, size_t max)
      : path_(std::move(path)), options_(options), max_(max) {}

  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& operator*() const { return *conn_; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  const ConnectionOptions options_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

}  // namespace gb::storage::sqlite_internal
