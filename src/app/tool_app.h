// ToolApp: the composition root of `gradebridge serve` — opens storage, loads the data key and
// signing keys, builds the LTI services and the HTTP routes. The demo and the end-to-end tests
// create one in-process; `serve` wraps it in a process with signal handling.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "base/status.h"
#include "server/router.h"

namespace gb::app {

class ToolApp {
 public:
  // handle_signals: SIGINT/SIGTERM drain the server (the `serve` command).
  static Result<std::unique_ptr<ToolApp>> Create(const Config& config, bool handle_signals = false);
  ~ToolApp();

  // Binds (port 0 picks one) and serves on background threads.
  Status Start();
  uint16_t port() const;
  std::string public_url() const;
  // Graceful drain, then returns.
  void Stop();
  // Binds and serves on the calling thread until Stop() or a signal (the `serve` command).
  Status RunUntilSignalled();

 private:
  struct Impl;
  explicit ToolApp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Loads the 32-byte data key from `path`, creating it (mode 0600) when absent. Refuses a file
// readable by group or others, since it protects every private key in the database.
Result<std::string> LoadOrCreateDataKey(const std::string& path);

// Writes the bound port to `path` atomically (tests start servers on port 0 and read it back).
Status WritePortFile(const std::string& path, uint16_t port);

}  // namespace gb::app
