#!/usr/bin/env bash
# Builds the release flavour (./scripts/build -> build/) and runs the launch benchmark RUNS times
# (default 3), then prints the median of each figure. Extra arguments go to gb_bench_launch, e.g.
#   bench/run_launch_bench.sh --logins 100000 --launches 40000 --connections 64
# Environment: RUNS=N (default 3); SKIP_BUILD=1 to reuse an existing build; BUILD_DIR=dir to take
# the benchmark from another RelWithDebInfo build directory (default build/, as ./scripts/build makes).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "kernel: $(uname -srm)"
echo "memory: $(grep -m1 MemTotal /proc/meminfo | awk '{printf "%.1f GB", $2/1024/1024}')"
echo "load average (other work on the machine): $(cut -d' ' -f1-3 /proc/loadavg)"
echo "compiler: $(c++ --version | head -n1)"
echo "openssl: $(openssl version 2>/dev/null || echo 'not installed')"
echo

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== build (./scripts/build)"
  ./scripts/build
  echo
fi

bench="${BUILD_DIR:-build}/bench/gb_bench_launch"
if [[ ! -x "$bench" ]]; then
  echo "no $bench; did the build succeed?" >&2
  exit 1
fi

results=()
status=0
for ((i = 1; i <= runs; i++)); do
  echo "== run $i of $runs: $bench --json $*"
  extra=()
  # openssl speed takes ~6 s and does not change between runs: once is enough.
  if ((i > 1)); then extra+=(--no-openssl-speed); fi
  out="$(mktemp)"
  if ! "$bench" --json "${extra[@]}" "$@" | tee "$out"; then status=1; fi
  line="$(grep '^RESULT_JSON ' "$out" | sed 's/^RESULT_JSON //' || true)"
  [[ -n "$line" ]] && results+=("$line")
  rm -f "$out"
  echo
done

if ((${#results[@]} > 0)) && command -v python3 >/dev/null; then
  echo "== median of ${#results[@]} run(s)"
  printf '%s\n' "${results[@]}" | python3 -c '
import json, statistics, sys
runs = [json.loads(l) for l in sys.stdin if l.strip()]
def med(get):
    vals = [v for v in (get(r) for r in runs) if v is not None]
    return statistics.median(vals) if vals else float("nan")
def phase(name, key):
    return med(lambda r: r.get(name, {}).get(key))
rows = [
    ("OIDC login /s", phase("login", "rate"), ">= 20000", lambda v: v >= 20000),
    ("  login p50 ms", phase("login", "p50_ms"), "", None),
    ("  login p99 ms", phase("login", "p99_ms"), "", None),
    ("  login server CPU us/login", med(lambda r: 1e6 * r["login"]["server_cpu_s"] / max(1, r["login"]["ok"]) if "login" in r else None), "", None),
    ("  login wrong status + transport", med(lambda r: r.get("login", {}).get("wrong_status", 0) + r.get("login", {}).get("transport_errors", 0)), "0", lambda v: v == 0),
    ("  login unfinished at cap", phase("login", "unfinished"), "", None),
    ("launch validation /s", phase("launch", "rate"), ">= 8000", lambda v: v >= 8000),
    ("  launch p50 ms", phase("launch", "p50_ms"), "", None),
    ("  launch p99 ms", phase("launch", "p99_ms"), "", None),
    ("  launch wrong status + transport", med(lambda r: r.get("launch", {}).get("wrong_status", 0) + r.get("launch", {}).get("transport_errors", 0)), "0", lambda v: v == 0),
    ("  launch unfinished at cap", phase("launch", "unfinished"), "", None),
    ("  launch server CPU us/launch", med(lambda r: 1e6 * r["launch"]["server_cpu_s"] / max(1, r["launch"]["ok"]) if "launch" in r else None), "", None),
    ("  fsync p50 us (work dir, probe)", med(lambda r: r.get("fsync_p50_us")), "", None),
    ("RSS idle MB", med(lambda r: r.get("idle_rss_kb")) / 1024, "< 30", lambda v: v < 30),
    ("RSS peak (VmHWM) MB", med(lambda r: r.get("peak_hwm_kb")) / 1024, "< 200", lambda v: v < 200),
    ("RSS after load MB", med(lambda r: r.get("rss_after_kb")) / 1024, "", None),
    ("RS256 verify /s (1 core, jose)", med(lambda r: r.get("verify_rate_1core")), "", None),
    ("ParseCompact+verify /s (1 core)", med(lambda r: r.get("parse_verify_rate_1core")), "", None),
    ("openssl speed rsa2048 verify/s", max(r.get("openssl_verify_rate", 0) for r in runs), "", None),
]
for name, v, target, ok in rows:
    verdict = "" if ok is None or v != v else ("met" if ok(v) else "NOT met")
    print(f"{name:34s} {v:12.2f}  {target:10s} {verdict}")
print("load average at the end of each run: " + "; ".join(r.get("load_average_end", "?") for r in runs))
launch = phase("launch", "rate"); verify = med(lambda r: r.get("verify_rate_1core"))
if verify and launch == launch:
    print(f"launch rate / 1-core RS256 verify rate: {100*launch/verify:.1f} %")
'
fi
exit "$status"
