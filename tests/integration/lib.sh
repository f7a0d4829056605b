# Shared helpers for integration tests: a fresh temp dir, assertions that say
# what failed, and the built binary in $CWLD.
set -euo pipefail
: "${CWLD:?CWLD must point at the built cwld binary}"
: "${CWLD_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cwld-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
PASSES=0

ok() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}
# sql DB QUERY: one value per line, via python's sqlite3 (no CLI needed)
sql() {
	python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "$1" "$2"
}
# serve_start [ARGS...]: `cwld serve` on a free loopback port in the
# background (stdout in $TMP/serve.out, stderr appended to $TMP/serve.err);
# sets DPID and URL once it listens, else says why and fails.
serve_start() {
	: >"$TMP/serve.out"
	"$CWLD" serve --listen 127.0.0.1:0 "$@" >"$TMP/serve.out" 2>>"$TMP/serve.err" &
	DPID=$!
	URL=
	for _ in $(seq 1 200); do
		URL=$(sed -n 's/^listening on //p' "$TMP/serve.out")
		[ -n "$URL" ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "daemon did not start: $(tail -n 5 "$TMP/serve.err")"
	return 1
}
# serve_stop: SIGTERM, and its exit status
serve_stop() { kill -TERM "$DPID" 2>/dev/null && wait "$DPID"; }
