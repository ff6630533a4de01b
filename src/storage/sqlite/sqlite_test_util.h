// Test helpers: SqliteStores on fresh temporary files, removed with the last handle.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/sqlite/sqlite_store.h"

namespace gb::storage::test_util {

// A temporary directory, removed (with everything in it) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gb-storage-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path, SqliteOptions options = {}) {
  auto store = SqliteStore::Open(path, options);
  if (!store.ok()) throw std::runtime_error("opening " + path + ": " + store.status().ToString());
  return std::move(store).value();
}

// A store on a fresh file in its own temporary directory; the directory goes when the last
// shared_ptr does. `dir` receives the directory's shared handle, so a second store on the same
// file can keep it alive too.
inline std::shared_ptr<SqliteStore> TempFileStore(std::shared_ptr<TempDir>* dir_out = nullptr,
                                                  SqliteOptions options = {}) {
  auto dir = std::make_shared<TempDir>();
  std::shared_ptr<SqliteStore> store(OpenOrDie(dir->File("gb.db"), options).release(),
                                     [dir](SqliteStore* s) { delete s; });
  if (dir_out) *dir_out = dir;
  return store;
}

}  // namespace gb::storage::test_util
