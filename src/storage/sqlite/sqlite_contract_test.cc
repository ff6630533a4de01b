// The storage contract (storage/contract) run against SqliteStore: on a temporary file (the
// production shape, with a second store on the same file for the cross-handle tests), on a file
// with synchronous=NORMAL, and in memory (one connection for everything).
#include <memory>
#include <string>

#include "storage/contract/ports_contract.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sqlite_test_util.h"

namespace gb::storage {
namespace {

using contract::ContractBackend;
using contract::PortsContractTest;
using contract::Stores;
using test_util::OpenOrDie;
using test_util::TempDir;

// Owns one store (and shares the directory its file lives in).
struct Owner {
  std::shared_ptr<TempDir> dir;
  std::string path;
  SqliteOptions options;
  std::unique_ptr<SqliteStore> store;
};

Stores FromOwner(std::shared_ptr<Owner> owner) {
  Stores s = Stores::Of(std::shared_ptr<SqliteStore>(owner, owner->store.get()));
  s.owner = owner;  // so Reopen can find the path
  return s;
}

Stores OpenFile(SqliteOptions options) {
  auto owner = std::make_shared<Owner>();
  owner->dir = std::make_shared<TempDir>();
  owner->path = owner->dir->File("contract.db");
  owner->options = options;
  owner->store = OpenOrDie(owner->path, options);
  return FromOwner(owner);
}

Stores Reopen(const Stores& first) {
  auto existing = std::static_pointer_cast<Owner>(first.owner);
  auto owner = std::make_shared<Owner>();
  owner->dir = existing->dir;
  owner->path = existing->path;
  owner->options = existing->options;
  owner->store = OpenOrDie(owner->path, owner->options);
  return FromOwner(owner);
}

Stores OpenMemory() {
  auto owner = std::make_shared<Owner>();
  owner->path = ":memory:";
  owner->store = OpenOrDie(owner->path);
  return FromOwner(owner);
}

SqliteOptions NormalSync() {
  SqliteOptions o;
  o.synchronous = SqliteOptions::Synchronous::kNormal;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, PortsContractTest,
    ::testing::Values(ContractBackend{"File", [] { return OpenFile({}); }, Reopen},
                      ContractBackend{"FileNormalSync", [] { return OpenFile(NormalSync()); }, Reopen},
                      ContractBackend{"Memory", OpenMemory, nullptr}),
    contract::ContractBackendName);

}  // namespace
}  // namespace gb::storage
