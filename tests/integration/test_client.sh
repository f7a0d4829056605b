#!/bin/bash
# cwld submit/list/status/logs/cancel against a real `cwld serve` on
# 127.0.0.1:0 with a fresh state dir, tools on the host (--no-container):
# what each prints, the exit statuses (run failed 1, refused 2, daemon
# unreachable 3), step names with '/' in URLs, logs followed as written, a
# job's relative paths, and the bearer token.
. "$(dirname "$0")/lib.sh"
D=$CWLD_SOURCE_DIR/tests/integration/data
S=$TMP/state
W=$TMP/w
mkdir -p "$W/sub"

# start_daemon OUTFILE [ARGS...]: sets URL and DPID (the last one started)
start_daemon() {
	local out=$1
	shift
	"$CWLD" serve --listen 127.0.0.1:0 "$@" >"$out" 2>"$out.err" &
	DPID=$!
	URL=
	for _ in $(seq 1 100); do
		URL=$(sed -n 's/^listening on //p' "$out")
		[ -n "$URL" ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "daemon did not start: $(cat "$out.err")"
	return 1
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

# rc VAR COMMAND...: runs it with stdout in $TMP/out, stderr in $TMP/err and
# its exit status in VAR
rc() {
	local __v=$1
	shift
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	printf -v "$__v" '%s' "$?"
	set -e
}
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }
# wait_state RUN STATE: until `cwld status --json` says so (60 s)
wait_state() {
	local st=
	for _ in $(seq 1 600); do
		st=$("$CWLD" status --json "$1" | jget state)
		[ "$st" = "$2" ] && return 0
		sleep 0.1
	done
	echo "run $1 stayed '$st'"
	return 1
}
# column_of LINE WORD: the character offset of WORD in LINE
column_of() { python3 -c 'import sys; print(sys.argv[1].find(sys.argv[2]))' "$1" "$2"; }

start_daemon "$TMP/serve.out" --state-dir "$S" --root "$D" --root "$W"
PIDS+=("$DPID")
export CWLD_SERVER=$URL
check "daemon prints its address" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$URL"

# submit prints the id and nothing else
echo 'message: hi' >"$TMP/job.yml"
rc st "$CWLD" submit --no-container --label team=qa "$D/echo-tool.cwl" "$TMP/job.yml"
run=$(cat "$TMP/out")
check "submit exits 0" test "$st" = 0
check "submit prints only the run id" grep -qx '[0-9a-zA-Z_-]\+' "$TMP/out"
check "submit says nothing on stderr" test ! -s "$TMP/err"
check "the run succeeds" wait_state "$run" success

# status: fields, the step table, the outputs
rc st "$CWLD" status "$run"
check "status exits 0" test "$st" = 0
check "status shows the state" grep -qx 'state  *success' "$TMP/out"
check "status shows the process" grep -q "^process .*echo-tool.cwl" "$TMP/out"
check "status shows the labels" grep -qx 'labels  *team=qa' "$TMP/out"
check "status shows local times" grep -qE '^created  +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$TMP/out"
check "status has the step table header" grep -qE '^NAME +STATE +EXIT +IMAGE +DURATION$' "$TMP/out"
check "status lists step main: success, exit 0, on the host" grep -qE '^main +success +0 +- +[0-9.]+s$' "$TMP/out"
check "status prints the outputs when success" grep -q "\"location\": \"file://$S/outputs/$run/said.txt\"" "$TMP/out"
check "status --json is the daemon's run object" test "$("$CWLD" status --json "$run" | jget steps.0.attempts.0.exit_code)" = 0

# submit --wait prints the outputs
rc st "$CWLD" submit --no-container --wait --label team=qa --label n=2 "$D/echo-tool.cwl" "$TMP/job.yml"
check "submit --wait of a good run exits 0" test "$st" = 0
loc=$(jget out.path <"$TMP/out")
check "submit --wait prints the output object" test -n "$loc" -a "$(cat "$loc" 2>/dev/null)" = hi
check "submit --wait shows the step ending" grep -q 'step main: success, exit 0' "$TMP/err"
run2=$(sed -n 's/^cwld submit: run \([^ ]*\) submitted.*/\1/p' "$TMP/err")
check "submit --wait names the run on stderr" test -n "$run2"

# list: an aligned table, newest first, filters, --limit
rc st "$CWLD" list
check "list exits 0" test "$st" = 0
head=$(sed -n 1p "$TMP/out")
check "list header" grep -qE '^ID +STATE +CREATED +DURATION +PROCESS +LABELS$' <<<"$head"
line=$(grep "^$run " "$TMP/out" || true)
check "list shows the run with state, process and labels" grep -qE "^$run +success +[0-9-]+ [0-9:]+ +[0-9.]+s +echo-tool.cwl +team=qa$" <<<"$line"
check "list columns are aligned" test "$(column_of "$head" PROCESS)" = "$(column_of "$line" echo-tool.cwl)" -a \
	"$(column_of "$head" STATE)" = "$(column_of "$line" success)"
check "list is newest first" test "$(sed -n 2p "$TMP/out" | cut -d' ' -f1)" = "$run2"
check "labels are sorted" grep -q "^$run2 .* n=2,team=qa$" "$TMP/out"
check "list --limit 1 shows one run" test "$("$CWLD" list --limit 1 | wc -l)" = 2
check "list --label filters" test "$("$CWLD" list --label n=2 | tail -n +2 | cut -d' ' -f1)" = "$run2"
check "list --state failed has neither run" test -z "$("$CWLD" list --state failed | grep -e "$run" -e "$run2" || true)"
check "list --json gives the daemon's runs" test "$("$CWLD" list --json --label n=2 | jget runs.0.id)" = "$run2"

# a failing run: --wait exits 1, its logs tell why
rc st "$CWLD" submit --no-container --wait "$D/fail-tool.cwl"
check "submit --wait of a failing run exits 1 ($st)" test "$st" = 1
check "it says the run failed and why" grep -q "run .* failed: .*exited with code 3" "$TMP/err"
frun=$(sed -n 's/^cwld submit: run \([^ ]*\) submitted.*/\1/p' "$TMP/err")
rc st "$CWLD" logs "$frun" --stderr
check "logs --stderr of the only step (STEP left out)" test "$st" = 0 -a "$(cat "$TMP/out")" = "something broke"
rc st "$CWLD" logs "$frun" main --stderr --tail 1
check "logs STEP --tail 1" test "$st" = 0 -a "$(cat "$TMP/out")" = "something broke"
rc st "$CWLD" status "$frun"
check "status of the failed run shows its error" grep -q '^error  *.*exited with code 3' "$TMP/out"
check "status shows exit code 3" grep -qE '^main +failed +3 ' "$TMP/out"

# a nested step (its name has a '/'), followed as it writes; the job's
# relative File path is taken from the job's directory, not the cwd
cat >"$W/nested.cwl" <<'EOF'
cwlVersion: v1.2
class: Workflow
requirements: {SubworkflowFeatureRequirement: {}}
inputs: {data: File}
outputs: {out: {type: File, outputSource: outer/out}}
steps:
  outer:
    in: {data: data}
    out: [out]
    run:
      class: Workflow
      inputs: {data: File}
      outputs: {out: {type: File, outputSource: inner/out}}
      steps:
        inner:
          in: {data: data}
          out: [out]
          run:
            class: CommandLineTool
            inputs: {data: {type: File, inputBinding: {position: 1}}}
            baseCommand: [sh, -c, 'sleep 1; for i in 1 2 3; do echo "line $i" >&2; sleep 0.3; done; cat "$0"']
            stdout: copy.txt
            outputs: {out: {type: stdout}}
EOF
echo payload >"$W/sub/input.txt"
echo 'data: {class: File, path: input.txt}' >"$W/sub/job.yml"
nrun=$(cd / && "$CWLD" submit --no-container "$W/nested.cwl" "$W/sub/job.yml")
rc st "$CWLD" logs --follow "$nrun" outer/inner --stderr
check "logs --follow of step outer/inner exits 0" test "$st" = 0
check "logs --follow prints every line in order" test "$(cat "$TMP/out")" = "$(printf 'line 1\nline 2\nline 3')"
check "the nested run succeeds" wait_state "$nrun" success
check "the job's relative path was the job's directory's" \
	test "$(cat "$("$CWLD" status --json "$nrun" | jget outputs.out.path)")" = payload
check "status lists the nested step by its path" grep -qE '^outer/inner +success +0 ' <("$CWLD" status "$nrun")

# --inline sends the texts; the job from stdin
rc st "$CWLD" submit --inline --no-container --wait "$D/echo-tool.cwl" - <<<'message: inline'
check "submit --inline --wait exits 0" test "$st" = 0
check "the inline run said its message" test "$(cat "$(jget out.path <"$TMP/out")")" = inline

# cancel a running run (host sleeps), then again: a conflict
srun=$("$CWLD" submit --no-container --label kind=sleep "$D/sleepers.cwl")
check "the sleepers run starts" wait_state "$srun" running
rc st "$CWLD" cancel "$srun"
check "cancel exits 0" test "$st" = 0
check "cancel prints 'cancelled RUN_ID'" test "$(cat "$TMP/out")" = "cancelled $srun"
check "the run is cancelled" wait_state "$srun" cancelled
check "list --state cancelled shows it" test "$("$CWLD" list --state cancelled | tail -n +2 | cut -d' ' -f1)" = "$srun"
rc st "$CWLD" cancel "$srun"
check "cancelling it again is refused: exit 2 ($st)" test "$st" = 2
check "... saying it has ended (409)" grep -q "409" "$TMP/err"

# errors: refused requests exit 2 with the daemon's detail
rc st "$CWLD" status no-such-run
check "status of an unknown run exits 2 ($st)" test "$st" = 2
check "... with the daemon's 404" grep -q "cwld status: .*(HTTP 404, not_found)" "$TMP/err"
rc st "$CWLD" logs no-such-run main
check "logs of an unknown run exits 2 ($st)" test "$st" = 2
rc st "$CWLD" cancel no-such-run
check "cancel of an unknown run exits 2 ($st)" test "$st" = 2
rc st "$CWLD" submit /etc/passwd
check "a workflow outside the roots exits 2 ($st)" test "$st" = 2 -a -n "$(grep 'HTTP 403' "$TMP/err")"
rc st "$CWLD" submit --no-container "$D/echo-tool.cwl" <(echo 'message: 12')
check "a wrong input type exits 2 ($st) naming the input" test "$st" = 2 -a -n "$(grep message "$TMP/err")"
rc st "$CWLD" submit --label nonsense "$D/echo-tool.cwl"
check "a label without = is a usage error (2)" test "$st" = 2
rc st "$CWLD" list --state sleeping
check "an unknown state is a usage error (2)" test "$st" = 2
rc st "$CWLD" submit --help
check "submit --help exits 0 with a usage on stdout" test "$st" = 0 -a -n "$(grep '^usage: cwld submit' "$TMP/out")"

# a daemon with a token
start_daemon "$TMP/serve2.out" --state-dir "$TMP/state2" --root "$D" --token s3cret
PIDS+=("$DPID")
rc st "$CWLD" list --server "$URL"
check "no token: exit 2 ($st) with a hint" test "$st" = 2 -a -n "$(grep -e '--token' "$TMP/err")"
rc st "$CWLD" list --server "$URL" --token s3cret
check "--token is sent as a bearer token" test "$st" = 0
rc st env CWLD_TOKEN=s3cret "$CWLD" list --server "$URL"
check "\$CWLD_TOKEN is used too" test "$st" = 0
kill -TERM "$DPID" && wait "$DPID" || true

# no daemon: exit 3 naming the URL
kill -TERM "${PIDS[0]}" && wait "${PIDS[0]}" || true
rc st "$CWLD" list
check "no daemon: exit 3 ($st)" test "$st" = 3
check "... naming the URL" grep -qF "$CWLD_SERVER" "$TMP/err"
rc st "$CWLD" submit --no-container "$D/echo-tool.cwl" "$TMP/job.yml"
check "submit without a daemon exits 3 too" test "$st" = 3
finish
