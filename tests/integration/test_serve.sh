#!/bin/bash
# cwld serve against real requests: a real daemon on 127.0.0.1:0 with a fresh
# state dir runs real workflows (on the host and in containers on the real
# Docker engine); bad requests get 4xx JSON errors and the daemon keeps
# answering; cancel stops containers; the bearer token is enforced; SIGTERM
# stops the daemon cleanly.
. "$(dirname "$0")/lib.sh"
bash "$CWLD_SOURCE_DIR/scripts/build-images.sh" >/dev/null
D=$CWLD_SOURCE_DIR/tests/integration/data
S=$TMP/state

# start_daemon [ARGS...]: sets URL and DPID
start_daemon() { serve_start -v --state-dir "$S" --root "$D" "$@"; }
stop_daemon() { serve_stop; }
trap 'kill -9 $DPID 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

# req METHOD PATH [curl args...]: body on stdout, status in $TMP/code
req() {
	local m=$1 p=$2
	shift 2
	curl -s -o "$TMP/body" -w '%{http_code}' -X "$m" "$URL$p" "$@" >"$TMP/code" || echo 000 >"$TMP/code"
	cat "$TMP/body"
}
code() { cat "$TMP/code"; }
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))' "$1"; }
# wait_state RUN STATE...: until the run is in one of the states (120 s:
# a loaded engine can be slow to create containers)
wait_state() {
	local run=$1 st
	shift
	for _ in $(seq 1 1200); do
		st=$(req GET "/api/v1/runs/$run" | jget state)
		for want in "$@"; do [ "$st" = "$want" ] && return 0; done
		sleep 0.1
	done
	echo "run $run stayed '$st'"
	return 1
}
is_json_error() { python3 -c 'import json,sys; v=json.load(sys.stdin); assert set(v) == {"error","detail"} and v["detail"], v' <"$TMP/body"; }

start_daemon
check "daemon prints its address" grep -q '^http://127.0.0.1:[0-9]*$' <<<"$URL"
check "GET /healthz answers ok" test "$(req GET /healthz | jget status)" = ok

# a host run from a path under the root, inputs as an object
run=$(req POST /api/v1/runs -H 'Content-Type: application/json' \
	-d '{"workflow": "echo-tool.cwl", "inputs": {"message": "over http"}, "no_container": true, "labels": {"team": "qa"}}' | jget id)
check "POST /api/v1/runs is 201 with an id" test "$(code)" = 201 -a -n "$run"
check "wait for the host run" wait_state "$run" success
out=$(req GET "/api/v1/runs/$run")
loc=$(jget outputs.out.location <<<"$out")
check "its output is in STATE/outputs/<run>" test "$loc" = "file://$S/outputs/$run/said.txt"
check "the output holds the message" test "$(cat "$S/outputs/$run/said.txt")" = "over http"
check "the run lists its step with exit code 0" test "$(jget steps.0.attempts.0.exit_code <<<"$out")" = 0
check "labels come back" test "$(jget labels.team <<<"$out")" = qa
# a relative input path starts at the first root
run_rel=$(req POST /api/v1/runs -d '{"workflow": "cat-tool.cwl", "no_container": true, "inputs": {"files": [{"class": "File", "path": "cache/stamp-tool.cwl"}]}}' | jget id)
check "a relative input path is taken from the first root ($(code))" test "$(code)" = 201
check "and the run succeeds" wait_state "$run_rel" success
check "list filters by label" test "$(req GET '/api/v1/runs?label=team=qa' | jget runs.0.id)" = "$run"
check "list filters by state" test "$(req GET '/api/v1/runs?state=failed' | jget runs)" = "[]"
check "stderr log of a finished step" test "$(req GET "/api/v1/runs/$run/steps/main/logs/stderr"; code)" = 200
check "the run's DAG is Python naming the workflow" grep -q "echo-tool.cwl" <(req GET "/api/v1/runs/$run/dag")

# a containerised workflow given inline, inputs as YAML text
wf=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$D/echo-docker.cwl")
run2=$(req POST /api/v1/runs -d "{\"workflow_text\": $wf}" | jget id)
check "inline workflow accepted" test "$(code)" = 201
check "wait for the container run" wait_state "$run2" success
check "its stdout output says hello" grep -qx hello "$(req GET "/api/v1/runs/$run2" | jget outputs.out.path)"

# a workflow given as a URL is fetched (here from a local web server)
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$D" >/dev/null 2>&1 &
HPID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$hport/" && break; sleep 0.05; done
run_url=$(req POST /api/v1/runs -d "{\"workflow\": \"http://127.0.0.1:$hport/echo-tool.cwl\", \"inputs\": {\"message\": \"fetched\"}, \"no_container\": true}" | jget id)
check "a workflow URL is accepted ($(code))" test "$(code)" = 201
check "and the fetched workflow runs" wait_state "$run_url" success
check "with its output" test "$(cat "$S/outputs/$run_url/said.txt")" = fetched
req POST /api/v1/runs -d "{\"workflow\": \"http://127.0.0.1:$hport/no-such.cwl\"}" >/dev/null
check "a URL that is not there is a 400 saying so" test "$(code)" = 400 -a -n "$(grep -o '404' "$TMP/body")"
kill "$HPID"
wait "$HPID" 2>/dev/null || true
req POST /api/v1/runs -d "{\"workflow\": \"http://127.0.0.1:$hport/echo-tool.cwl\"}" >/dev/null
check "a URL nobody answers is a 400" test "$(code)" = 400 -a -n "$(grep -o 'cannot fetch' "$TMP/body")"

# events: a finished run's stream is its final state, then the end
check "events of a finished run end with its state" grep -q '"state":"success"' <(curl -sN --max-time 5 "$URL/api/v1/runs/$run2/events")

# log lines as events: every line of the step's stderr, the unterminated
# last one too, then the run's end
run_chat=$(req POST /api/v1/runs -d '{"workflow": "chatty-tool.cwl", "no_container": true}' | jget id)
curl -sN --max-time 20 "$URL/api/v1/runs/$run_chat/events?logs=1" >"$TMP/chat.sse"
check "log events carry each stderr line" test "$(grep -c '^data: {"run".*"stream":"stderr","line":"tick [1-4]"' "$TMP/chat.sse")" = 4
check "and the last line without a newline" grep -q '"line":"no newline"' "$TMP/chat.sse"
check "the stream ends with the run's success" test "$(grep '^data: ' "$TMP/chat.sse" | tail -n 1 | grep -c '"state":"success"')" = 1
check "the step's events came too" grep -q '^event: step' "$TMP/chat.sse"

# metrics
req GET /metrics >"$TMP/metrics"
check "metrics count successful runs" grep -q '^cwld_runs{state="success"} 5$' "$TMP/metrics"
check "metrics have the step duration histogram" grep -q '^cwld_step_duration_seconds_count 5$' "$TMP/metrics"

# cancel a running containerised run: containers gone, state cancelled
run3=$(req POST /api/v1/runs -d '{"workflow": "sleepers.cwl"}' | jget id)
for _ in $(seq 1 300); do
	n=$(curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json \
		--data-urlencode "filters={\"label\":[\"cwld.run=$run3\"],\"status\":[\"running\"]}" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
check "both sleepers run in containers" test "$n" -ge 2
check "POST cancel is 202" test "$(req POST "/api/v1/runs/$run3/cancel" >/dev/null; code)" = 202
check "the cancelled run ends cancelled" wait_state "$run3" cancelled
n=$(curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json --data-urlencode all=1 \
	--data-urlencode "filters={\"label\":[\"cwld.run=$run3\"]}" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "no container of the cancelled run is left" test "$n" = 0
check "cancelling it again is a 409" test "$(req POST "/api/v1/runs/$run3/cancel" >/dev/null; code)" = 409

# bad requests: 4xx with a JSON error, and the daemon still answers
bad() { # DESCRIPTION WANT METHOD PATH [curl args]
	local d=$1 want=$2
	shift 2
	req "$@" >/dev/null
	check "$d: $want with a JSON error" test "$(code)" = "$want"
	check "$d: the error is {error, detail}" is_json_error
}
bad "malformed JSON" 400 POST /api/v1/runs -d '{"workflow": '
bad "not an object" 400 POST /api/v1/runs -d '[1, 2]'
bad "wrong type" 400 POST /api/v1/runs -d '{"workflow": 12}'
bad "unknown field" 400 POST /api/v1/runs -d '{"workflow": "echo-tool.cwl", "imputs": {}}'
bad "neither workflow nor text" 400 POST /api/v1/runs -d '{"inputs": {}}'
bad "missing file" 403 POST /api/v1/runs -d '{"workflow": "no-such.cwl"}'
bad "path escape with ../" 403 POST /api/v1/runs -d '{"workflow": "../../../etc/passwd"}'
ln -s /etc "$TMP/etc-link" 2>/dev/null || true
bad "absolute path outside the roots" 403 POST /api/v1/runs -d "{\"workflow\": \"$TMP/etc-link/passwd\"}"
bad "input file outside the roots" 403 POST /api/v1/runs -d '{"workflow": "cat-tool.cwl", "inputs": {"files": [{"class": "File", "path": "/etc/passwd"}]}}'
bad "a run: outside the roots" 403 POST /api/v1/runs -d '{"workflow_text": "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  x:\n    run: /etc/hostname\n    in: []\n    out: []\n"}'
check "the refusal names where the reference is" grep -q 'workflow.cwl:7' "$TMP/body"
bad "an \$import outside the roots" 403 POST /api/v1/runs -d "{\"workflow_text\": \"cwlVersion: v1.2\\nclass: CommandLineTool\\ninputs: {\$import: $D/../../../CMakeLists.txt}\\noutputs: []\\nbaseCommand: true\\n\"}"
bad "invalid CWL document" 400 POST /api/v1/runs -d '{"workflow_text": "cwlVersion: v1.2\nclass: CommandLineTool\ninputs: 12\n"}'
check "the document error names line and column" grep -q 'workflow.cwl:3' "$TMP/body"
bad "wrong input type" 400 POST /api/v1/runs -d '{"workflow": "echo-tool.cwl", "inputs": {"message": 12}}'
bad "bad label" 400 POST /api/v1/runs -d '{"workflow": "echo-tool.cwl", "labels": {"a b": "c"}}'
head -c 9000000 /dev/zero | tr '\0' 'x' >"$TMP/big"
bad "oversized body" 413 POST /api/v1/runs --data-binary @"$TMP/big"
bad "unknown run" 404 GET /api/v1/runs/0123456789abcdef0123
bad "malformed run id" 404 GET /api/v1/runs/..%2F..%2Fetc
bad "unknown endpoint" 404 GET /api/v2/nothing
bad "wrong method" 405 DELETE /api/v1/runs
bad "bad state filter" 400 GET '/api/v1/runs?state=done'
bad "bad page token" 400 GET '/api/v1/runs?page_token=zzz'
bad "unknown log stream" 404 GET "/api/v1/runs/$run/steps/main/logs/stdin"
check "after all that the daemon still answers" test "$(req GET /healthz | jget status)" = ok

# paging: 3 runs, pages of 2
for _ in 1 2; do req POST /api/v1/runs -d '{"workflow": "echo-tool.cwl", "inputs": {"message": "p"}, "no_container": true, "labels": {"page": "y"}}' >/dev/null; done
req POST /api/v1/runs -d '{"workflow": "echo-tool.cwl", "inputs": {"message": "p"}, "no_container": true, "labels": {"page": "y"}}' >/dev/null
p1=$(req GET '/api/v1/runs?label=page=y&limit=2')
tok=$(jget next_page_token <<<"$p1")
p2=$(req GET "/api/v1/runs?label=page=y&limit=2&page_token=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))' "$tok")")
check "first page has 2 runs and a token" test "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))' <<<"$p1")" = 2 -a -n "$tok"
check "second page has the third run and no token" test "$(python3 -c 'import json,sys; v=json.load(sys.stdin); print(len(v["runs"]), "next_page_token" in v)' <<<"$p2")" = "1 False"

check "SIGTERM stops the daemon with status 0" stop_daemon

# count_containers RUN [STATUS] and the containers the engine created for
# a run since a time (its event log; up to a second from now, since the
# engine's until is whole seconds and a create of this second would be cut)
count_containers() {
	local f="{\"label\":[\"cwld.run=$1\"]${2:+,\"status\":[\"$2\"]}}"
	curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json --data-urlencode all=1 \
		--data-urlencode "filters=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
created_since() { # RUN SINCE
	curl -s --unix-socket /var/run/docker.sock -G http://d/events --data-urlencode "since=$2" \
		--data-urlencode "until=$(($(date +%s) + 1))" \
		--data-urlencode "filters={\"type\":[\"container\"],\"event\":[\"create\"],\"label\":[\"cwld.run=$1\"]}" |
		grep -c '"create"' || true
}

# kill -9 in the middle of a containerised run: the next daemon takes its
# container over, runs the second step once, and the run succeeds; every
# step ran exactly once (one attempt in SQLite, one container created)
since=$(date +%s)
start_daemon
run4=$(req POST /api/v1/runs -d '{"workflow": "restart-wf.cwl"}' | jget id)
for _ in $(seq 1 600); do
	[ "$(count_containers "$run4" running)" -ge 1 ] && break
	sleep 0.1
done
check "the first step runs in a container" test "$(count_containers "$run4" running)" = 1
kill -9 "$DPID"
wait "$DPID" 2>/dev/null || true
check "its container outlives the killed daemon" test "$(count_containers "$run4" running)" = 1
start_daemon
check "the restarted daemon resumes the run" wait_state "$run4" success
out=$(req GET "/api/v1/runs/$run4")
check "the second step ran after the first's output" grep -qx 'after a restart: slept 4' "$(jget outputs.said.path <<<"$out")"
check "each step has exactly one attempt" test "$(sql "$S/cwld.db" "select group_concat(n) from (select count(*) n from attempts a join steps s on s.id=a.step_id where s.run_id='$run4' group by s.name)")" = "1,1"
check "exactly one step row per step" test "$(sql "$S/cwld.db" "select count(*) from steps where run_id='$run4'")" = 2
check "the engine created exactly two containers for the run" test "$(created_since "$run4" "$since")" = 2
# removal follows the step's result (the next step does not wait for it)
gone() { for _ in $(seq 1 100); do [ "$(count_containers "$1")" = 0 ] && return 0; sleep 0.1; done; return 1; }
check "and none is left" gone "$run4"

# kill -9 while a step runs on the host: its process cannot be adopted (it
# is not the next daemon's child: its exit status would be lost), so the
# next daemon kills its process group and runs the step again
run6=$(req POST /api/v1/runs -d '{"workflow": "restart-wf.cwl", "no_container": true}' | jget id)
hpid=
for _ in $(seq 1 600); do
	hpid=$(sql "$S/cwld.db" "select a.pid from attempts a join steps s on s.id=a.step_id where s.run_id='$run6' and s.name='nap' and a.pid is not null")
	[ -n "$hpid" ] && break
	sleep 0.05
done
check "the host step's process is recorded with its identity" test -n "$hpid" -a -n "$(sql "$S/cwld.db" "select pid_ident from attempts where pid=$hpid")"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null || true
# alive PID: exists and is not a zombie (an init that does not reap)
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }
group_alive() { local p; for p in $(pgrep -g "$1" || true); do alive "$p" && return 0; done; return 1; }
check "its process outlives the killed daemon" alive "$hpid"
check "with its child (sleep) in its process group" test "$(pgrep -g "$hpid" | wc -l)" -ge 2
start_daemon
group_gone() { for _ in $(seq 1 100); do group_alive "$1" || return 0; sleep 0.05; done; return 1; }
check "the restarted daemon kills the whole process group" group_gone "$hpid"
check "and resumes the run to success" wait_state "$run6" success
check "the step ran again: the killed attempt failed, the next succeeded" test "$(sql "$S/cwld.db" "select group_concat(a.state) from attempts a join steps s on s.id=a.step_id where s.run_id='$run6' and s.name='nap' order by a.number")" = "failed,success"
check "the killed attempt says so" grep -q "its process $hpid was killed" <(sql "$S/cwld.db" "select message from attempts where pid=$hpid")
check "the second step ran once" test "$(sql "$S/cwld.db" "select count(*) from attempts a join steps s on s.id=a.step_id where s.run_id='$run6' and s.name='speak'")" = 1

# a second daemon on another state directory leaves the first one's
# containers alone: its start-up sweep is for its own predecessor's
run7=$(req POST /api/v1/runs -d '{"workflow": "sleepers.cwl"}' | jget id)
for _ in $(seq 1 600); do
	[ "$(count_containers "$run7" running)" -ge 2 ] && break
	sleep 0.1
done
check "two sleepers run" test "$(count_containers "$run7" running)" = 2
label=$(curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json \
	--data-urlencode "filters={\"label\":[\"cwld.run=$run7\"]}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Labels"].get("cwld.state", ""))')
check "they carry the daemon's state directory ($label)" test "$label" = "$(realpath "$S")"
A_DPID=$DPID A_URL=$URL
serve_start -v --state-dir "$TMP/state-other" --root "$D"
check "another daemon's start leaves them running" test "$(count_containers "$run7" running)" = 2
serve_stop
DPID=$A_DPID URL=$A_URL
req POST "/api/v1/runs/$run7/cancel" >/dev/null
check "the first daemon still owns its run (cancelled)" wait_state "$run7" cancelled

# SIGTERM is a pause, not a cancel: the sleepers keep running and the next
# daemon takes both containers over; cancelling then removes them
run5=$(req POST /api/v1/runs -d '{"workflow": "sleepers.cwl"}' | jget id)
for _ in $(seq 1 600); do
	[ "$(count_containers "$run5" running)" -ge 2 ] && break
	sleep 0.1
done
ids_before=$(curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json \
	--data-urlencode "filters={\"label\":[\"cwld.run=$run5\"]}" | python3 -c 'import json,sys; print(" ".join(sorted(c["Id"] for c in json.load(sys.stdin))))')
check "SIGTERM stops the daemon (status 0)" stop_daemon
check "its containers go on running" test "$(count_containers "$run5" running)" = 2
start_daemon
check "the run is running again under the new daemon" test "$(req GET "/api/v1/runs/$run5" | jget state)" = running
ids_after=$(curl -s --unix-socket /var/run/docker.sock -G http://d/containers/json \
	--data-urlencode "filters={\"label\":[\"cwld.run=$run5\"]}" | python3 -c 'import json,sys; print(" ".join(sorted(c["Id"] for c in json.load(sys.stdin))))')
check "with the same two containers" test -n "$ids_before" -a "$ids_before" = "$ids_after"
req POST "/api/v1/runs/$run5/cancel" >/dev/null
check "cancelling the resumed run ends it cancelled" wait_state "$run5" cancelled
check "and removes its containers" test "$(count_containers "$run5")" = 0
stop_daemon

# a token: required on any request but /healthz
start_daemon --token s3cret
check "no token: 401" test "$(req GET /api/v1/runs >/dev/null; code)" = 401
check "wrong token: 401" test "$(req GET /api/v1/runs -H 'Authorization: Bearer nope' >/dev/null; code)" = 401
check "right token: 200" test "$(req GET /api/v1/runs -H 'Authorization: Bearer s3cret' >/dev/null; code)" = 200
check "healthz needs no token" test "$(req GET /healthz >/dev/null; code)" = 200
stop_daemon
set +e
"$CWLD" serve --listen 0.0.0.0:0 --state-dir "$S" >/dev/null 2>"$TMP/open.err"
rc=$?
set -e
check "a non-loopback address without a token is refused" test "$rc" = 2 -a -n "$(grep -- --token "$TMP/open.err")"
[ "$FAILS" = 0 ] || { echo "--- the daemons' log (last 80 lines)"; tail -n 80 "$TMP/serve.err"; }
finish
