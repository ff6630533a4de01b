// SqliteStore's shared internals, so each port's implementation can live in its own file
// (sqlite_store.cc: LTI ports; sqlite_queue_store.cc: the score queue and audit log;
// sqlite_passback_keys.cc: passback-only keys).
#pragma once

#include <memory>

#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_store.h"

namespace gb::storage {

struct SqliteStore::Impl {
  // Destroyed in reverse: the checkpointer (which hooks the writer) first, the writer last.
  std::unique_ptr<sqlite_internal::Writer> writer;
  std::unique_ptr<sqlite_internal::ReaderPool> readers;  // null: reads go through the writer (in-memory databases)
  std::unique_ptr<sqlite_internal::Checkpointer> checkpointer;

  template <typename F>
  Status Read(F&& f) {
    if (!readers) return writer->Run(sqlite_internal::OpKind::kRead, f);
    GB_ASSIGN_OR_RETURN(sqlite_internal::ReaderPool::Lease lease, readers->Acquire());
    return f(*lease);
  }
  template <typename F>
  Status Write(sqlite_internal::OpKind kind, F&& f) {
    return writer->Run(kind, f);
  }
};

}  // namespace gb::storage
