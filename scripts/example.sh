#!/bin/bash
# Builds cwld and the local images, then runs the word-count example
# (examples/wordcount) and prints its output object and report. Run
# scripts/install-deps.sh once before.
#
# usage: scripts/example.sh [OUTDIR]   (default: a fresh directory under /tmp)
# env: CWLD_EXAMPLE_TIMEOUT (seconds, default 300)
set -euo pipefail

msg() { printf 'example: %s\n' "$*"; }
die() { printf 'example: error: %s\n' "$*" >&2; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
start=$(date +%s)

command -v cmake >/dev/null || die "cmake missing: run 'bash scripts/install-deps.sh' first"

msg "building cwld (build/) ..."
mkdir -p build
log=$repo/build/example-build.log
cmake -S . -B build >"$log" 2>&1 ||
	{ tail -n 30 "$log" >&2; die "cmake configure failed (log: $log)"; }
cmake --build build -j "$(nproc)" --target cwld >>"$log" 2>&1 ||
	{ grep -E 'error|undefined reference' "$log" | head -n 30 >&2; die "build failed (log: $log)"; }

bash scripts/build-images.sh </dev/null

outdir=${1:-$(mktemp -d /tmp/cwld-example.XXXXXX)}
mkdir -p "$outdir"
msg "running: build/cwld run --outdir $outdir examples/wordcount/wf.cwl examples/wordcount/job.yml"
t0=$(date +%s)
rc=0
# A hung run must not hang the caller (CI): give up after 5 minutes.
timeout -k 10 "${CWLD_EXAMPLE_TIMEOUT:-300}" \
	build/cwld run --outdir "$outdir" examples/wordcount/wf.cwl examples/wordcount/job.yml \
	>"$outdir/cwl.output.json" </dev/null || rc=$?
t1=$(date +%s)
case $rc in
0) ;;
124|137) die "cwld run did not finish within ${CWLD_EXAMPLE_TIMEOUT:-300}s" ;;
*) cat "$outdir/cwl.output.json" >&2; die "cwld run exited $rc" ;;
esac

msg "output object ($((t1 - t0))s):"
cat "$outdir/cwl.output.json"
echo
report=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"]["path"])' \
	"$outdir/cwl.output.json" 2>/dev/null || echo "$outdir/report.txt")
[ -f "$report" ] || die "report not found at '$report'"
msg "report ($report):"
cat "$report"
grep -q '^total: 173 words$' "$report" || die "unexpected report: expected 'total: 173 words'"
msg "ok in $(($(date +%s) - start))s"
