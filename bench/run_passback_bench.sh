#!/usr/bin/env bash
# Builds the release flavour (./scripts/build -> build/) and runs the passback benchmark once,
# printing the machine first. Extra arguments go to gb_bench_passback, e.g.
#   bench/run_passback_bench.sh --intake 40000 --learners 10000 --workers 128
# Environment: SKIP_BUILD=1 to reuse an existing build; BUILD_DIR=dir for another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel: $(uname -srm)"
echo "load average (other work on the machine): $(cut -d' ' -f1-3 /proc/loadavg)"
echo

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== build (./scripts/build)"
  ./scripts/build
  echo
fi

bench="${BUILD_DIR:-build}/bench/gb_bench_passback"
if [[ ! -x "$bench" ]]; then
  echo "no $bench; did the build succeed?" >&2
  exit 1
fi
echo "== $bench $*"
# The children's structured logs go to their own files; only the figures are printed here.
"$bench" "$@" 2> >(grep -v '^20[0-9][0-9]-' >&2)
