#!/bin/bash
# Benchmark of the daemon (issue 5), not a test: starts `cwld serve` on a
# free port with a fresh state dir and measures, printing each number:
#  1. resident memory idle, and after 100 finished runs in the database;
#  2. GET /api/v1/runs/{id} requests per second with wrk, 64 connections,
#     10 s, while 20 runs execute (each a 2-way scatter of 15 s sleeps on the
#     host, so that they are all running for the whole measurement);
#  3. the time from a step finishing to the next step's container starting
#     in a 20-step containerised chain (median and max, from the daemon's
#     own timestamps in SQLite: attempts' finished_at and the next one's
#     started_at, which is set as the container is created).
#
# usage: bench/serve.sh [--build-dir DIR]   (default: build/, built if missing)
# Needs wrk (apt-get install wrk) and the images of scripts/build-images.sh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build=$2; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "usage: bench/serve.sh [--build-dir DIR]" >&2; exit 2 ;;
	esac
	shift
done
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -x "$build/cwld" ] || { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build "$build" -j2 --target cwld >/dev/null; }
cwld=$build/cwld
work=$(mktemp -d "${TMPDIR:-/tmp}/cwld-bench-serve.XXXXXX")
pid=
finish() { [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap finish EXIT

# ---- documents --------------------------------------------------------------
python3 - "$work" <<'EOF'
import json, sys
d = sys.argv[1]
def w(name, obj):
    with open(f"{d}/{name}", "w") as f:
        json.dump(obj, f, indent=1)
w("echo.cwl", {"cwlVersion": "v1.2", "class": "CommandLineTool", "baseCommand": "echo",
    "inputs": {"msg": {"type": "string", "inputBinding": {"position": 1}}},
    "stdout": "out.txt", "outputs": {"out": {"type": "stdout"}}})
w("nap.cwl", {"cwlVersion": "v1.2", "class": "Workflow",
    "requirements": [{"class": "ScatterFeatureRequirement"}],
    "inputs": {"secs": {"type": "int[]", "default": [15, 15]}}, "outputs": {},
    "steps": {"nap": {"scatter": "secs", "in": {"secs": "secs"}, "out": [], "run": {
        "class": "CommandLineTool", "baseCommand": "sleep", "outputs": {},
        "inputs": {"secs": {"type": "int", "inputBinding": {"position": 1}}}}}}})
prefix = {"class": "CommandLineTool", "requirements": [{"class": "DockerRequirement",
    "dockerPull": "debian:stable-slim"}], "baseCommand": ["sed", "s/^/x/"],
    "inputs": {"f": {"type": "File", "inputBinding": {"position": 1}}},
    "stdout": "out.txt", "outputs": {"out": {"type": "stdout"}}}
steps = {}
for i in range(20):
    steps[f"s{i:02d}"] = {"run": prefix, "in": {"f": "seed" if i == 0 else f"s{i-1:02d}/out"},
                          "out": ["out"]}
w("chain20.cwl", {"cwlVersion": "v1.2", "class": "Workflow", "inputs": {"seed": "File"},
    "outputs": {"out": {"type": "File", "outputSource": "s19/out"}}, "steps": steps})
with open(f"{d}/seed.txt", "w") as f:
    f.write("hello\n")
EOF

"$cwld" serve -q --listen 127.0.0.1:0 --state-dir "$work/state" --root "$work" --slots 64 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 1 100); do
	url=$(sed -n 's/^listening on //p' "$work/serve.out")
	[ -n "$url" ] && break
	sleep 0.05
done
[ -n "$url" ] || { echo "bench: daemon did not start: $(cat "$work/serve.err")" >&2; exit 1; }
rss() { awk '/VmRSS/{printf "%.1f MiB", $2/1024}' "/proc/$pid/status"; }
submit() { curl -s "$url/api/v1/runs" -d "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["id"]) if "id" in v else sys.exit("bench: submit refused: " + json.dumps(v))'; }
state() { curl -sf "$url/api/v1/runs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
wait_done() { # RUN: until it has ended
	local s
	for _ in $(seq 1 1200); do
		s=$(state "$1")
		case $s in success | failed | cancelled) echo "$s"; return 0 ;; esac
		sleep 0.1
	done
	echo timeout
}

sleep 0.5
echo "bench: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), daemon $url"
echo "rss_idle=$(rss)"

ids=()
for i in $(seq 1 100); do ids+=("$(submit "{\"workflow\": \"echo.cwl\", \"inputs\": {\"msg\": \"m$i\"}}")"); done
for id in "${ids[@]}"; do [ "$(wait_done "$id")" = success ] || { echo "bench: run $id did not succeed" >&2; exit 1; }; done
echo "rss_after_100_finished_runs=$(rss)"

naps=()
for i in $(seq 1 20); do naps+=("$(submit '{"workflow": "nap.cwl"}')"); done
sleep 1
running=$(curl -sf "$url/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"]["running"])')
echo "runs_running_during_load=$running"
wrk -t 2 -c 64 -d 10s --latency "$url/api/v1/runs/${ids[0]}" >"$work/wrk.txt"
echo "get_run_rps=$(awk '/Requests\/sec/{print $2}' "$work/wrk.txt") (wrk -t2 -c64 -d10s, $running runs executing)"
echo "get_run_latency_p50=$(awk '/ 50%/{print $2}' "$work/wrk.txt") p99=$(awk '/ 99%/{print $2}' "$work/wrk.txt")"
echo "rss_under_load=$(rss)"
for id in "${naps[@]}"; do wait_done "$id" >/dev/null; done

chain=$(submit "{\"workflow\": \"chain20.cwl\", \"inputs\": {\"seed\": {\"class\": \"File\", \"path\": \"seed.txt\"}}}")
[ "$(wait_done "$chain")" = success ] || { echo "bench: the chain failed: $(curl -s "$url/api/v1/runs/$chain" | head -c 2000)" >&2; exit 1; }
python3 - "$work/state/cwld.db" "$chain" <<'EOF'
import sqlite3, sys, statistics
from datetime import datetime
db = sqlite3.connect(sys.argv[1])
rows = db.execute("""select s.name, a.started_at, a.finished_at from steps s join attempts a
    on a.step_id = s.id where s.run_id = ? order by s.name""", (sys.argv[2],)).fetchall()
t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
gaps = [(t(rows[i + 1][1]) - t(rows[i][2])) * 1000 for i in range(len(rows) - 1)]
print(f"chain20_step_gap_ms median={statistics.median(gaps):.1f} max={max(gaps):.1f} "
      f"(finished_at of a step to started_at of the next, {len(gaps)} gaps)")
EOF
