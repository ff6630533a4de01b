// `gradebridge sim …`: run the platform simulator, or drive a launch against one.
#pragma once

#include <string>
#include <vector>

namespace gb::app {

int RunSimCommand(const std::vector<std::string>& args);

// Blocks SIGINT/SIGTERM in this thread (and threads started after) and waits for one.
void BlockTerminationSignals();
void WaitForTerminationSignal();

}  // namespace gb::app
