#!/bin/bash
# Cancel and clean up on the real Docker engine: SIGINT (and SIGTERM) on a
# running containerised workflow leaves no container and marks the run
# cancelled in SQLite; after SIGKILL the containers stay until `cwld gc` (or
# the next cwld that talks to the engine) removes them, while containers of
# a live cwld process are left alone.
. "$(dirname "$0")/lib.sh"
bash "$CWLD_SOURCE_DIR/scripts/build-images.sh" >/dev/null
WF=$CWLD_SOURCE_DIR/tests/integration/data/sleepers.cwl
# count_run RUN [STATUS]: containers labelled with that run (in that status)
count_run() {
	local f="{\"label\":[\"cwld.run=$1\"]${2:+,\"status\":[\"$2\"]}}"
	curl -s --unix-socket /var/run/docker.sock -G 'http://d/containers/json' \
		--data-urlencode all=1 --data-urlencode "filters=$f" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
# start_run STATE: cwld run in the background; sets PID and RUN once both
# containers are running
start_run() {
	local s=$1 i
	"$CWLD" run --quiet --state-dir "$s" --outdir "$TMP/out" "$WF" >"$s.out" 2>"$s.err" &
	PID=$!
	RUN=
	for i in $(seq 1 300); do
		[ -z "$RUN" ] && [ -f "$s/cwld.db" ] && RUN=$(sql "$s/cwld.db" "select id from runs" 2>/dev/null || true)
		[ -n "$RUN" ] && [ "$(count_run "$RUN" running)" -ge 2 ] && return 0
		sleep 0.1
	done
	echo "run did not start its containers: $(cat "$s.err")"
	return 1
}

for sig in INT TERM; do
	S=$TMP/state-$sig
	mkdir -p "$S"
	start_run "$S"
	check "SIG$sig: both containers of run $RUN are there before" test "$(count_run "$RUN")" = 2
	t0=$(date +%s%N)
	kill -s "$sig" "$PID"
	set +e
	wait "$PID"
	rc=$?
	set -e
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "SIG$sig: cwld exits non-zero ($rc) within 15 s ($ms ms)" test "$rc" -ne 0 -a "$ms" -lt 15000
	check "SIG$sig: no container of the run left" test "$(count_run "$RUN")" = 0
	check "SIG$sig: run marked cancelled" test "$(sql "$S/cwld.db" "select state from runs where id='$RUN'")" = cancelled
	check "SIG$sig: no step left running" test "$(sql "$S/cwld.db" "select count(*) from steps where run_id='$RUN' and state in ('running','pending')")" = 0
	check "SIG$sig: the message says cancelled" grep -q "cancelled" "$S.err"
done

# SIGKILL: nothing can clean up; the containers outlive cwld.
S=$TMP/state-KILL
mkdir -p "$S"
start_run "$S"
kill -KILL "$PID"
{ wait "$PID"; } 2>/dev/null || true
check "SIGKILL: the containers outlive cwld" test "$(count_run "$RUN")" = 2
KILLED=$RUN
"$CWLD" gc --run "$KILLED" >"$TMP/gc.out"
check "gc removes the dead run's containers ($(cat "$TMP/gc.out"))" grep -q "^removed 2 containers" "$TMP/gc.out"
check "gc: none of the dead run left" test "$(count_run "$KILLED")" = 0
# A live cwld's containers are not touched by gc.
S2=$TMP/state-LIVE
mkdir -p "$S2"
start_run "$S2"
LIVE=$RUN LIVE_PID=$PID
"$CWLD" gc >"$TMP/gc2.out"
check "gc leaves the live run alone ($(cat "$TMP/gc2.out"))" test "$(count_run "$LIVE")" = 2
check "gc says it left them" grep -Eq "left [0-9]+ of live" "$TMP/gc2.out"

# The next cwld that talks to the engine sweeps orphans by itself.
kill -KILL "$LIVE_PID"
{ wait "$LIVE_PID"; } 2>/dev/null || true
check "SIGKILL again: containers outlive cwld" test "$(count_run "$LIVE")" = 2
"$CWLD" run --quiet --state-dir "$TMP/state-next" --outdir "$TMP/out-next" \
	"$CWLD_SOURCE_DIR/tests/integration/data/echo-docker.cwl" >/dev/null 2>"$TMP/next.err" || true
for i in $(seq 1 50); do [ "$(count_run "$LIVE")" = 0 ] && break; sleep 0.1; done
check "the next run removed the orphans" test "$(count_run "$LIVE")" = 0
finish
