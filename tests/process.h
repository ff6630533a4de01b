// Child processes for end-to-end tests: start `gradebridge` subcommands, wait for the port they
// bound (via --port-file), run one-shot CLI commands and capture their output. Every wait is
// bounded so a hung child fails the test instead of hanging CI.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace gb::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs to completion (bounded by `timeout`), capturing stdout and stderr.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

class ChildProcess {
 public:
  // Starts argv with stdout/stderr appended to log_path.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` and waits up to `timeout` for exit; returns the exit status or -1 on timeout.
  int Stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  bool Running();
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  int status_ = -1;
};

// Polls for a file holding a port number written by the child; 0 on timeout.
int WaitForPortFile(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A fresh temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Path of the gradebridge binary under test (compiled in).
std::string GradebridgeBinary();

}  // namespace gb::testing
