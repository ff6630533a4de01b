// The `gradebridge` subcommands. Each returns the process exit code: 0 success, 1 runtime
// failure, 2 bad input (with a one-line error on stderr).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/config.h"

namespace gb::app {

int RunCli(int argc, char** argv);

int RunDemo(const Config& base_config, bool keep_running);

}  // namespace gb::app
