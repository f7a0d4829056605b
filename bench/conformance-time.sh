#!/bin/bash
# Times the whole CWL v1.2 conformance suite with cwld and with the reference
# runner (cwltool from PyPI, in its own venv) at the same parallelism, one
# after the other on this machine, and prints both times and their ratio.
# Not a test: it needs a few minutes and a quiet machine.
# usage: bench/conformance-time.sh [-j N] [--version v1.2|v1.3]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=2 version=v1.2
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift ;;
	--version) version=$2; shift ;;
	*) echo "usage: $0 [-j N] [--version v1.2|v1.3]" >&2; exit 2 ;;
	esac
	shift
done
cache=${CWLD_CACHE_DIR:-$HOME/.cache/cwld}
shared=${CWLD_SHARED_DIR:-$repo/../shared}
suite=$shared/conformance/cwl-$version/conformance_tests.yaml
cwltest=$cache/venv/bin/cwltest
[ -x "$cwltest" ] || bash "$repo/scripts/install-deps.sh"
if [ ! -x "$cache/cwltool-venv/bin/cwltool" ]; then
	python3 -m venv "$cache/cwltool-venv"
	"$cache/cwltool-venv/bin/pip" install -q cwltool
fi
[ -x "$repo/build/cwl-runner" ] || { cmake -S "$repo" -B "$repo/build" >/dev/null && cmake --build "$repo/build" -j2 >/dev/null; }
bash "$repo/scripts/build-images.sh" >/dev/null

# run NAME TOOL: prints "NAME seconds passed/total"
run() {
	local name=$1 tool=$2 dir t0 t1
	dir=$(mktemp -d)
	t0=$(date +%s.%N)
	(cd "$dir" && PATH=$(dirname "$tool"):$PATH "$cwltest" --test "$suite" --tool "$tool" \
		-j "$jobs" --timeout 300 >"$dir/log" 2>&1) || true
	t1=$(date +%s.%N)
	printf '%-8s %8.1f s   %s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$(tail -n 1 "$dir/log")"
	echo "$t1 - $t0" | bc >"$dir/secs"
	cat "$dir/secs" >>"$OUT"
	rm -rf "$dir"
}
OUT=$(mktemp)
echo "CWL $version conformance, -j $jobs, $(nproc) cores"
run cwltool "$cache/cwltool-venv/bin/cwltool"
run cwld "$repo/build/cwl-runner"
awk 'NR==1{a=$1} NR==2{b=$1} END{printf "ratio cwld/cwltool: %.3f (cwld %.1fx faster)\n", b/a, a/b}' "$OUT"
rm -f "$OUT"
