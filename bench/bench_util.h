// Small helpers the benchmark drivers share: a process's memory and CPU from /proc, and how to
// print them. Linux only, like the benchmarks.
#pragma once

#include <sys/types.h>

#include <string>

namespace gb::bench {

struct Rss {
  long rss_kb = -1;  // VmRSS
  long hwm_kb = -1;  // VmHWM: the peak since the process started
};
Rss ReadRss(pid_t pid);

// user+sys CPU seconds of a process so far (all threads), from /proc/<pid>/stat.
double ProcessCpuSeconds(pid_t pid);

// "12.3 MB", or "n/a" for a negative value.
std::string Mb(long kb);

}  // namespace gb::bench
